package schoolcalendar

import (
	_ "embed"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/schoollife/ledger/domain"
)

//go:embed calendar.yaml
var shipped []byte

// file is the shape of the calendar data.
type file struct {
	Zones map[Zone][]string `yaml:"zones"`
	Years []yearData        `yaml:"years"`
}

type yearData struct {
	Name     string        `yaml:"name"`
	Source   string        `yaml:"source"`
	Rentree  domain.Date   `yaml:"rentree"`
	Holidays []holidayData `yaml:"holidays"`
}

type holidayData struct {
	Name string `yaml:"name"`
	span `yaml:",inline"`
	// ByZone gives the span of each zone when the zones differ.
	ByZone map[Zone]span `yaml:"by_zone"`
}

// span is a holiday as the arrêtés write it: classes stop after class on
// AfterClass and resume on the morning of Resume. A zero Resume (only for
// the summer holidays) means the next school year's rentrée.
type span struct {
	AfterClass domain.Date `yaml:"after_class"`
	Resume     domain.Date `yaml:"resume"`
}

// parse reads and checks calendar data.
func parse(data []byte) (file, error) {
	var f file
	if err := yaml.Unmarshal(data, &f); err != nil {
		return file{}, fmt.Errorf("read school calendar: %w", err)
	}
	if err := f.check(); err != nil {
		return file{}, fmt.Errorf("school calendar: %w", err)
	}
	return f, nil
}

func (f file) check() error {
	seen := map[string]Zone{}
	for z, academies := range f.Zones {
		if !z.valid() {
			return fmt.Errorf("zone %q: not A, B or C", z)
		}
		for _, a := range academies {
			k := foldAcademy(a)
			if k == "" {
				return fmt.Errorf("zone %s: an empty académie", z)
			}
			if other, dup := seen[k]; dup {
				return fmt.Errorf("académie %q in zones %s and %s", a, other, z)
			}
			seen[k] = z
		}
	}
	if len(f.Years) == 0 {
		return fmt.Errorf("no school year")
	}
	for i, y := range f.Years {
		if err := y.check(); err != nil {
			return fmt.Errorf("year %q: %w", y.Name, err)
		}
		if i == 0 {
			continue
		}
		prev := f.Years[i-1]
		if !prev.summer().AfterClass.Before(y.Rentree) {
			return fmt.Errorf("year %q starts on %s, before the summer holidays of %q", y.Name, y.Rentree, prev.Name)
		}
	}
	return nil
}

func (y yearData) check() error {
	if y.Name == "" || y.Source == "" || y.Rentree.IsZero() {
		return fmt.Errorf("name, source and rentree are required")
	}
	if len(y.Holidays) == 0 {
		return fmt.Errorf("no holidays")
	}
	last := y.Rentree
	for i, h := range y.Holidays {
		if h.Name == "" {
			return fmt.Errorf("holiday %d: no name", i+1)
		}
		summer := i == len(y.Holidays)-1
		if summer && len(h.ByZone) > 0 {
			return fmt.Errorf("%s: the summer holidays are common to all zones", h.Name)
		}
		spans, err := h.spans()
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		next := last
		for z, s := range spans {
			if s.AfterClass.Before(last) {
				return fmt.Errorf("%s (zone %s): starts on %s, before %s", h.Name, z, s.AfterClass, last)
			}
			switch {
			case s.Resume.IsZero() && !summer:
				return fmt.Errorf("%s (zone %s): no resume date (only the last holiday, the summer's, may omit it)", h.Name, z)
			case !s.Resume.IsZero() && !s.AfterClass.AddDays(1).Before(s.Resume):
				return fmt.Errorf("%s (zone %s): resumes on %s, not after %s", h.Name, z, s.Resume, s.AfterClass)
			}
			if s.Resume.After(next) {
				next = s.Resume
			}
		}
		last = next
	}
	return nil
}

// spans returns the span of each zone.
func (h holidayData) spans() (map[Zone]span, error) {
	out := make(map[Zone]span, len(zones))
	if len(h.ByZone) == 0 {
		if h.AfterClass.IsZero() {
			return nil, fmt.Errorf("no after_class date")
		}
		for _, z := range zones {
			out[z] = h.span
		}
		return out, nil
	}
	if !h.AfterClass.IsZero() || !h.Resume.IsZero() {
		return nil, fmt.Errorf("both common dates and dates by zone")
	}
	for _, z := range zones {
		s, ok := h.ByZone[z]
		if !ok || s.AfterClass.IsZero() {
			return nil, fmt.Errorf("no dates for zone %s", z)
		}
		out[z] = s
	}
	for z := range h.ByZone {
		if !slices.Contains(zones, z) {
			return nil, fmt.Errorf("zone %q: not A, B or C", z)
		}
	}
	return out, nil
}

// summer is the span of the year's last holiday, the summer's.
func (y yearData) summer() span { return y.Holidays[len(y.Holidays)-1].span }
