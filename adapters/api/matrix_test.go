package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
)

// cell is one route of the matrix: a request and the status each profile
// gets. A profile missing from want gets 403, anonymous 401.
type cell struct {
	method, path string
	// body is the request body; a func(profile string) any builds it per
	// profile.
	body any
	want map[string]int
}

// who lists profiles that get status.
func who(status int, ps ...string) map[string]int {
	m := map[string]int{}
	for _, p := range ps {
		m[p] = status
	}
	return m
}

// plus adds profiles with another status.
func plus(m map[string]int, status int, ps ...string) map[string]int {
	for _, p := range ps {
		m[p] = status
	}
	return m
}

// everyone lists every signed-in profile.
var everyone = webtest.Profiles[:len(webtest.Profiles)-1]

// matrix is every route of the API against the world w.
func matrix(w *world) []cell {
	a := w.Accounts
	student, relative, teacher := a[asStudent].String(), a[asRelative].String(), a[asTeacher].String()
	class, lesson := w.Class.String(), w.Lesson.String()
	res, bk := w.Resource.String(), w.Booking.String()
	date := w.LessonDate
	const ok, created = http.StatusOK, http.StatusCreated
	staff := []string{asCPE, asHead}
	recorders := []string{asTeacher, asCPE, asHead}
	adminOrStaff := []string{asAdmin, asCPE, asHead}
	mailboxes := []string{asStudent, asRelative, asTeacher, asCPE, asHead, asGuest, asAdmin}
	studentReaders := []string{asStudent, asRelative, asTeacher, asCPE, asHead, asInspector}
	signIn := func(p string) any {
		if p == asAnonymous {
			return SignInRequest{Login: "nobody", Password: "wrong"}
		}
		return SignInRequest{Login: p, Password: webtest.Password}
	}
	return []cell{
		// Session.
		{method: "POST", path: "/api/v1/session", body: signIn, want: plus(who(ok, everyone...), http.StatusUnauthorized, asAnonymous)},
		{method: "POST", path: "/api/v1/tokens", body: signIn, want: plus(who(created, everyone...), http.StatusUnauthorized, asAnonymous)},
		{method: "DELETE", path: "/api/v1/session", want: who(http.StatusNoContent, webtest.Profiles...)},
		{method: "GET", path: OpenAPIPath, want: who(ok, webtest.Profiles...)},
		{method: "GET", path: "/api/v1/live", want: who(ok, everyone...)},
		{method: "GET", path: "/api/v1/me", want: who(ok, everyone...)},

		// Directory.
		{method: "POST", path: "/api/v1/establishments", want: who(created, asAdmin),
			body: domain.RegisterEstablishment{UAI: "0130009Z", Name: "Collège Neuf", Kind: domain.KindCollege, Departement: "13"}},
		{method: "POST", path: "/api/v1/accounts", want: who(created, asAdmin),
			body: domain.OpenAccount{Establishment: w.UAI, Profile: domain.ProfileStudent, DisplayName: "Nouvelle"}},
		{method: "PUT", path: "/api/v1/accounts/" + w.Student2.String(), want: who(ok, asAdmin),
			body: domain.UpdateAccount{Establishment: w.UAI, DisplayName: "Hugo B."}},
		{method: "POST", path: "/api/v1/accounts/" + student + "/activation", want: who(ok, asStudent, asAdmin)},
		{method: "POST", path: "/api/v1/accounts/" + w.Student2.String() + "/closure", want: who(ok, asAdmin),
			body: CloseAccountRequest{Reason: "moved"}},
		{method: "POST", path: "/api/v1/accounts/" + student + "/identities", want: who(created, asAdmin),
			body: LinkIdentityRequest{Provider: "educonnect", Subject: "f1e2d3c4-educonnect"}},
		{method: "PUT", path: "/api/v1/accounts/" + a[asOtherInspector].String() + "/habilitations", want: who(ok, asAdmin),
			body: HabilitationsRequest{Establishments: []string{w.OtherUAI, w.UAI}}},
		{method: "POST", path: "/api/v1/students/" + w.Student2.String() + "/relatives", want: who(created, asAdmin),
			body: domain.LinkRelative{Relative: a[asRelative], LegalGuardian: true}},
		{method: "DELETE", path: "/api/v1/students/" + student + "/relatives/" + relative, want: who(ok, asAdmin)},
		{method: "POST", path: "/api/v1/groups", want: who(created, adminOrStaff...),
			body: domain.CreateGroup{Establishment: w.UAI, Kind: domain.GroupTeaching, Name: "Latin"}},
		{method: "POST", path: "/api/v1/groups/" + class + "/members", want: who(created, adminOrStaff...),
			body: domain.JoinGroup{Account: w.Teacher2, Role: domain.RoleTeacher, Subject: "Français"}},
		{method: "DELETE", path: "/api/v1/groups/" + class + "/members/" + w.Student2.String() + "/student", want: who(ok, adminOrStaff...)},
		{method: "POST", path: "/api/v1/groups/" + class + "/timetable", want: who(created, adminOrStaff...),
			body: domain.ScheduleLesson{Weekday: time.Wednesday, Slot: domain.Slot{Start: "10:00", End: "10:55"}, Subject: "Mathématiques",
				Teacher: a[asTeacher], From: domain.MustDate("2006-03-01"), Until: domain.MustDate("2006-07-01")}},
		{method: "DELETE", path: "/api/v1/groups/" + class + "/timetable/" + w.Entry.String(), want: who(ok, adminOrStaff...)},
		{method: "GET", path: "/api/v1/establishments", want: who(ok, everyone...)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI, want: who(ok, everyone...)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/groups", want: who(ok, asTeacher, asCPE, asHead, asAdmin, asInspector)},
		{method: "GET", path: "/api/v1/accounts/" + student, want: who(ok, asStudent, asRelative, asTeacher, asCPE, asHead, asAdmin, asInspector)},
		{method: "GET", path: "/api/v1/groups/" + class, want: who(ok, asStudent, asTeacher, asCPE, asHead, asAdmin, asInspector)},

		// Directory imports.
		{method: "POST", path: "/api/v1/imports", want: who(http.StatusAccepted, asAdmin), body: func(string) any { return csvRelatives(w) }},
		{method: "GET", path: "/api/v1/imports/" + webtest.KeptImportID.String(), want: who(ok, asAdmin, asInspector)},
		// Timetable imports (a dry run: the matrix writes nothing).
		{method: "POST", path: "/api/v1/timetable-imports", want: who(ok, asAdmin), body: func(string) any { return timetableUpload(w, map[string]string{"dry_run": "true"}) }},

		// Lessons and the cahier de textes.
		{method: "POST", path: "/api/v1/rollcalls", want: who(created, recorders...),
			body: domain.RecordRollCall{Group: w.Class, Date: date, Slot: domain.Slot{Start: "09:00", End: "09:55"}, Subject: "Mathématiques", Absent: []uuid.UUID{w.Student2}}},
		{method: "POST", path: "/api/v1/lessons/" + lesson + "/absences/" + student + "/cancellation", want: who(ok, recorders...),
			body: domain.CancelAbsence{Reason: "was in the infirmary"}},
		{method: "POST", path: "/api/v1/lessons/" + lesson + "/absences/" + student + "/reason", want: who(ok, asRelative),
			body: domain.DeclareAbsenceReason{Reason: "malade"}},
		{method: "POST", path: "/api/v1/lessons/" + lesson + "/absences/" + student + "/justification", want: who(ok, staff...),
			body: domain.DecideJustification{Accept: true, ReasonCode: "maladie"}},
		{method: "POST", path: "/api/v1/groups/" + class + "/textbook/lessons", want: who(created, asTeacher),
			body: domain.RecordLessonContent{Date: date, Slot: w.LessonSlot, Subject: "Mathématiques", Content: "Fractions"}},
		{method: "GET", path: "/api/v1/groups/" + class + "/textbook?from=2006-03-01", want: who(ok, asTeacher, asStudent, asRelative, asCPE, asHead, asInspector)},

		// Discipline.
		{method: "POST", path: "/api/v1/incidents", want: who(created, recorders...),
			body: domain.ReportIncident{Establishment: w.UAI, OccurredAt: w.Now, Place: "Cour", Seriousness: domain.SeriousnessMinor,
				Description: "Bousculade", Protagonists: []domain.Protagonist{{Account: a[asStudent], Role: domain.ProtagonistAuthor}}}},
		{method: "POST", path: "/api/v1/students/" + student + "/punishments", want: who(created, recorders...),
			body: domain.GivePunishment{Group: w.Class, Kind: domain.PunishmentDetention, Date: date, Reason: "Bavardages"}},
		{method: "POST", path: "/api/v1/students/" + student + "/sanctions", want: who(created, asHead),
			body: domain.PronounceSanction{Kind: domain.SanctionReprimand, Date: date, Reason: "Récidive"}},
		{method: "POST", path: "/api/v1/students/" + student + "/sanctions/" + w.Sanction.String() + "/annulment", want: who(ok, asHead),
			body: domain.AnnulSanction{Reason: "Erreur"}},
		// The world's sanction, an avertissement, has no sursis: the head
		// reaches the rule, nobody else the sanction.
		{method: "POST", path: "/api/v1/students/" + student + "/sanctions/" + w.Sanction.String() + "/sursis-revocation",
			want: who(http.StatusUnprocessableEntity, asHead), body: domain.RevokeSursis{Date: date, Reason: "Récidive"}},
		{method: "POST", path: "/api/v1/students/" + student + "/sanctions/" + w.Sanction.String() + "/effacement", want: who(ok, asHead),
			body: domain.EffaceSanction{Date: date, Basis: domain.EffacementChangeOfEstablishment}},

		// Homework.
		{method: "POST", path: "/api/v1/homework", want: who(created, asTeacher),
			body: domain.AssignHomework{Group: w.Class, Given: date, Due: domain.MustDate("2006-03-21"), Instructions: "Lire le chapitre 3"}},
		{method: "PUT", path: "/api/v1/homework/" + w.Homework.String(), want: who(ok, asTeacher),
			body: domain.AmendHomework{Due: domain.MustDate("2006-03-17"), Instructions: "Exercices 1 à 5", WorkloadMinutes: 40}},
		{method: "DELETE", path: "/api/v1/homework/" + w.Homework.String(), want: who(ok, asTeacher)},
		{method: "POST", path: "/api/v1/homework/" + w.Homework.String() + "/done", want: who(ok, asStudent)},
		{method: "GET", path: "/api/v1/students/" + student + "/homework", want: who(ok, studentReaders...)},

		// Messages.
		{method: "POST", path: "/api/v1/messages", want: who(created, asStudent, asRelative, asTeacher, asCPE, asHead, asAdmin),
			body: domain.SendMessage{ToAccounts: []uuid.UUID{a[asCPE]}, Subject: "Question", Body: "Bonjour"}},
		{method: "POST", path: "/api/v1/messages/" + w.Message.String() + "/read", want: who(ok, asStudent, asRelative, asTeacher)},
		{method: "POST", path: "/api/v1/messages/" + w.Message.String() + "/acknowledgement", want: who(ok, asStudent, asRelative, asTeacher)},
		{method: "GET", path: "/api/v1/messages/" + w.Message.String(), want: who(ok, asStudent, asRelative, asTeacher)},
		{method: "GET", path: "/api/v1/mailbox", want: who(ok, mailboxes...)},
		{method: "GET", path: "/api/v1/mailbox/unread", want: who(ok, mailboxes...)},
		{method: "GET", path: "/api/v1/mailbox/sent?limit=10", want: who(ok, mailboxes...)},
		{method: "GET", path: "/api/v1/notifications", want: who(ok, mailboxes...)},

		// Bookings.
		{method: "POST", path: "/api/v1/resources", want: who(created, adminOrStaff...),
			body: domain.RegisterResource{Establishment: w.UAI, Kind: domain.ResourceEquipment, Name: "Vidéoprojecteur"}},
		{method: "POST", path: "/api/v1/resources/" + res + "/bookings", want: who(created, recorders...),
			body: domain.RequestBooking{Start: time.Date(2006, 3, 21, 14, 0, 0, 0, webtest.Paris), End: time.Date(2006, 3, 21, 15, 0, 0, 0, webtest.Paris)}},
		{method: "POST", path: "/api/v1/resources/" + res + "/bookings/" + bk + "/approval", want: who(ok, staff...)},
		{method: "POST", path: "/api/v1/resources/" + res + "/bookings/" + bk + "/refusal", want: who(ok, staff...),
			body: domain.RefuseBooking{Reason: "Salle réservée aux examens"}},
		{method: "POST", path: "/api/v1/resources/" + res + "/bookings/" + bk + "/cancellation", want: who(ok, recorders...),
			body: domain.CancelBooking{}},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/resources", want: who(ok, asTeacher, asCPE, asHead, asAdmin, asInspector)},
		{method: "GET", path: "/api/v1/resources/" + res + "/bookings?from=2006-03-20&to=2006-03-27",
			want: plus(who(ok, asTeacher, asCPE, asHead, asAdmin, asInspector), http.StatusNotFound, asOtherInspector)},
		{method: "GET", path: "/api/v1/resources/" + res + "/bookings/" + bk,
			want: plus(who(ok, asTeacher, asCPE, asHead, asAdmin, asInspector), http.StatusNotFound, asOtherInspector)},

		// News.
		{method: "POST", path: "/api/v1/news", want: who(created, recorders...),
			body: domain.PublishArticle{Establishment: w.UAI, Title: "Cross", Body: "Jeudi."}},
		{method: "PUT", path: "/api/v1/news/" + w.Article.String(), want: who(ok, asTeacher, asHead),
			body: domain.AmendArticle{Title: "Portes ouvertes", Body: "Samedi 18 mars, 9 h."}},
		{method: "DELETE", path: "/api/v1/news/" + w.Article.String(), want: who(ok, asTeacher, asHead)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/news", want: who(ok, asStudent, asRelative, asTeacher, asCPE, asHead, asGuest, asInspector)},

		// Connected services.
		{method: "POST", path: "/api/v1/establishments/" + w.UAI + "/services", want: who(created, asAdmin),
			body: domain.RegisterService{Name: "Moodle", Kind: domain.ServiceCAS, URLs: []string{"https://moodle.example.fr/login/index.php"}}},
		{method: "POST", path: "/api/v1/establishments/" + w.UAI + "/services", want: who(created, asAdmin),
			body: domain.RegisterService{Name: "GRR", Kind: domain.ServiceOIDC, URLs: []string{"https://grr.example.fr/oidc/callback"}}},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/services", want: who(ok, asAdmin)},
		{method: "DELETE", path: "/api/v1/services/" + w.Service.String(), want: who(ok, asAdmin)},

		// Files and views.
		{method: "GET", path: "/api/v1/students/" + student + "/file?from=2005-09-01&to=2006-07-01", want: who(ok, studentReaders...)},
		{method: "GET", path: "/api/v1/students/" + student + "/view", want: who(ok, studentReaders...)},
		{method: "GET", path: "/api/v1/teachers/" + teacher + "/view", want: who(ok, asTeacher, asCPE, asHead, asInspector)},
		{method: "GET", path: "/api/v1/relatives/" + relative + "/view", want: who(ok, asRelative)},
		{method: "GET", path: "/api/v1/office?uai=" + w.UAI, want: who(ok, asCPE, asHead, asInspector)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/alerts?open=true", want: who(ok, asCPE, asHead, asInspector)},
		{method: "POST", path: "/api/v1/alerts/" + w.Alert.String() + "/handling", want: who(ok, staff...),
			body: domain.HandleAlert{Action: domain.ActionFamilyCall}},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/alert-settings", want: who(ok, asCPE, asHead, asInspector)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/letter-candidates?from=2006-03-01&to=2006-03-31&threshold=1", want: who(ok, asCPE, asHead, asInspector)},
		{method: "PUT", path: "/api/v1/establishments/" + w.UAI + "/alert-settings", want: who(ok, asHead, asAdmin),
			body: domain.AlertSettings{HalfDaysPerMonth: 3, HalfDayCut: "12:30", HalfDayRule: domain.CountAnyLesson,
				LatenessCount: 4, LatenessPeriod: domain.PeriodWeek, OfficeDelayMinutes: 30}},

		// Audit and indicators.
		{method: "GET", path: "/api/v1/history/" + student, want: who(ok, asInspector)},
		{method: "GET", path: "/api/v1/students/" + student + "/file/as-of?at=2006-03-14", want: who(ok, asInspector)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/export", want: who(ok, asInspector)},
		{method: "GET", path: "/api/v1/accounts/" + student + "/export?format=html", want: who(ok, asStudent, asRelative, asAdmin)},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/consultations", want: who(ok, asHead)},

		// Erasures: the establishment's administrators only; the head,
		// who decides on a request as the data controller, does not carry
		// it out (web.MayErase).
		{method: "POST", path: "/api/v1/accounts/" + student + "/erasure", want: who(http.StatusAccepted, asAdmin),
			body: ErasureRequest{Reason: "demande de la famille du 3 décembre"}},
		{method: "GET", path: "/api/v1/erasures", want: who(ok, asAdmin)},
		{method: "GET", path: "/api/v1/erasures/" + student, want: who(http.StatusNotFound, asAdmin)},
		{method: "GET", path: "/api/v1/indicators?from=2006-03-01&to=2006-03-31&granularity=week", want: who(ok, asEvaluator, asAdmin)},

		// Notifications: each person's own settings; the dead letters,
		// the school-life office's.
		{method: "GET", path: "/api/v1/notification-preferences", want: who(ok, everyone...)},
		{method: "PUT", path: "/api/v1/notification-preferences", want: who(ok, asStudent, asRelative, asTeacher, asCPE, asHead, asGuest, asAdmin),
			body: web.NotifySettings{Preferences: domain.DefaultNotificationPreferences(), Email: "famille@example.fr", Phone: "06 12 34 56 78"}},
		{method: "POST", path: "/api/v1/push-subscriptions", want: who(created, everyone...), body: matrixSubscription},
		{method: "DELETE", path: "/api/v1/push-subscriptions", want: who(http.StatusNotFound, everyone...),
			body: PushUnsubscription{Endpoint: "https://push.example.fr/never-subscribed"}},
		{method: "GET", path: "/api/v1/establishments/" + w.UAI + "/undelivered-notifications", want: who(ok, staff...)},
		{method: "POST", path: "/api/v1/establishments/" + w.UAI + "/undelivered-notifications/" + w.Message.String() + "/email/" + relative + "/resend",
			want: who(http.StatusNotFound, staff...)},
	}
}

// matrixSubscription is a browser's push subscription.
var matrixSubscription = func() PushSubscription {
	var s PushSubscription
	s.Endpoint = "https://push.example.fr/send/abc"
	s.Keys.P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	s.Keys.Auth = "BTBZMqHH6r4Tts7J_aSIgg"
	return s
}()

// TestRouteMatrix calls every route as every profile and checks the status
// each gets. Writes run on a copy of the log each, and must append nothing
// when they fail.
func TestRouteMatrix(t *testing.T) {
	w := newWorld(t)
	cells := matrix(w)

	covered := map[string]bool{}
	for _, c := range cells {
		_, pattern := w.srv.mux.Handler(httptest.NewRequest(c.method, c.path, nil))
		if pattern == "" {
			t.Errorf("%s %s matches no route", c.method, c.path)
		}
		covered[pattern] = true
	}
	for _, p := range w.srv.patterns {
		if !covered[p] {
			t.Errorf("route %s is not in the matrix", p)
		}
	}

	for _, c := range cells {
		for _, p := range webtest.Profiles {
			want, ok := c.want[p]
			switch {
			case ok:
			case p == asAnonymous:
				want = http.StatusUnauthorized
			default:
				want = http.StatusForbidden
			}
			name := c.method + " " + strings.TrimPrefix(c.path, "/api/v1/") + " as " + p
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv, store := w.srv, w.Store
				// An export of a person's data records itself: it runs on
				// its own copy of the log, as writes do.
				write := c.method != "GET" || strings.Contains(c.path, "/accounts/") && strings.Contains(c.path, "/export")
				if write {
					srv, store = w.fork(t)
				}
				before := len(w.Records(store))
				body := c.body
				if f, ok := body.(func(string) any); ok {
					body = f(p)
				}
				r := do(t, srv, request{method: c.method, path: c.path, body: body, token: tokenOf(p)})
				if r.status != want {
					t.Errorf("status %d, want %d: %s", r.status, want, r.body)
				}
				if r.status >= 400 {
					if ct := r.header.Get("Content-Type"); ct != web.ProblemMediaType {
						t.Errorf("error with Content-Type %q", ct)
					}
					if after := len(w.Records(store)); after != before {
						t.Errorf("a failed request appended %d events", after-before)
					}
				}
			})
		}
	}
}

// TestMatrixProfiles keeps the matrix honest: every profile of the world
// is one of the matrix's.
func TestMatrixProfiles(t *testing.T) {
	w := newWorld(t)
	for p := range w.Accounts {
		if !slices.Contains(webtest.Profiles, p) {
			t.Errorf("account %s is no profile of the matrix", p)
		}
	}
}
