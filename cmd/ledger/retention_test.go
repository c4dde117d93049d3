package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/subjectkeys"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// TestRetention: on both stores, with the clock set (no waiting): a
// message and a punishment of 2024-2025 expire on 7 December 2026 (kept a
// year after their school year, 31 August 2026), those of 2025-2026 and
// 2026-2027 stay. The plan says so and changes nothing; apply records the
// expiry, destroys the keys, and no byte of the expired texts is left in
// the database's files; the history verifies; the read models show the
// placeholder; running it again changes nothing. An establishment that
// keeps its messages two years keeps 2024-2025's.
func TestRetention(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		testRetention(t, "sqlite:"+filepath.Join(dir, "ledger.db"), func(t *testing.T) []string { return filesUnder(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.MustDatabase(t)
		testRetention(t, dsn, func(t *testing.T) []string { return postgresFiles(t, dsn) })
	})
}

func testRetention(t *testing.T, store string, files func(t *testing.T) []string) {
	ctx := context.Background()
	cfg := Config{Store: store, ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	creds, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAuth()
	now := parisTime(t, "2026-12-07 12:00")
	d := &demoApp{app: a, cfg: cfg, creds: creds}
	d.seed(t, now)
	at := func(s string) *commands.Handlers {
		h, err := a.handlersAt(func() time.Time { return parisTime(t, s) })
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	lea, parent, teacher := demoStudentID(0), demoID("account", "parent.durand"), demoID("account", "prof.garcia")
	as := func(who uuid.UUID) commands.Request { return commands.Request{Actor: who} }
	mark := strings.ReplaceAll(uuid.NewString(), "-", "")
	oldMsg, oldPun, lastYear, current := "oldmsg"+mark, "oldpun"+mark, "lastyear"+mark, "current"+mark
	send := func(when, body string) {
		t.Helper()
		if _, err := at(when).SendMessage(ctx, as(teacher), domain.SendMessage{ToAccounts: []uuid.UUID{parent}, Subject: "Réponse", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	send("2025-03-10 10:00", oldMsg)
	if _, err := at("2025-03-10 11:00").GivePunishment(ctx, as(demoID("account", "principale.aubert")), domain.GivePunishment{Student: lea, Kind: domain.PunishmentExtraWork,
		Date: domain.MustDate("2025-03-10"), Reason: oldPun}); err != nil {
		t.Fatal(err)
	}
	send("2025-10-06 10:00", lastYear)
	send("2026-12-01 10:00", current)
	// Two students who left: one in July 2025, whose entry expires a year
	// on, one in November 2026, whose entry stays.
	gone, recent := uuid.New(), uuid.New()
	goneName, recentName := "Partie"+mark, "Recente"+mark
	for _, p := range []struct {
		id           uuid.UUID
		name, opened string
		closed       string
	}{{gone, goneName, "2024-09-02 09:00", "2025-07-04 18:00"}, {recent, recentName, "2025-09-01 09:00", "2026-11-02 18:00"}} {
		if _, err := at(p.opened).OpenAccount(ctx, commands.Request{System: true}, domain.OpenAccount{Account: p.id, Establishment: DemoUAI,
			Profile: domain.ProfileStudent, DisplayName: p.name}); err != nil {
			t.Fatal(err)
		}
		if _, err := at(p.closed).CloseAccount(ctx, commands.Request{System: true}, domain.CloseAccount{Account: p.id, Reason: "départ"}); err != nil {
			t.Fatal(err)
		}
	}
	d.rebuild(t)
	checkpoint(t, a.store)
	if found := search(t, files(t), oldMsg, oldPun, goneName); len(found) != 3 {
		t.Fatalf("before: the search finds %v in the files, want every marker (the read models hold them)", found)
	}

	// The plan: 2024-2025's messages and school-life acts, nothing else
	// of the periodic categories.
	r := &retainer{a: a, at: now, settings: map[string]*domain.Retention{}}
	plan, err := r.plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writePlan(&out, plan, now, a.loc)
	t.Log(out.String())
	expiring := map[string]expiry{}
	for _, e := range plan {
		if e.Category.Periodic() {
			expiring[string(e.Category)+" "+e.Period] = e
		}
	}
	msgs, ok := expiring["messages 2024-2025"]
	if !ok || msgs.Establishment != DemoUAI || msgs.Keys != 1 || msgs.Events != 1 {
		t.Errorf("plan: messages of 2024-2025: %+v, want one key, one event of %s", msgs, DemoUAI)
	}
	if _, ok := expiring["schoollife 2024-2025"]; !ok {
		t.Error("plan: school-life acts of 2024-2025 do not expire")
	}
	left := 0
	for _, e := range plan {
		if e.Category == domain.RetentionDirectory {
			left++
			if e.Period != "2024-2025" || len(e.accounts) != 1 || e.accounts[0] != gone {
				t.Errorf("plan: directory %+v, want the student who left in July 2025", e)
			}
		}
	}
	if left != 1 {
		t.Errorf("plan: %d directory expiries, want 1", left)
	}
	for k := range expiring {
		if !strings.HasSuffix(k, "2024-2025") {
			t.Errorf("plan: %s expires", k)
		}
	}
	if got := retentionEvents(t, d); got != 0 {
		t.Fatalf("the plan recorded %d expiries", got)
	}

	// An establishment that keeps messages two years keeps 2024-2025's
	// until 1 September 2027.
	if _, err := a.commands.SetRetention(ctx, commands.Request{System: true}, domain.SetRetention{Establishment: DemoUAI,
		Category: domain.RetentionMessages, Keep: "2y"}); err != nil {
		t.Fatal(err)
	}
	r2 := &retainer{a: a, at: now, settings: map[string]*domain.Retention{}}
	if plan, err := r2.plan(ctx); err != nil {
		t.Fatal(err)
	} else {
		for _, e := range plan {
			if e.Category == domain.RetentionMessages {
				t.Errorf("kept two years, messages expire: %+v", e)
			}
		}
	}
	if _, err := a.commands.SetRetention(ctx, commands.Request{System: true}, domain.SetRetention{Establishment: DemoUAI,
		Category: domain.RetentionMessages, Keep: "1y"}); err != nil {
		t.Fatal(err)
	}

	// Apply: recorded, destroyed, scrubbed.
	r = &retainer{a: a, at: now, settings: map[string]*domain.Retention{}}
	out.Reset()
	changed, err := r.apply(ctx, &out)
	if err != nil || !changed {
		t.Fatalf("apply: %v, changed %v", err, changed)
	}
	if err := a.scrub(ctx, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, a.store)
	if found := search(t, files(t), oldMsg, oldPun, goneName); len(found) > 0 {
		t.Errorf("after apply, the database's files hold %v", found)
	}
	if found := search(t, files(t), lastYear, current, recentName); len(found) != 3 {
		t.Errorf("after apply, the files hold %v of the messages kept (the read models hold them in clear)", found)
	}
	rep, err := a.store.(verifier).Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	inbox, err := a.queries.Mailbox(ctx, parent, projections.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]bool{}
	for _, m := range inbox.Items {
		msg, err := a.queries.Message(ctx, m.Message)
		if err != nil {
			t.Fatal(err)
		}
		bodies[msg.Body] = true
	}
	if !bodies[subjectkeys.Placeholder] || !bodies[lastYear] || !bodies[current] || bodies[oldMsg] {
		t.Errorf("mailbox bodies after apply: %v", bodies)
	}
	for id, want := range map[uuid.UUID]string{gone: subjectkeys.Placeholder, recent: recentName} {
		acc, err := a.queries.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if acc.DisplayName != want {
			t.Errorf("directory entry %s: %q, want %q", id, acc.DisplayName, want)
		}
	}
	erased := false
	for _, rec := range d.records(t) {
		if e, err := d.reg.DecodeRecord(rec); err == nil {
			if e, ok := e.(domain.SubjectErased); ok && e.Subject == gone && e.Basis == domain.RetentionBasis {
				erased = true
			}
		}
	}
	if !erased {
		t.Error("the student who left is not erased by an event")
	}
	n := retentionEvents(t, d)
	if n != 3 {
		t.Errorf("%d expiries recorded, want messages, school-life acts and directory entries of 2024-2025", n)
	}

	// Again: nothing more.
	r = &retainer{a: a, at: now, settings: map[string]*domain.Retention{}}
	if changed, err := r.apply(ctx, io.Discard); err != nil || changed {
		t.Errorf("apply again: %v, changed %v", err, changed)
	}
	if again := retentionEvents(t, d); again != n {
		t.Errorf("apply again recorded %d more", again-n)
	}
}

// retentionEvents counts the expiries recorded, checking each one's basis.
func retentionEvents(t *testing.T, d *demoApp) int {
	t.Helper()
	n := 0
	for _, r := range d.records(t) {
		if r.Type != (domain.RetentionApplied{}).EventType() {
			continue
		}
		e, err := d.reg.DecodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.(domain.RetentionApplied); got.Basis != domain.RetentionBasis || got.Keys < 1 || r.Metadata.Command != commands.CmdRecordRetentionApplied {
			t.Errorf("expiry %+v by %s", got, r.Metadata.Command)
		}
		n++
	}
	return n
}

// TestEffacementDestroysTheSanctionsKey: once a sanction is effaced, the
// inspectors' audit of the student shows the effacement and the
// placeholder for the sanction's reason; the incident's description, under
// another key, stays.
func TestEffacementDestroysTheSanctionsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := Config{Store: "sqlite:" + filepath.Join(t.TempDir(), "ledger.db"), ActWindow: domain.DefaultActsWindow, PlanWindow: domain.DefaultPlansWindow}
	a, err := openApp(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	creds, closeAuth, err := openAuth(ctx, &cfg, a.store, auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAuth()
	now := parisTime(t, "2026-12-07 12:00")
	d := &demoApp{app: a, cfg: cfg, creds: creds}
	d.seed(t, now)
	h, err := a.handlersAt(func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	lea, head := demoStudentID(0), demoID("account", "principale.aubert")
	as := func(who uuid.UUID) commands.Request { return commands.Request{Actor: who} }
	mark := strings.ReplaceAll(uuid.NewString(), "-", "")
	incident, sanction := uuid.New(), uuid.New()
	if _, err := h.ReportIncident(ctx, as(head), domain.ReportIncident{Incident: incident, Establishment: DemoUAI, OccurredAt: now.Add(-time.Hour),
		Place: "cour", Seriousness: domain.SeriousnessMinor, Description: "faits" + mark,
		Protagonists: []domain.Protagonist{{Account: lea, Role: domain.ProtagonistAuthor}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.PronounceSanction(ctx, as(head), domain.PronounceSanction{Sanction: sanction, Student: lea, Incident: incident,
		Kind: domain.SanctionWarning, Date: domain.DateOf(now), Reason: "motif" + mark}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.EffaceSanction(ctx, as(head), domain.EffaceSanction{Student: lea, Sanction: sanction, Date: domain.DateOf(now),
		Basis: domain.EffacementChangeOfEstablishment}); err != nil {
		t.Fatal(err)
	}
	d.rebuild(t)
	hist, err := a.queries.History(ctx, lea, projections.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var reason, description string
	effaced := false
	for _, entry := range hist.Items {
		e, err := a.reg.Decode(entry.Type, entry.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch e := e.(type) {
		case domain.SanctionPronounced:
			reason = e.Reason
		case domain.IncidentReported:
			description = e.Description
		case domain.SanctionEffaced:
			effaced = e.Sanction == sanction && entry.Time.Equal(now)
		}
	}
	if reason != subjectkeys.Placeholder {
		t.Errorf("the audit shows the effaced sanction's reason: %q", reason)
	}
	if description != "faits"+mark {
		t.Errorf("the incident's description: %q", description)
	}
	if !effaced {
		t.Error("the audit does not show when the sanction was effaced")
	}
	// Effacing it again finishes an interrupted effacement: the key is
	// destroyed, the refusal says it was effaced.
	if _, err := h.EffaceSanction(ctx, as(head), domain.EffaceSanction{Student: lea, Sanction: sanction, Date: domain.DateOf(now),
		Basis: domain.EffacementChangeOfEstablishment}); err == nil {
		t.Error("a second effacement is accepted")
	}
}
