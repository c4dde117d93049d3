package timetableimport

import (
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
)

// Reasons a course's class, group, teacher or subject is not matched.
const (
	ReasonUnknownClass     = "unknown-class"      // no class of that code in the directory
	ReasonUnknownGroup     = "unknown-group"      // no group of that code in the directory
	ReasonUnknownTeacher   = "unknown-teacher"    // no teacher of that id or name
	ReasonAmbiguousTeacher = "ambiguous-teacher"  // several teachers of that name, no id to tell them apart
	ReasonNoTeacher        = "no-teacher"         // the course names no teacher
	ReasonNotTeacherOf     = "not-teacher-of"     // the teacher does not teach the group in the directory
	ReasonSubjectNotTaught = "subject-not-taught" // the teacher teaches the group other subjects
	ReasonUnknownSubject   = "unknown-subject"    // the course's subject is not in the export
	ReasonUnknownRef       = "unknown-reference"  // the course names a class, group or teacher the export does not list
	ReasonNoSchoolDay      = "no-school-day"      // the course is on a Sunday, or a Saturday when the establishment does not teach on Saturdays
)

// teacherMatch is the directory account an export's teacher is, or why
// none is.
type teacherMatch struct {
	account uuid.UUID
	reason  string
}

// matchTeacher finds an export's teacher in the directory: by the
// national id the export gives (the directory's join id), else by name
// among the establishment's teachers, when exactly one has it. Two
// homonyms stay unmatched: the directory holds no birth date to tell them
// apart, and nothing is guessed.
func matchTeacher(dir Directory, uai string, t Teacher) teacherMatch {
	if t.ID != "" {
		if a, ok := dir.TeacherByID(t.ID); ok {
			return teacherMatch{account: a.ID}
		}
	}
	want := nameKey(t.FirstName + " " + t.LastName)
	if want == "" {
		return teacherMatch{reason: ReasonUnknownTeacher}
	}
	var found []uuid.UUID
	for _, a := range dir.Teachers(uai) {
		if nameKey(a.DisplayName) == want {
			found = append(found, a.ID)
		}
	}
	switch len(found) {
	case 1:
		return teacherMatch{account: found[0]}
	case 0:
		return teacherMatch{reason: ReasonUnknownTeacher}
	default:
		return teacherMatch{reason: ReasonAmbiguousTeacher}
	}
}

// nameKey folds a person's name for comparison: case, accents, hyphens
// and apostrophes do not matter, nor the order of the words ("DUPONT
// Marie-Hélène" is "Marie Helene Dupont").
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(' ')
		}
	}
	words := strings.Fields(b.String())
	slices.Sort(words)
	return strings.Join(words, " ")
}
