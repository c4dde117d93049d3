package timetableimport

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/domain/schoolcalendar"
)

// udtEntities are the elements of UnDeuxTemps' export read whole.
var udtEntities = map[string]bool{
	"demi_seq": true, "mat": true, "prof": true, "div": true, "gpe": true, "rgpmt": true,
	"salle": true, "fiche": true, "ligfiche": true, "coens": true, "uai": true,
}

// ParseUDT reads UnDeuxTemps' XML export (its UDCal files, concatenated
// or as one document): demi_seq (code, code_jour, code_site, hre_deb,
// hre_fin: the half-sequences of each day), mat (code, libelle), prof
// (code, epj: the teacher's join id in the directory, nom, prenom), div
// (code, nom: classes), gpe (code_div, code, nom: groups of a class),
// rgpmt (code, nom: groups across classes), salle (code, nom), fiche
// (code, jour, demi_seq, site, and semaine for alternating weeks: A or B,
// also written 1 or 2, Q1 or Q2), ligfiche (fic, div, mat, prof, salle,
// gpe, rgpmt: what a fiche holds) and coens (lignefic, prof, epj: a
// co-teacher). The ligfiches of one class, subject, teacher, group and room
// on consecutive half-sequences of a day make one lesson.
func ParseUDT(r io.Reader, maxBytes int64) (*Timetable, error) {
	b, warns, err := readUTF8(r, maxBytes)
	if err != nil {
		return nil, err
	}
	t := newTimetable(FormatUDT)
	t.Warnings = warns
	type halfSeq struct {
		slot domain.Slot
	}
	halves := map[string]halfSeq{} // jour|code|site
	type fiche struct {
		day   int
		half  int
		site  string
		label schoolcalendar.WeekLabel
		line  int
	}
	fiches := map[string]fiche{}
	var lines []*element
	coens := map[string][]string{} // fiche -> teacher keys
	err = walk(newDecoder(b), udtEntities, func(string, []xml.Attr) bool { return false }, func(e *element) error {
		switch e.Name {
		case "uai":
			t.UAI = strings.ToUpper(cmp.Or(e.attr("code"), e.Text))
		case "demi_seq":
			s := domain.Slot{Start: clock(e.attr("hre_deb")), End: clock(e.attr("hre_fin"))}
			if s.Validate() != nil {
				t.warn(e.Line, "half-sequence %q: times %q-%q unreadable", e.attr("code"), e.attr("hre_deb"), e.attr("hre_fin"))
				return nil
			}
			halves[e.attr("code_jour")+"|"+trimZeros(e.attr("code"))+"|"+e.attr("code_site")] = halfSeq{s}
		case "mat":
			t.addSubject(e.Line, e.attr("code"), Subject{Code: e.attr("code"), Label: e.attr("libelle")})
		case "prof":
			t.addTeacher(e.Line, Teacher{Key: e.attr("code"), ID: e.attr("epj"), LastName: e.attr("nom"), FirstName: e.attr("prenom")})
		case "div":
			t.addName(e.Line, t.Classes, "class", e.attr("code"), cmp.Or(e.attr("nom"), e.attr("code")))
		case "gpe":
			key := e.attr("code_div") + "|" + e.attr("code")
			t.addName(e.Line, t.Groups, "group", key, cmp.Or(e.attr("nom"), e.attr("code")))
		case "rgpmt":
			t.addName(e.Line, t.Groups, "group", "rgpmt|"+e.attr("code"), e.attr("nom"))
		case "salle":
			t.addName(e.Line, t.Rooms, "room", e.attr("code"), cmp.Or(e.attr("nom"), e.attr("code")))
		case "fiche":
			day, err1 := strconv.Atoi(e.attr("jour"))
			half, err2 := strconv.Atoi(trimZeros(e.attr("demi_seq")))
			label, ok := weekLabel(cmp.Or(e.attr("semaine"), e.attr("quinzaine")))
			if err1 != nil || err2 != nil || day < 1 || day > 6 || !ok {
				t.Rejected = append(t.Rejected, Rejection{Line: e.Line, Key: e.attr("code"),
					Reason: fmt.Sprintf("fiche: jour %q, demi_seq %q or semaine %q unreadable", e.attr("jour"), e.attr("demi_seq"), e.attr("semaine"))})
				return nil
			}
			fiches[e.attr("code")] = fiche{day, half, e.attr("site"), label, e.Line}
		case "ligfiche":
			lines = append(lines, e)
		case "coens":
			coens[e.attr("lignefic")] = append(coens[e.attr("lignefic")], e.attr("prof"))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("UDT export: %w", err)
	}
	// Group the lines of one lesson, then merge consecutive half-sequences.
	type run struct {
		key   string
		f     fiche
		first *element
		end   domain.Slot
		last  int
		teach []string
	}
	var items []run
	for _, e := range lines {
		f, ok := fiches[e.attr("fic")]
		if !ok {
			t.Rejected = append(t.Rejected, Rejection{Line: e.Line, Key: e.attr("code"), Reason: fmt.Sprintf("fiche %q is not in the export", e.attr("fic"))})
			continue
		}
		if e.attr("div") == "" && e.attr("rgpmt") == "" {
			t.Rejected = append(t.Rejected, Rejection{Line: e.Line, Key: e.attr("code"), Reason: "no class (div) nor group"})
			continue
		}
		key := strings.Join([]string{e.attr("div"), e.attr("mat"), e.attr("prof"), e.attr("gpe"), e.attr("rgpmt"), e.attr("salle"),
			strconv.Itoa(f.day), f.site, string(f.label)}, "|")
		items = append(items, run{key: key, f: f, first: e, last: f.half, teach: coens[e.attr("fic")]})
	}
	slices.SortStableFunc(items, func(a, b run) int { return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.f.half, b.f.half)) })
	seen := map[string]int{}
	for i := 0; i < len(items); {
		r := items[i]
		j := i + 1
		for j < len(items) && items[j].key == r.key && items[j].f.half <= r.last+1 {
			r.last = max(r.last, items[j].f.half)
			r.teach = append(r.teach, items[j].teach...)
			j++
		}
		i = j
		e := r.first
		start, ok1 := halves[strconv.Itoa(r.f.day)+"|"+strconv.Itoa(r.f.half)+"|"+r.f.site]
		end, ok2 := halves[strconv.Itoa(r.f.day)+"|"+strconv.Itoa(r.last)+"|"+r.f.site]
		if !ok1 || !ok2 {
			t.Rejected = append(t.Rejected, Rejection{Line: e.Line, Key: e.attr("code"),
				Reason: fmt.Sprintf("half-sequences %d to %d of day %d are not in the export", r.f.half, r.last, r.f.day)})
			continue
		}
		c := Course{Line: e.Line, Key: e.attr("code"), Weekday: time.Weekday(r.f.day),
			Slot: domain.Slot{Start: start.slot.Start, End: end.slot.End}, Subject: e.attr("mat")}
		p := Part{Weeks: Weeks{Label: r.f.label}}
		if e.attr("prof") != "" {
			p.Teachers = append(p.Teachers, e.attr("prof"))
		}
		for _, k := range r.teach {
			if k != "" && !slices.Contains(p.Teachers, k) {
				p.Teachers = append(p.Teachers, k)
			}
		}
		switch {
		case e.attr("rgpmt") != "":
			p.Groups = []string{"rgpmt|" + e.attr("rgpmt")}
		case e.attr("gpe") != "":
			p.Groups = []string{e.attr("div") + "|" + e.attr("gpe")}
		default:
			p.Classes = []string{e.attr("div")}
		}
		if e.attr("salle") != "" {
			p.Rooms = []string{e.attr("salle")}
		}
		c.Parts = []Part{p}
		dup := fmt.Sprintf("%s|%s", r.key, c.Slot)
		if l, ok := seen[dup]; ok {
			t.warn(e.Line, "the lesson of line %d is given again: read once", l)
			continue
		}
		seen[dup] = e.Line
		t.Courses = append(t.Courses, c)
	}
	return t, nil
}

// weekLabel reads an alternation: A or B (1 or 2, Q1 or Q2), or every week.
func weekLabel(s string) (schoolcalendar.WeekLabel, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "0":
		return "", true
	case "A", "1", "Q1", "SA":
		return schoolcalendar.WeekA, true
	case "B", "2", "Q2", "SB":
		return schoolcalendar.WeekB, true
	}
	return "", false
}

func trimZeros(s string) string {
	s = strings.TrimLeft(strings.TrimSpace(s), "0")
	if s == "" {
		return "0"
	}
	return s
}
