package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/adapters/web/webtest"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// nextLink is the URL of a Link rel="next" header.
var nextLink = regexp.MustCompile(`^<(/api/v1/[^>]+)>; rel="next"$`)

// listBound is a bounded route over a world holding more than its page:
// where its items are in the answer, and how each is named.
type listBound struct {
	name, path, as string
	// most is the largest page; items returns a page's items.
	most  int
	items func(t *testing.T, body []byte) []json.RawMessage
	// next says how the next page is asked for: "after" (a cursor) or
	// "from" (a period).
	next string
}

func arrayItems(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("not an array: %.200s (%v)", body, err)
	}
	return items
}

// fieldItems reads the items of a list in field of an object.
func fieldItems(field string) func(t *testing.T, body []byte) []json.RawMessage {
	return func(t *testing.T, body []byte) []json.RawMessage {
		t.Helper()
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			t.Fatalf("not an object: %.200s (%v)", body, err)
		}
		return arrayItems(t, obj[field])
	}
}

// mustPages reads every page of a bounded route, checking that the first
// is full and names the next, that none is larger than the bound, and that
// no item comes twice; it returns the items.
func mustPages(t *testing.T, s *Server, b listBound) []json.RawMessage {
	t.Helper()
	path := b.path
	seen := map[string]bool{}
	var all []json.RawMessage
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatalf("%s: more than 10 pages", b.name)
		}
		r := do(t, s, request{method: "GET", path: path, token: tokenOf(b.as)})
		if r.status != http.StatusOK {
			t.Fatalf("%s: %s: %d %s", b.name, path, r.status, r.body)
		}
		items := b.items(t, r.body)
		if len(items) > b.most {
			t.Fatalf("%s: a page of %d, at most %d", b.name, len(items), b.most)
		}
		link := r.header.Get("Link")
		if page == 0 && (len(items) != b.most || link == "") {
			t.Fatalf("%s: the first page holds %d of at most %d, next %q: the list was meant to be longer", b.name, len(items), b.most, link)
		}
		for _, it := range items {
			if seen[string(it)] {
				t.Fatalf("%s: %s twice", b.name, it)
			}
			seen[string(it)] = true
		}
		all = append(all, items...)
		if link == "" {
			return all
		}
		m := nextLink.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("%s: Link %q", b.name, link)
		}
		if path = m[1]; !regexp.MustCompile(`[?&]` + b.next + `=`).MatchString(path) {
			t.Fatalf("%s: next page %s does not ask %s=", b.name, path, b.next)
		}
	}
}

