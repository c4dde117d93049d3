package timetableimport

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schoollife/ledger/domain"
)

// edtEntities are the elements of EDT's export read whole.
var edtEntities = map[string]bool{
	"AnneeScolaire": true, "GrilleHoraire": true, "Matiere": true, "Professeur": true,
	"Classe": true, "Groupe": true, "Salle": true, "Cours": true, "Etablissement": true,
}

// ParseEDT reads EDT's XML export for digital workspaces (Index Éducation):
// AnneeScolaire (DatePremierJourSemaine1: the Monday of week 1),
// GrilleHoraire (its Place elements: Numero, LibelleHeureDebut,
// LibelleHeureFin), Matiere (Ident, Code, Libelle), Professeur (Ident,
// IDPN, Nom, Prenom, DateNaissance), Classe and Groupe (Ident, Nom), Salle
// and Cours: Jour (1 is Monday), NumeroPlaceDebut, NombrePlaces,
// SemainesAnnulation, and its Matiere, Professeur, Classe, Groupe and Salle
// each with the weeks it is held (Semaines: a bit per week, bit n for week
// n counted from week 1).
func ParseEDT(r io.Reader, maxBytes int64) (*Timetable, error) {
	b, warns, err := readUTF8(r, maxBytes)
	if err != nil {
		return nil, err
	}
	t := newTimetable(FormatEDT)
	t.Warnings = warns
	var week1 domain.Date
	places := map[string]domain.Slot{}
	var courses []*element
	err = walk(newDecoder(b), edtEntities, func(name string, attrs []xml.Attr) bool {
		// EDT lists its courses in a <Cours> holding <Cours> elements.
		return name == "Cours" && !hasAttr(attrs, "Jour")
	}, func(e *element) error {
		switch e.Name {
		case "Etablissement":
			t.UAI = strings.ToUpper(e.attr("UAI"))
		case "AnneeScolaire":
			d, err := parseDate(e.attr("DatePremierJourSemaine1"))
			if err != nil {
				return fmt.Errorf("line %d: AnneeScolaire: %w", e.Line, err)
			}
			week1 = d
		case "GrilleHoraire":
			for _, p := range e.children("Place") {
				s := domain.Slot{Start: clock(p.attr("LibelleHeureDebut")), End: clock(p.attr("LibelleHeureFin"))}
				if s.Validate() == nil {
					places[p.attr("Numero")] = s
				} else {
					t.Warnings = append(t.Warnings, Warning{Line: p.Line, Message: fmt.Sprintf("place %q: times %q-%q unreadable", p.attr("Numero"), p.attr("LibelleHeureDebut"), p.attr("LibelleHeureFin"))})
				}
			}
		case "Matiere":
			t.addSubject(e.Line, e.attr("Ident"), Subject{Code: e.attr("Code"), Label: e.attr("Libelle")})
		case "Professeur":
			bd, _ := parseDate(e.attr("DateNaissance"))
			t.addTeacher(e.Line, Teacher{Key: e.attr("Ident"), ID: e.attr("IDPN"), LastName: e.attr("Nom"), FirstName: e.attr("Prenom"), BirthDate: bd})
		case "Classe":
			t.addName(e.Line, t.Classes, "class", e.attr("Ident"), e.attr("Nom"))
		case "Groupe":
			t.addName(e.Line, t.Groups, "group", e.attr("Ident"), e.attr("Nom"))
		case "Salle":
			t.addName(e.Line, t.Rooms, "room", e.attr("Ident"), e.attr("Nom"))
		case "Cours":
			courses = append(courses, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("EDT export: %w", err)
	}
	if week1.IsZero() {
		return nil, fmt.Errorf("EDT export: no AnneeScolaire with DatePremierJourSemaine1")
	}
	if week1.Weekday() != time.Monday {
		// Weeks run Monday to Sunday; a week 1 given by another day
		// stands for its week.
		week1 = week1.AddDays(-((int(week1.Weekday()) + 6) % 7))
	}
	for _, e := range courses {
		c, err := edtCourse(e, week1, places)
		if err != nil {
			t.Rejected = append(t.Rejected, Rejection{Line: e.Line, Key: e.attr("Ident"), Reason: err.Error()})
			continue
		}
		t.Courses = append(t.Courses, c)
	}
	return t, nil
}

// maxWeeks is how many weeks a school year's masks hold at most.
const maxWeeks = 63

func edtCourse(e *element, week1 domain.Date, places map[string]domain.Slot) (Course, error) {
	day, err := strconv.Atoi(e.attr("Jour"))
	if err != nil || day < 1 || day > 6 {
		return Course{}, fmt.Errorf("Jour %q is not a day from 1 (Monday) to 6", e.attr("Jour"))
	}
	first, err := strconv.Atoi(e.attr("NumeroPlaceDebut"))
	if err != nil {
		return Course{}, fmt.Errorf("NumeroPlaceDebut %q is not a number", e.attr("NumeroPlaceDebut"))
	}
	n, err := strconv.Atoi(cmpOr(e.attr("NombrePlaces"), "1"))
	if err != nil || n < 1 || n > 24 {
		return Course{}, fmt.Errorf("NombrePlaces %q is not a number of places", e.attr("NombrePlaces"))
	}
	start, ok1 := places[strconv.Itoa(first)]
	end, ok2 := places[strconv.Itoa(first+n-1)]
	if !ok1 || !ok2 {
		return Course{}, fmt.Errorf("places %d to %d are not in the GrilleHoraire", first, first+n-1)
	}
	c := Course{Line: e.Line, Key: e.attr("Ident"), Weekday: time.Weekday(day), Slot: domain.Slot{Start: start.Start, End: end.End}}
	if err := c.Slot.Validate(); err != nil {
		return Course{}, fmt.Errorf("times %s: %w", c.Slot, err)
	}
	subjects := e.children("Matiere")
	if len(subjects) == 0 || subjects[0].attr("Ident") == "" {
		return Course{}, fmt.Errorf("no Matiere")
	}
	c.Subject = subjects[0].attr("Ident")
	cancelled, err := weekMask(e.attr("SemainesAnnulation"))
	if err != nil {
		return Course{}, fmt.Errorf("SemainesAnnulation: %w", err)
	}
	// Each item says its weeks; a week's part is the items held that week.
	type item struct {
		kind, key string
		mask      uint64
	}
	var items []item
	for _, kind := range []string{"Professeur", "Classe", "Groupe", "Salle"} {
		for _, it := range e.children(kind) {
			s := it.attr("Semaines")
			if s == "" {
				s = it.attr("SemainesInclusion")
			}
			mask := ^uint64(0)
			if s != "" {
				if mask, err = weekMask(s); err != nil {
					return Course{}, fmt.Errorf("%s %s: Semaines: %w", kind, it.attr("Ident"), err)
				}
			}
			items = append(items, item{kind, it.attr("Ident"), mask &^ cancelled})
		}
	}
	parts := map[string]int{}
	for w := 1; w <= maxWeeks; w++ {
		var p Part
		for _, it := range items {
			if it.mask&(1<<w) == 0 {
				continue
			}
			switch it.kind {
			case "Professeur":
				p.Teachers = append(p.Teachers, it.key)
			case "Classe":
				p.Classes = append(p.Classes, it.key)
			case "Groupe":
				p.Groups = append(p.Groups, it.key)
			case "Salle":
				p.Rooms = append(p.Rooms, it.key)
			}
		}
		if len(p.Classes)+len(p.Groups) == 0 {
			continue
		}
		key := strings.Join(p.Teachers, ",") + "|" + strings.Join(p.Classes, ",") + "|" + strings.Join(p.Groups, ",") + "|" + strings.Join(p.Rooms, ",")
		monday := week1.AddDays(7 * (w - 1))
		if i, ok := parts[key]; ok {
			c.Parts[i].Weeks.Mondays = append(c.Parts[i].Weeks.Mondays, monday)
			continue
		}
		p.Weeks = Weeks{Listed: true, Mondays: []domain.Date{monday}}
		parts[key] = len(c.Parts)
		c.Parts = append(c.Parts, p)
	}
	if len(c.Parts) == 0 {
		return Course{}, fmt.Errorf("held in no week for any class or group")
	}
	return c, nil
}

// weekMask reads a Semaines value: a decimal number, bit n for week n.
func weekMask(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a mask of weeks", s)
	}
	return v, nil
}

// clock reads the times exports write: "08:00", "8h00", "08h", "0800".
func clock(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("h", ":", ".", ":").Replace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok && len(s) == 4 {
		h, m = s[:2], s[2:]
	}
	if m == "" {
		m = "00"
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return s
	}
	return fmt.Sprintf("%02d:%02d", hh, mm)
}

// parseDate reads the dates exports write: 2026-08-31, 31/08/2026,
// 20260831.
func parseDate(s string) (domain.Date, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "T "); i > 0 {
		s = s[:i]
	}
	for _, layout := range []string{time.DateOnly, "02/01/2006", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1900 || t.Year() > 2200 {
				return domain.Date{}, fmt.Errorf("date %q is out of range", s)
			}
			return domain.DateOf(t), nil
		}
	}
	return domain.Date{}, fmt.Errorf("date %q is not YYYY-MM-DD or DD/MM/YYYY", s)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hasAttr(attrs []xml.Attr, name string) bool {
	return slices.ContainsFunc(attrs, func(a xml.Attr) bool { return a.Name.Local == name })
}
