package schoolcalendar

import (
	"fmt"
	"strings"
)

// Zone is a vacation zone: the winter and spring holidays differ by zone.
type Zone string

// The three zones of metropolitan France.
const (
	ZoneA Zone = "A"
	ZoneB Zone = "B"
	ZoneC Zone = "C"
)

// zones lists the zones in order.
var zones = []Zone{ZoneA, ZoneB, ZoneC}

// ParseZone reads "A", "B" or "C" (any case, surrounding spaces ignored).
func ParseZone(s string) (Zone, error) {
	z := Zone(strings.ToUpper(strings.TrimSpace(s)))
	if !z.valid() {
		return "", fmt.Errorf("vacation zone %q: not A, B or C", s)
	}
	return z, nil
}

func (z Zone) valid() bool {
	switch z {
	case ZoneA, ZoneB, ZoneC:
		return true
	}
	return false
}

// foldAcademy normalizes an académie's name so that "Orléans-Tours",
// "orleans tours" and "ORLEANS-TOURS" compare equal: lower case, accents
// dropped, hyphens, apostrophes and runs of spaces made one space.
func foldAcademy(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch r {
		case 'à', 'â', 'ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'î', 'ï':
			r = 'i'
		case 'ô', 'ö':
			r = 'o'
		case 'ù', 'û', 'ü':
			r = 'u'
		case 'ç':
			r = 'c'
		case '-', '\'', '’', ' ', '\t':
			r = ' '
		}
		if r == ' ' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
