package api

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/web"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestConsultationTrail: a teacher's and an inspector's reads of a
// student's file enter the trail, the student's own and their parent's do
// not; once written, the head reads them, nobody else does.
func TestConsultationTrail(t *testing.T) {
	w := newWorld(t)
	trail, err := web.NewTrail(web.TrailConfig{Writer: w.H, Now: w.Clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := w.serverWith(w.H, w.Auth, w.Store, func(c *Config) { c.Trail = trail })
	student := w.Accounts[asStudent]
	get := func(who, path string, want int) response {
		t.Helper()
		r := do(t, srv, request{method: "GET", path: path, token: tokenOf(who)})
		if r.status != want {
			t.Fatalf("%s GET %s: %d, want %d: %s", who, path, r.status, want, r.body)
		}
		return r
	}
	file, view := "/api/v1/students/"+student.String()+"/file", "/api/v1/students/"+student.String()+"/view"
	get(asTeacher, file, http.StatusOK)
	get(asTeacher, view, http.StatusOK)
	get(asTeacher, view, http.StatusOK)
	get(asInspector, file, http.StatusOK)
	get(asInspector, "/api/v1/history/"+student.String(), http.StatusOK)
	get(asRelative, file, http.StatusOK)
	get(asRelative, view, http.StatusOK)
	get(asStudent, file, http.StatusOK)
	// A refused read is no consultation.
	get(asGuest, file, http.StatusForbidden)
	if n := trail.Pending(); n != 4 {
		t.Fatalf("%d consultations pending, want 4 (teacher: file, view; inspector: file, history)", n)
	}
	if err := trail.Flush(w.Ctx); err != nil {
		t.Fatal(err)
	}
	if n := trail.Pending(); n != 0 {
		t.Fatalf("%d consultations pending after the flush", n)
	}
	w.CatchUp()

	path := "/api/v1/establishments/" + w.UAI + "/consultations"
	got := mustDecode[[]projections.ConsultationEntry](t, get(asHead, path+"?student="+student.String(), http.StatusOK))
	type read struct {
		reader uuid.UUID
		what   string
		count  int
	}
	want := map[read]bool{
		{w.Accounts[asTeacher], domain.ConsultFile, 1}: true, {w.Accounts[asTeacher], domain.ConsultView, 2}: true,
		{w.Accounts[asInspector], domain.ConsultFile, 1}: true, {w.Accounts[asInspector], domain.ConsultHistory, 1}: true,
	}
	if len(got) != len(want) {
		t.Fatalf("trail %+v, want %d entries", got, len(want))
	}
	for _, c := range got {
		if !want[read{c.Reader, c.What, c.Count}] || c.Student != student || c.Establishment != w.UAI || c.First.IsZero() {
			t.Errorf("unexpected entry %+v", c)
		}
	}
	// Nobody else reads the trail: not a teacher, not the CPE, not the
	// inspectors whose reads it holds.
	for _, who := range []string{asTeacher, asCPE, asInspector, asRelative, asStudent} {
		get(who, path, http.StatusForbidden)
	}
}
