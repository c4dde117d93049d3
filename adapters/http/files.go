package http

import (
	"errors"
	"net/http"

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
			response: typeOf[projections.StudentFile](),
			query: []param{
				{name: "from", format: "date", doc: "first day (default: no bound)"},
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
				student, err := s.student(r)
				if err != nil {
					return err
				}
				if err := mayReadStudent(principalOf(r), student); err != nil {
					return err
				}
				v, err := s.cfg.Queries.StudentView(r.Context(), student.ID, s.now())
				if err != nil {
					return err
				}
				return reply(w, http.StatusOK, v)
			},
		},
		{
			method: "GET", path: "/api/v1/teachers/{teacher}/view", tag: "files", status: http.StatusOK,
			summary:  "A teacher's page: groups, today's lessons and their roll calls, upcoming homework",
			profiles: "the teacher; personnel of their establishment; habilitated inspectors",
			response: typeOf[projections.TeacherView](),
			handle: func(w http.ResponseWriter, r *http.Request) error {
				teacher, err := s.accountOf(r, "teacher", domain.ErrUnknownAccount, domain.ProfileTeacher, domain.ProfilePersonnel)
				if err != nil {
					return err
				}
				if err := mayReadTeacher(principalOf(r), teacher); err != nil {
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
				relative, err := s.accountOf(r, "relative", domain.ErrUnknownAccount, domain.ProfileRelative)
				if err != nil {
					return err
				}
				if err := mayReadRelative(principalOf(r), relative); err != nil {
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
	q := s.query(r)
	from, to := q.date("from"), q.date("to")
	if q.err != nil {
		return q.err
	}
	student, err := s.student(r)
	if err != nil {
		return err
	}
	if err := mayReadStudent(principalOf(r), student); err != nil {
		return err
	}
	f, err := s.cfg.Queries.StudentFile(r.Context(), student.ID, from, to)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, f)
}

// student returns the student account of the path parameter "student".
func (s *Server) student(r *http.Request) (*projections.AccountEntry, error) {
	return s.accountOf(r, "student", domain.ErrUnknownStudent, domain.ProfileStudent)
}

// accountOf returns the account of path parameter name, which must hold
// one of profiles; notFound otherwise.
func (s *Server) accountOf(r *http.Request, name string, notFound *domain.Error, profiles ...domain.Profile) (*projections.AccountEntry, error) {
	id, err := pathID(r, name)
	if err != nil {
		return nil, err
	}
	acc, err := s.cfg.Queries.Account(r.Context(), id)
	if errors.Is(err, domain.ErrUnknownAccount) {
		return nil, domain.Errorf(notFound, "%s", id)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range profiles {
		if acc.Profile == p {
			return acc, nil
		}
	}
	return nil, domain.Errorf(notFound, "%s is no %s", id, name)
}