// TestListsArePaged: every list that grows with the ledger answers at most
// its page, and names the next page in a Link header; the pages hold the
// whole list, nothing twice. Asking for a larger page is refused.
func TestListsArePaged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.H, w.Ctx
	a := w.Accounts
	teacher, cpe, admin := webtest.As(a[asTeacher]), webtest.As(a[asCPE]), webtest.As(a[asAdmin])
	const n = web.MaxListLimit + 1 // one more than the largest page
	today := w.LessonDate
	for i := range n {
		w.Must(h.SendMessage(ctx, teacher, domain.SendMessage{
			Message: id(fmt.Sprint("msg", i)), ToAccounts: []uuid.UUID{a[asStudent]}, Subject: fmt.Sprint("Message ", i), Body: "…",
		}))
		w.Must(h.PublishArticle(ctx, teacher, domain.PublishArticle{
			Article: id(fmt.Sprint("article", i)), Establishment: w.UAI, Title: fmt.Sprint("Article ", i), Body: "…",
		}))
		w.Must(h.RegisterEstablishment(ctx, admin, domain.RegisterEstablishment{
			UAI: fmt.Sprintf("%07dZ", 1300100+i), Name: fmt.Sprint("Collège ", i), Kind: domain.KindCollege, Departement: "13",
		}))
		w.Must(h.CreateGroup(ctx, cpe, domain.CreateGroup{Group: id(fmt.Sprint("group", i)), Establishment: w.UAI, Kind: domain.GroupTeaching, Name: fmt.Sprintf("G%03d", i)}))
		w.Must(h.RegisterResource(ctx, cpe, domain.RegisterResource{
			Resource: id(fmt.Sprint("resource", i)), Establishment: w.UAI, Kind: domain.ResourceRoom, Name: fmt.Sprintf("Salle %03d", i),
		}))
		start := time.Date(2006, 3, 21+i/10, 8+i%10, 0, 0, 0, webtest.Paris)
		w.Must(h.RequestBooking(ctx, teacher, domain.RequestBooking{
			Resource: w.Resource, Booking: id(fmt.Sprint("booking", i)), Purpose: "Cours", Start: start, End: start.Add(time.Hour),
		}))
		w.Must(h.AssignHomework(ctx, teacher, domain.AssignHomework{
			Homework: id(fmt.Sprint("homework", i)), Group: w.Class, Given: today, Due: today.AddDays(1 + i/10),
			Instructions: fmt.Sprint("Exercice ", i), WorkloadMinutes: 10,
		}))
	}
	// Absences awaiting a decision: both students of the class, at a
	// lesson each morning hour of past days.
	for i := range n/2 + 1 {
		w.Must(h.RecordRollCall(ctx, teacher, domain.RecordRollCall{
			Group: w.Class, Date: today.AddDays(-1 - i/5), Slot: domain.Slot{Start: fmt.Sprintf("%02d:00", 8+i%5), End: fmt.Sprintf("%02d:55", 8+i%5)},
			Subject: "Mathématiques", Absent: []uuid.UUID{a[asStudent], w.Student2},
		}))
	}
	// Activity in many establishments: more scopes than a page of
	// indicators by day holds.
	for i := range 20 {
		w.Must(h.CreateGroup(ctx, admin, domain.CreateGroup{
			Group: id(fmt.Sprint("est-group", i)), Establishment: fmt.Sprintf("%07dZ", 1300100+i), Kind: domain.GroupClass, Name: "6A",
		}))
	}
	w.CatchUp()

	list := strconv.Itoa(web.MaxListLimit)
	for _, b := range []listBound{
		{name: "mailbox", path: "/api/v1/mailbox?limit=500", as: asStudent, most: 500, items: arrayItems, next: "after"},
		{name: "sent", path: "/api/v1/mailbox/sent?limit=500", as: asTeacher, most: 500, items: arrayItems, next: "after"},
		{name: "notifications", path: "/api/v1/notifications?limit=500", as: asStudent, most: 500, items: arrayItems, next: "after"},
		{name: "news", path: "/api/v1/establishments/" + w.UAI + "/news?limit=500", as: asStudent, most: 500, items: arrayItems, next: "after"},
		{name: "history", path: "/api/v1/history/" + a[asTeacher].String() + "?limit=1000", as: asInspector, most: web.MaxHistoryLimit, items: arrayItems, next: "after"},
		{name: "establishments", path: "/api/v1/establishments", as: asStudent, most: web.MaxListLimit, items: arrayItems, next: "after"},
		{name: "groups", path: "/api/v1/establishments/" + w.UAI + "/groups", as: asCPE, most: web.MaxListLimit, items: arrayItems, next: "after"},
		{name: "resources", path: "/api/v1/establishments/" + w.UAI + "/resources", as: asCPE, most: web.MaxListLimit, items: arrayItems, next: "after"},
		{name: "calendar", path: "/api/v1/resources/" + w.Resource.String() + "/bookings?limit=" + list, as: asTeacher, most: web.MaxListLimit, items: arrayItems, next: "after"},
		{name: "agenda", path: "/api/v1/students/" + a[asStudent].String() + "/homework", as: asRelative, most: web.MaxListLimit, items: arrayItems, next: "after"},
		{name: "office awaiting", path: "/api/v1/office", as: asCPE, most: web.MaxListLimit, items: fieldItems("awaiting"), next: "after"},
	} {
		t.Run(b.name, func(t *testing.T) {
			if all := mustPages(t, w.srv, b); len(all) < n {
				t.Errorf("%d items in all, %d were written", len(all), n)
			}
		})
	}
	t.Run("indicators", func(t *testing.T) {
		// A page holds every period of as many establishments as fit.
		path := "/api/v1/indicators?from=2005-09-01&to=2007-08-31&granularity=day&by=establishment"
		perPage := projections.MaxIndicatorRows / 730
		seen := map[string]bool{}
		for page := 0; path != ""; page++ {
			r := do(t, w.srv, request{method: "GET", path: path, token: tokenOf(asEvaluator)})
			var rows []projections.IndicatorRow
			if err := json.Unmarshal(r.body, &rows); r.status != http.StatusOK || err != nil {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			scopes := map[string]bool{}
			for _, row := range rows {
				if seen[row.Scope] && !scopes[row.Scope] {
					t.Fatalf("scope %s on two pages", row.Scope)
				}
				scopes[row.Scope], seen[row.Scope] = true, true
			}
			if len(scopes) > perPage || len(rows) > projections.MaxIndicatorRows || (page == 0 && len(scopes) != perPage) {
				t.Fatalf("page %d: %d rows of %d scopes, a page holds %d", page, len(rows), len(scopes), perPage)
			}
			path = ""
			if m := nextLink.FindStringSubmatch(r.header.Get("Link")); m != nil {
				path = m[1]
			}
		}
		if len(seen) < 20 {
			t.Errorf("%d establishments in all pages, 20 were active", len(seen))
		}
	})

	for _, path := range []string{
		"/api/v1/mailbox?limit=501", "/api/v1/history/" + a[asTeacher].String() + "?limit=1001",
		"/api/v1/establishments?limit=501", "/api/v1/office?limit=501", "/api/v1/mailbox?after=not*a*cursor",
	} {
		as := asCPE
		if strings.Contains(path, "/history/") {
			as = asInspector
		}
		mustProblem(t, do(t, w.srv, request{method: "GET", path: path, token: tokenOf(as)}), http.StatusBadRequest, "invalid-query-parameter")
	}
}

