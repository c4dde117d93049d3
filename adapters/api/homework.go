package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

func (s *Server) homeworkRoutes() []route {
	h := s.cfg.Commands
	const teachers = "teachers of the group"
	homework := func(r *http.Request, id *uuid.UUID) error { return web.SetPathID(r, "homework", id) }
	return []route{
		commandRoute(s, cmd[domain.AssignHomework]{
			method: "POST", path: "/api/v1/homework", tag: "textbook", status: http.StatusCreated,
			summary: "Set homework to a group", profiles: teachers, run: h.AssignHomework,
		}),
		commandRoute(s, cmd[domain.AmendHomework]{
			method: "PUT", path: "/api/v1/homework/{homework}", tag: "textbook", status: http.StatusOK,
			summary: "Amend a homework's due date, instructions or workload", profiles: teachers,
			fill: func(r *http.Request, c *domain.AmendHomework) error { return homework(r, &c.Homework) },
			run:  h.AmendHomework,
		}),
		commandRoute(s, cmd[domain.WithdrawHomework]{
			method: "DELETE", path: "/api/v1/homework/{homework}", tag: "textbook", status: http.StatusOK, noBody: true,
			summary: "Withdraw a homework", profiles: teachers,
			fill: func(r *http.Request, c *domain.WithdrawHomework) error { return homework(r, &c.Homework) },
			run:  h.WithdrawHomework,
		}),
		commandRoute(s, cmd[domain.MarkHomeworkDone]{
			method: "POST", path: "/api/v1/homework/{homework}/done", tag: "textbook", status: http.StatusOK, noBody: true,
			summary: "Mark a homework done", profiles: "students of the group",
			fill: func(r *http.Request, c *domain.MarkHomeworkDone) error { return homework(r, &c.Homework) },
			run:  h.MarkHomeworkDone,
		}),
		{
			method: "GET", path: "/api/v1/students/{student}/homework", tag: "textbook", status: http.StatusOK,
			summary:  "A student's homework agenda, with their own done flag",
			profiles: "whoever reads the student's file",
			response: typeOf[[]projections.AgendaHomework](), paged: true,
			query: append([]param{
				{name: "from", format: "date", doc: "first due day (default: today)"},
				{name: "to", format: "date", doc: "last due day (default: no bound)"},
			}, listParams(web.MaxListLimit)...),
			handle: s.getAgenda,
		},
	}
}

func (s *Server) getAgenda(w http.ResponseWriter, r *http.Request) error {
	q := s.dec.Query(r)
	from, to := q.Date("from"), q.Date("to")
	page := listPage(q)
	if q.Err() != nil {
		return q.Err()
	}
	if from.IsZero() && to.IsZero() {
		from = domain.DateOf(s.now().In(s.cfg.Location))
	}
	student, err := web.PathStudent(r, s.cfg.Queries)
	if err != nil {
		return err
	}
	if err := web.MayReadStudent(web.PrincipalOf(r), student); err != nil {
		return err
	}
	var groups []uuid.UUID
	names := map[uuid.UUID]string{}
	for _, m := range student.Groups {
		if m.Role == domain.RoleStudent {
			groups = append(groups, m.Group)
			names[m.Group] = m.Name
		}
	}
	hw, err := s.cfg.Queries.Homework(r.Context(), groups, from, to, page)
	if err != nil {
		return err
	}
	agenda := projections.List[projections.AgendaHomework]{Items: make([]projections.AgendaHomework, 0, len(hw.Items)), Next: hw.Next}
	for _, h := range hw.Items {
		agenda.Items = append(agenda.Items, projections.AgendaHomework{
			Homework: h.Homework, Group: h.Group, GroupName: names[h.Group], Subject: h.Subject,
			Given: h.Given, Due: h.Due, Instructions: h.Instructions, WorkloadMinutes: h.WorkloadMinutes,
			Done: h.DoneByStudent(student.ID),
		})
	}
	return replyPage(w, r, agenda)
}
