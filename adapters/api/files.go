package api

import (
	"net/http"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) fileRoutes() []route {
	const readers = "the student; their relatives; their teachers; personnel of their establishment; habilitated inspectors"
	return []route{
		{
			method: "GET", path: "/api/v1/students/{student}/file", tag: "files", status: http.StatusOK,
			summary:  "A student's school-life file over a period: absences, lateness, punishments, sanctions, incidents",
			profiles: readers,
			response: typeOf[projections.StudentFile](), paged: true,
			query: []param{
				{name: "from", format: "date", doc: "first day (default: no bound); a file cut short names the next in its Link header"},
				{name: "to", format: "date", doc: "last day (default: no bound)"},
			},
			handle: s.getStudentFile,
		},
		{
			method: "GET", path: "/api/v1/students/{student}/view", tag: "files", status: http.StatusOK,
			summary:  "A student's page: groups, file of the school year, upcoming homework",
			profiles: readers,
			response: typeOf[projections.StudentView](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				student, err := web.PathStudent(r, s.cfg.Queries)
				if err != nil {
					return err
				}
				if err := web.MayReadStudent(web.PrincipalOf(r), student); err != nil {
					return err
				}
				v, err := s.cfg.Queries.StudentView(r.Context(), student.ID, s.now())
				if err != nil {
					return err
				}
				s.cfg.Trail.ReadStudent(web.PrincipalOf(r), student.Establishment, student.ID, domain.ConsultView)
				return reply(w, http.StatusOK, v)
			},
		},
		{
			method: "GET", path: "/api/v1/teachers/{teacher}/view", tag: "files", status: http.StatusOK,
			summary:  "A teacher's page: groups, today's lessons and their roll calls, upcoming homework",
			profiles: "the teacher; personnel of their establishment; habilitated inspectors",
			response: typeOf[projections.TeacherView](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				teacher, err := web.PathAccount(r, s.cfg.Queries, "teacher", domain.ErrUnknownAccount, domain.ProfileTeacher, domain.ProfilePersonnel)
				if err != nil {
					return err
				}
				if err := web.MayReadTeacher(web.PrincipalOf(r), teacher); err != nil {
					return err
				}
				v, err := s.cfg.Queries.TeacherView(r.Context(), teacher.ID, s.now())
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, v)
			},
		},
		{
			method: "GET", path: "/api/v1/relatives/{relative}/view", tag: "files", status: http.StatusOK,
			summary:  "A relative's page: each child's page, unread messages, latest notifications",
			profiles: "the relative",
			response: typeOf[projections.RelativeView](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				relative, err := web.PathAccount(r, s.cfg.Queries, "relative", domain.ErrUnknownAccount, domain.ProfileRelative)
				if err != nil {
					return err
				}
				if err := web.MayReadRelative(web.PrincipalOf(r), relative); err != nil {
					return err
				}
				v, err := s.cfg.Queries.RelativeView(r.Context(), relative.ID, s.now())
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, v)
			},
		},
	}
}

func (s *Server) getStudentFile(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	from, to := q.Date("from"), q.Date("to")
	if q.Err() != nil {
		return q.Err()
	}
	student, err := web.PathStudent(r, s.cfg.Queries)
	if err != nil {
		return err
	}
	if err := web.MayReadStudent(web.PrincipalOf(r), student); err != nil {
		return err
	}
	f, err := s.cfg.Queries.StudentFile(r.Context(), student.ID, from, to)
	if err != nil {
		return err
	}
	s.cfg.Trail.ReadStudent(web.PrincipalOf(r), student.Establishment, student.ID, domain.ConsultFile)
	return replyFile(w, r, f)
}

// replyFile writes a student file, a period cut short naming the rest in a
// Link header.
func replyFile(w http.ResponseWriter, r *http.Request, f *projections.StudentFile) error {
	if next := f.Next(); !next.IsZero() {
		web.SetNextFrom(w, r, next.String())
	}
	return reply(w, http.StatusOK, f)
}
