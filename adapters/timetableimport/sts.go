package timetableimport

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/schoollife/ledger/domain"
)

// STS is what STS-web's teaching-service export (sts_emp_UAI_YEAR.xml)
// brings to the matching: the national subject nomenclature, each
// subject's BCN code (MATIERE CODE, "061300") with its management code
// (CODE_GESTION, "MATHS") and label. Timetables name subjects by either
// code and the directory by the code the académie's feed gives: the
// nomenclature says they are the same subject.
type STS struct {
	UAI string
	// alias: code -> the other code of the same subject.
	alias  map[string]string
	labels map[string]string
}

// Aliases returns the codes of the subject code names, code first.
func (s *STS) Aliases(code string) []string {
	out := []string{code}
	if s == nil {
		return out
	}
	if a, ok := s.alias[code]; ok && a != code {
		out = append(out, a)
	}
	return out
}

// Label returns the nomenclature's label of a subject code.
func (s *STS) Label(code string) (string, bool) {
	if s == nil {
		return "", false
	}
	l, ok := s.labels[code]
	return l, ok
}

var stsEntities = map[string]bool{"MATIERE": true, "UAJ": true}

// ParseSTS reads STS-web's teaching-service export: its PARAMETRES' UAJ
// and its NOMENCLATURES' MATIERE elements (CODE, CODE_GESTION,
// LIBELLE_COURT, LIBELLE_LONG).
func ParseSTS(r io.Reader, maxBytes int64) (*STS, error) {
	b, _, err := readUTF8(r, maxBytes)
	if err != nil {
		return nil, err
	}
	s := &STS{alias: map[string]string{}, labels: map[string]string{}}
	err = walk(newDecoder(b), stsEntities, func(string, []xml.Attr) bool { return false }, func(e *element) error {
		switch e.Name {
		case "UAJ":
			s.UAI = strings.ToUpper(cmp.Or(e.attr("CODE"), e.Text))
		case "MATIERE":
			code := e.attr("CODE")
			var gestion, label string
			for _, c := range e.Children {
				switch c.Name {
				case "CODE_GESTION":
					gestion = c.Text
				case "LIBELLE_COURT":
					label = cmp.Or(label, c.Text)
				case "LIBELLE_LONG", "LIBELLE_EDITION":
					label = cmp.Or(c.Text, label)
				}
			}
			if code == "" || gestion == "" {
				return nil
			}
			s.alias[code], s.alias[gestion] = gestion, code
			if label != "" && checkText(domain.TextTitle, "label", label) == nil {
				s.labels[code], s.labels[gestion] = label, label
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("STS-web export: %w", err)
	}
	return s, nil
}
