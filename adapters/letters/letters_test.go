package letters_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/schoollife/ledger/adapters/letters"
	"github.com/schoollife/ledger/domain"
)

func sample() []letters.Letter {
	return []letters.Letter{{
		Template: domain.LetterUnjustifiedAbsences, Establishment: "Collège Frédéric-Mistral",
		EstablishmentAddress: []string{"12 avenue de l'Égalité", "13100 Aix-en-Provence"}, Town: "Aix-en-Provence",
		Signatory: "La conseillère principale d'éducation", Date: domain.MustDate("2026-12-08"),
		Student: "Léa Müller-Gaël", Class: "5e B", Recipients: []string{"Mme Hélène Müller", "M. François Gaël"},
		Address: []string{"3 rue des Écoles", "13090 Aix-en-Provence"},
		From:    domain.MustDate("2026-11-01"), To: domain.MustDate("2026-11-30"), HalfDays: 4,
		Absences: []letters.Absence{
			{Date: domain.MustDate("2026-11-02"), Slot: domain.Slot{Start: "08:00", End: "09:00"}, Subject: "Mathématiques"},
			{Date: domain.MustDate("2026-11-30"), Slot: domain.Slot{Start: "14:00", End: "15:00"}, Subject: "Éducation physique"},
		},
	}, {
		Template: domain.LetterMeeting, Establishment: "Collège Frédéric-Mistral", Town: "Aix-en-Provence",
		Signatory: "Le principal", Date: domain.MustDate("2026-12-08"),
		Student: "Noé\u202eDurand\x00", Class: "4e A", Recipients: []string{"Mme Zoé Durand"},
		From: domain.MustDate("2026-12-01"), To: domain.MustDate("2026-12-07"), HalfDays: 1,
	}}
}

func TestLetterPDFText(t *testing.T) {
	w, err := letters.NewWriter(func() time.Time { return time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	w.Compress = false
	var b bytes.Buffer
	if err := w.Render(&b, sample()); err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("LETTERS_PDF"); path != "" {
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pages := pdfPages(t, b.Bytes())
	for i := range pages {
		// MultiCell wraps long paragraphs: search the page as one line.
		pages[i] = strings.ReplaceAll(pages[i], "\n", " ")
	}
	if len(pages) != 2 {
		t.Fatalf("%d pages, want one per family (2)", len(pages))
	}
	for _, want := range []string{
		"Collège Frédéric-Mistral", "12 avenue de l'Égalité",
		"Mme Hélène Müller et M. François Gaël", "3 rue des Écoles",
		"Aix-en-Provence, le mardi 8 décembre 2026",
		"Objet : Absences non justifiées de Léa Müller-Gaël",
		"Madame, Monsieur,",
		"élève de la classe 5e B",
		"entre le dimanche 1er novembre 2026 et le lundi 30 novembre 2026",
		"soit 4 demi-journées d'absence non justifiées",
		"– lundi 2 novembre 2026, 08:00–09:00, Mathématiques",
		"– lundi 30 novembre 2026, 14:00–15:00, Éducation physique",
		"article L. 131-8 du code de l'éducation",
		"La conseillère principale d'éducation",
	} {
		if !strings.Contains(pages[0], want) {
			t.Errorf("page 1 lacks %q:\n%s", want, pages[0])
		}
	}
	for _, want := range []string{
		"Objet : Assiduité de Noé Durand : demande de rendez-vous",
		"Mme Zoé Durand", "a manqué 1 demi-journée de cours", "Le principal",
	} {
		if !strings.Contains(pages[1], want) {
			t.Errorf("page 2 lacks %q:\n%s", want, pages[1])
		}
	}
	if strings.Contains(pages[1], "Léa") || strings.Contains(pages[0], "Zoé") {
		t.Error("a family's page names the other family")
	}
	if strings.ContainsAny(pages[1], "\u202e\x00") || strings.Contains(pages[0]+pages[1], "(s)") {
		t.Error("a control character or a \"(s)\" plural reached the page")
	}
}

func TestLetterText(t *testing.T) {
	w, err := letters.NewWriter(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := w.Text(sample()[0])
	if err != nil {
		t.Fatal(err)
	}
	if txt.Subject != "Absences non justifiées de Léa Müller-Gaël" || txt.Salutation != "Madame, Monsieur," ||
		len(txt.Paragraphs) != 3 || len(txt.List) != 2 || !strings.HasPrefix(txt.Closing, "Veuillez agréer") {
		t.Fatalf("text: %+v", txt)
	}
	long := sample()[0]
	for i := range 40 {
		long.Absences = append(long.Absences, letters.Absence{Date: domain.MustDate("2026-11-03").AddDays(i % 20), Slot: domain.Slot{Start: "10:00", End: "11:00"}, Subject: "Histoire-géographie"})
	}
	txt, err = w.Text(long)
	if err != nil {
		t.Fatal(err)
	}
	if len(txt.List) != letters.MaxListed || txt.List[letters.MaxListed-1] != "et 31 autres cours" {
		t.Fatalf("42 absences listed as %d lines, the last %q", len(txt.List), txt.List[len(txt.List)-1])
	}
	var b bytes.Buffer
	w.Compress = false
	if err := w.Render(&b, []letters.Letter{long}); err != nil {
		t.Fatal(err)
	}
	if n := len(pdfPages(t, b.Bytes())); n != 1 {
		t.Fatalf("a long letter takes %d pages, want 1", n)
	}
	if _, err := w.Text(letters.Letter{Template: "threat"}); err == nil {
		t.Fatal("an unknown template was written")
	}
	if err := w.Render(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("an empty PDF was written")
	}
}

// pdfPages reads the text of an uncompressed PDF written by fpdf with a
// UTF-8 font: each page's content stream shows strings of UTF-16BE code
// units between parentheses, one MultiCell line each.
func pdfPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("BT ")) {
		t.Fatal("not an uncompressed PDF")
	}
	streams := regexp.MustCompile(`(?s)stream\n(.*?)\nendstream`).FindAllSubmatch(pdf, -1)
	var pages []string
	for _, s := range streams {
		lines := shownStrings(s[1])
		if len(lines) > 0 {
			pages = append(pages, strings.Join(lines, "\n"))
		}
	}
	return pages
}

// shownStrings returns the strings a content stream shows ("(...)Tj"),
// decoded: a string runs to the first parenthesis not escaped by a
// backslash.
func shownStrings(body []byte) []string {
	var out []string
	for {
		i := bytes.Index(body, []byte("Td ("))
		if i < 0 {
			return out
		}
		body = body[i+4:]
		var raw []byte
		j := 0
		for ; j < len(body) && body[j] != ')'; j++ {
			if body[j] == '\\' && j+1 < len(body) {
				j++
				switch body[j] {
				case 'r':
					raw = append(raw, '\r')
				case 'n':
					raw = append(raw, '\n')
				default:
					raw = append(raw, body[j])
				}
				continue
			}
			raw = append(raw, body[j])
		}
		if !bytes.HasPrefix(body[j:], []byte(")Tj")) {
			continue
		}
		out = append(out, utf16Text(raw))
		body = body[j:]
	}
}

func utf16Text(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}