// TestDatedObjectsArePaged: a student's file and a cahier de textes over a
// period holding more than a page of one kind stop at the last whole day
// that fits, their Link naming the rest.
func TestDatedObjectsArePaged(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, ctx := w.H, w.Ctx
	a := w.Accounts
	teacher := webtest.As(a[asTeacher])
	// Before the world's own lesson: the previous school year.
	start := domain.MustDate("2005-01-03")
	const n = projections.MaxDatedItems + 1
	for i := range n {
		day, slot := start.AddDays(i/10), domain.Slot{Start: fmt.Sprintf("%02d:00", 8+i%10), End: fmt.Sprintf("%02d:55", 8+i%10)}
		// A lesson each: a stream each, as in a school.
		w.Must(h.RecordRollCall(ctx, teacher, domain.RecordRollCall{
			Group: w.Class, Date: day, Slot: slot, Subject: "Mathématiques", Absent: []uuid.UUID{a[asStudent]},
		}))
		w.Must(h.RecordLessonContent(ctx, teacher, domain.RecordLessonContent{
			Group: w.Class, Date: day, Slot: slot, Subject: "Mathématiques", Content: fmt.Sprint("Chapitre ", i),
		}))
	}
	w.CatchUp()
	for _, b := range []listBound{
		{name: "file", path: "/api/v1/students/" + a[asStudent].String() + "/file", as: asRelative, most: projections.MaxDatedItems, items: fieldItems("absences"), next: "from"},
		{name: "textbook", path: "/api/v1/groups/" + w.Class.String() + "/textbook", as: asTeacher, most: projections.MaxDatedItems, items: fieldItems("lessons"), next: "from"},
		{name: "file as of", path: "/api/v1/students/" + a[asStudent].String() + "/file/as-of?at=2006-03-14", as: asInspector, most: projections.MaxDatedItems, items: fieldItems("absences"), next: "from"},
	} {
		t.Run(b.name, func(t *testing.T) {
			// Ten a day: the first page holds whole days up to the bound.
			if all := mustPages(t, w.srv, b); len(all) < n {
				t.Errorf("%d in all, %d were written", len(all), n)
			}
		})
	}
}

// TestExportStreamsOverHTTP: an establishment's export larger than its
// buffers goes out in parts, every event of the establishment once, in log
// order.
func TestExportStreamsOverHTTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	teacher := webtest.As(w.Accounts[asTeacher])
	for i := range 1500 {
		w.Must(w.H.PublishArticle(w.Ctx, teacher, domain.PublishArticle{
			Article: id(fmt.Sprint("export", i)), Establishment: w.UAI, Title: fmt.Sprint("Article ", i), Body: strings.Repeat("texte ", 20),
		}))
	}
	var want []string
	for _, r := range w.Records(w.Store) {
		if r.Metadata.Establishment == w.UAI {
			want = append(want, r.Position.String())
		}
	}
	req := httptest.NewRequest("GET", "/api/v1/establishments/"+w.UAI+"/export", nil)
	req.Header.Set("Authorization", "Bearer "+tokenOf(asInspector))
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !rec.Flushed || rec.Body.Len() < 256<<10 {
		t.Fatalf("%d, flushed %v, %d bytes: not a stream larger than its buffers", rec.Code, rec.Flushed, rec.Body.Len())
	}
	var got []string
	for line := range strings.SplitSeq(strings.TrimSuffix(rec.Body.String(), "\n"), "\n") {
		var e projections.ExportedEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, e.Position.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d events exported, %d in the log", len(got), len(want))
	}
}
