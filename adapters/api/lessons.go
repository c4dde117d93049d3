package api

import (
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) lessonRoutes() []route {
	h := s.cfg.Commands
	const recorders = "teachers of the group; personnel of its establishment"
	absence := func(r *http.Request, lesson, student *uuid.UUID) error {
		return firstError(web.SetPathID(r, "lesson", lesson), web.SetPathID(r, "student", student))
	}
	return []route{
		commandRoute(s, cmd[domain.RecordRollCall]{
			method: "POST", path: "/api/v1/rollcalls", tag: "lessons", status: http.StatusCreated,
			summary:  "Record the roll call of a lesson: the absent and late students, in one act (the result's id is the lesson)",
			profiles: recorders, run: h.RecordRollCall,
		}),
		commandRoute(s, cmd[domain.CancelAbsence]{
			method: "POST", path: "/api/v1/lessons/{lesson}/absences/{student}/cancellation", tag: "lessons", status: http.StatusOK,
			summary: "Cancel an absence recorded by mistake", profiles: recorders,
			fill: func(r *http.Request, c *domain.CancelAbsence) error { return absence(r, &c.Lesson, &c.Student) },
			run:  h.CancelAbsence,
		}),
		commandRoute(s, cmd[domain.DeclareAbsenceReason]{
			method: "POST", path: "/api/v1/lessons/{lesson}/absences/{student}/reason", tag: "lessons", status: http.StatusOK,
			summary: "Declare the reason of an absence", profiles: "the student's relatives",
			fill: func(r *http.Request, c *domain.DeclareAbsenceReason) error { return absence(r, &c.Lesson, &c.Student) },
			run:  h.DeclareAbsenceReason,
		}),
		commandRoute(s, cmd[domain.DecideJustification]{
			method: "POST", path: "/api/v1/lessons/{lesson}/absences/{student}/justification", tag: "lessons", status: http.StatusOK,
			summary:  "Accept or refuse an absence's justification, with a reason of the establishment's list",
			profiles: "personnel of the establishment (CPE, vie scolaire, head)",
			fill:     func(r *http.Request, c *domain.DecideJustification) error { return absence(r, &c.Lesson, &c.Student) },
			run:      h.DecideJustification,
		}),
		commandRoute(s, cmd[domain.RecordLessonContent]{
			method: "POST", path: "/api/v1/groups/{group}/textbook/lessons", tag: "textbook", status: http.StatusCreated,
			summary: "Record what a lesson covered in the group's cahier de textes", profiles: "teachers of the group",
			fill: func(r *http.Request, c *domain.RecordLessonContent) error { return web.SetPathID(r, "group", &c.Group) },
			run:  h.RecordLessonContent,
		}),
		{
			method: "GET", path: "/api/v1/groups/{group}/textbook", tag: "textbook", status: http.StatusOK,
			summary:  "A group's cahier de textes: lessons held and homework due in a period",
			profiles: "teachers and students of the group; the students' relatives; personnel of its establishment; habilitated inspectors",
			response: typeOf[projections.Textbook](), paged: true,
			query: []param{
				{name: "from", format: "date", doc: "first day (default: no bound); a cahier cut short names the next in its Link header"},
				{name: "to", format: "date", doc: "last day (default: no bound)"},
			},
			handle: s.getTextbook,
		},
	}
}

func (s *Server) getTextbook(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	from, to := q.Date("from"), q.Date("to")
	if q.Err() != nil {
		return q.Err()
	}
	g, err := web.PathGroup(r, s.cfg.Queries)
	if err != nil {
		return err
	}
	p := web.PrincipalOf(r)
	seeAll, err := web.MayReadTextbook(p, g)
	if err != nil {
		return err
	}
	tb, err := s.cfg.Queries.Textbook(r.Context(), g.ID, from, to)
	if err != nil {
		return err
	}
	if !seeAll {
		// A student sees whether they did it, a relative whether their
		// children did, not which classmates did.
		visible := web.VisibleStudents(p)
		for i := range tb.Homework {
			done := slices.DeleteFunc(tb.Homework[i].DoneBy, func(id uuid.UUID) bool {
				return !slices.Contains(visible, id)
			})
			tb.Homework[i].DoneBy = append([]uuid.UUID{}, done...)
		}
	}
	if next := tb.Next(); !next.IsZero() {
		web.SetNextFrom(w, r, next.String())
	}
	return reply(w, http.StatusOK, tb)
}
