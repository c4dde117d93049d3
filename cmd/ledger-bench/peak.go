package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/commands"
	"github.com/schoollife/ledger/domain"
)

// The morning peak: an académie's 8 a.m. Every class's teacher records
// the first lesson's roll call within a few seconds while the parents'
// pages are open on their live socket.

// peakPassword is the password of every account of the peak.
const peakPassword = "bench-ledger-2007"

// classesPerEstablishment splits the classes among collèges.
const classesPerEstablishment = 50

// peakWorld names the accounts and groups of the peak: ids derive from
// their role and number, so that they can be found again.
type peakWorld struct {
	classes, size, parents int
}

func peakID(kind string, n ...int) uuid.UUID {
	parts := []string{"bench-peak", kind}
	for _, i := range n {
		parts = append(parts, strconv.Itoa(i))
	}
	return domain.DeterministicID(parts...)
}

func (w peakWorld) uai(c int) string           { return fmt.Sprintf("0139%03dZ", c/classesPerEstablishment) }
func (w peakWorld) group(c int) uuid.UUID      { return peakID("group", c) }
func (w peakWorld) teacher(c int) uuid.UUID    { return peakID("teacher", c) }
func (w peakWorld) student(c, j int) uuid.UUID { return peakID("student", c, j) }
func (w peakWorld) parent(p int) uuid.UUID     { return peakID("parent", p) }
func (w peakWorld) establishments() int {
	return (w.classes + classesPerEstablishment - 1) / classesPerEstablishment
}

// childOf is the class and place of parent p's child: parents spread over
// the classes, so each class has parents/classes of them (its first
// students).
func (w peakWorld) childOf(p int) (c, j int) { return p % w.classes, p / w.classes }

// parentOf returns the parent of student j of class c, if any.
func (w peakWorld) parentOf(c, j int) (int, bool) {
	p := j*w.classes + c
	return p, p < w.parents
}

func teacherLogin(c int) string { return fmt.Sprintf("prof.%05d", c) }
func parentLogin(p int) string  { return fmt.Sprintf("parent.%05d", p) }

// setup writes the directory through the command handlers: the
// establishments, the accounts, the classes with their teacher and
// students, and the parents' links.
func (e *env) peakSetup(ctx context.Context, s commands.EventStore, w peakWorld) error {
	h, err := commands.New(commands.Config{Store: s, Registry: e.reg})
	if err != nil {
		return err
	}
	sys := commands.Request{System: true}
	const workers = 32
	for i := range w.establishments() {
		if _, err := h.RegisterEstablishment(ctx, sys, domain.RegisterEstablishment{
			UAI: w.uai(i * classesPerEstablishment), Name: fmt.Sprintf("Collège n° %d", i+1), Kind: domain.KindCollege, Departement: "13",
		}); err != nil {
			return err
		}
	}
	accounts := w.classes * (1 + w.size)
	p := startProgress(e.m.stderr, "peak setup: accounts", accounts+w.parents)
	err = parallel(ctx, accounts+w.parents, workers, p, func(ctx context.Context, i int) error {
		var cmd domain.OpenAccount
		switch {
		case i < w.classes:
			cmd = domain.OpenAccount{Account: w.teacher(i), Establishment: w.uai(i), Profile: domain.ProfileTeacher, DisplayName: fmt.Sprintf("Professeur %d", i)}
		case i < accounts:
			c, j := (i-w.classes)/w.size, (i-w.classes)%w.size
			cmd = domain.OpenAccount{Account: w.student(c, j), Establishment: w.uai(c), Profile: domain.ProfileStudent, DisplayName: fmt.Sprintf("Élève %d-%d", c, j)}
		default:
			q := i - accounts
			c, _ := w.childOf(q)
			cmd = domain.OpenAccount{Account: w.parent(q), Establishment: w.uai(c), Profile: domain.ProfileRelative, DisplayName: fmt.Sprintf("Parent %d", q)}
		}
		_, err := h.OpenAccount(ctx, sys, cmd)
		return err
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("open accounts: %w", err)
	}
	p = startProgress(e.m.stderr, "peak setup: classes", w.classes)
	err = parallel(ctx, w.classes, workers, p, func(ctx context.Context, c int) error {
		if _, err := h.CreateGroup(ctx, sys, domain.CreateGroup{Group: w.group(c), Establishment: w.uai(c), Kind: domain.GroupClass, Name: fmt.Sprintf("6e %d", c)}); err != nil {
			return err
		}
		if _, err := h.JoinGroup(ctx, sys, domain.JoinGroup{Group: w.group(c), Account: w.teacher(c), Role: domain.RoleHeadTeacher, Subject: "Mathématiques"}); err != nil {
			return err
		}
		for j := range w.size {
			if _, err := h.JoinGroup(ctx, sys, domain.JoinGroup{Group: w.group(c), Account: w.student(c, j), Role: domain.RoleStudent}); err != nil {
				return err
			}
		}
		return nil
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("classes: %w", err)
	}
	p = startProgress(e.m.stderr, "peak setup: parents' links", w.parents)
	err = parallel(ctx, w.parents, workers, p, func(ctx context.Context, q int) error {
		c, j := w.childOf(q)
		_, err := h.LinkRelative(ctx, sys, domain.LinkRelative{Student: w.student(c, j), Relative: w.parent(q), LegalGuardian: true})
		return err
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	return nil
}

// authService is the sign-in service on the store's database, as the
// server opens it; params are those of the hashes it writes.
func authService(b *benchStore, params auth.Params) (*auth.Service, error) {
	cfg := auth.Config{Params: params, MaxHashing: 8}
	if b.pg != nil {
		return auth.NewPostgres(b.pg.Pool(), cfg)
	}
	return auth.NewSQLite(b.sqlite.DB(), b.sqlite.WithTx, cfg)
}

// cheapParams hash the benchmark's passwords quickly. The server's first
// sign-in with each replaces the hash with one of its own parameters
// (argon2id m=64 MiB, t=1, p=2), so every sign-in costs what a real one
// does, once, and the stored hashes end up the server's.
var cheapParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// peakAccount is an account that opens a client.
type peakAccount struct {
	id    uuid.UUID
	login string
	token string
}

// pendingNote is an absence whose parent must be told.
type pendingNote struct {
	parent uuid.UUID
	sent   atomic.Int64 // unix ns at which the roll call was sent
	got    atomic.Bool
}

func (e *env) peakScenario(ctx context.Context) error {
	kind := e.cfg.PeakStore
	w := peakWorld{classes: e.cfg.Classes, size: e.cfg.ClassSize, parents: e.cfg.Parents}
	cas := fmt.Sprintf("%d roll calls of %d in %s, %d parents", w.classes, w.size, e.cfg.Window, w.parents)
	e.rep.Set("peak", cas+" on "+kind)

	// The directory is written with synchronous=NORMAL on SQLite (a set-up,
	// not a measure); the server opens the file with its default, FULL.
	b, err := e.freshStore(ctx, kind, "peak", sqlite.WithSynchronous(sqlite.SyncNormal))
	if err != nil {
		return err
	}
	defer b.Close()
	began := time.Now()
	if err := e.peakSetup(ctx, b.store(), w); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	e.logf("  directory written in %s", time.Since(began).Round(time.Second))

	// Credentials of the teachers and parents; the accounts beyond
	// --signins get their token from the sign-in service directly.
	svc, err := authService(b, cheapParams)
	if err != nil {
		return err
	}
	defer svc.Close()
	teachers := make([]peakAccount, w.classes)
	for c := range teachers {
		teachers[c] = peakAccount{id: w.teacher(c), login: teacherLogin(c)}
	}
	parents := make([]peakAccount, w.parents)
	for q := range parents {
		parents[q] = peakAccount{id: w.parent(q), login: parentLogin(q)}
	}
	// Interleaved, so that a partial --signins takes both kinds.
	var all []*peakAccount
	for i := range max(len(teachers), len(parents)) {
		if i < len(teachers) {
			all = append(all, &teachers[i])
		}
		if i < len(parents) {
			all = append(all, &parents[i])
		}
	}
	signins := len(all)
	if e.cfg.Signins >= 0 {
		signins = min(e.cfg.Signins, len(all))
	}
	p := startProgress(e.m.stderr, "peak setup: credentials", len(all))
	err = parallel(ctx, len(all), 8, p, func(ctx context.Context, i int) error {
		a := all[i]
		if err := svc.SetPassword(ctx, a.id, a.login, peakPassword); err != nil {
			return err
		}
		if i >= signins {
			tok, _, err := svc.NewSession(ctx, a.id, auth.KindToken)
			a.token = tok
			return err
		}
		return nil
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	e.rep.Set("peak_signins_over_http", fmt.Sprintf("%d of %d accounts (the others' tokens issued by auth.Service.NewSession)", signins, len(all)))

	srv, err := e.startServer(ctx, e.serverSpec(b))
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			e.logf("  %v", err)
		}
	}()
	if err := e.waitCaughtUp(ctx, b, 30*time.Minute); err != nil {
		return err
	}
	api := newAPIClient(srv.base, 512)

	// Sign-ins: argon2id on the server, two at a time (its MaxHashing).
	var signLat latencies
	p = startProgress(e.m.stderr, "sign-ins (POST /api/v1/tokens)", signins)
	err = parallel(ctx, signins, 4, p, func(ctx context.Context, i int) error {
		t := time.Now()
		tok, err := api.signIn(ctx, all[i].login, peakPassword)
		if err != nil {
			return err
		}
		signLat.Add(time.Since(t))
		all[i].token = tok
		return nil
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	if err := e.waitCaughtUp(ctx, b, 10*time.Minute); err != nil {
		return err
	}

	// The parents' sockets.
	notes := map[uuid.UUID]*pendingNote{}
	type rollCall struct {
		c   int
		cmd domain.RecordRollCall
	}
	today := domain.DateOf(time.Now().In(e.loc))
	slot := domain.Slot{Start: "08:00", End: "08:55"}
	rnd := rand.New(rand.NewPCG(7, 2007))
	calls := make([]rollCall, w.classes)
	for c := range calls {
		cmd := domain.RecordRollCall{Group: w.group(c), Date: today, Slot: slot, Subject: "Mathématiques", Absent: []uuid.UUID{}, Late: []domain.Late{}}
		// About 10 % absent; one of them a child whose parent is
		// connected, when the class has one, so that most roll calls
		// notify someone.
		linked := 0
		for j := range w.size {
			if _, ok := w.parentOf(c, j); ok {
				linked++
			}
		}
		picked := map[int]bool{}
		if linked > 0 && e.cfg.PeakAbsentees > 0 {
			picked[rnd.IntN(linked)] = true
		}
		for len(picked) < e.cfg.PeakAbsentees {
			picked[rnd.IntN(w.size)] = true
		}
		for j := range w.size {
			if !picked[j] {
				continue
			}
			st := w.student(c, j)
			cmd.Absent = append(cmd.Absent, st)
			if q, ok := w.parentOf(c, j); ok {
				notes[domain.AbsenceID(cmd.LessonID(), st)] = &pendingNote{parent: w.parent(q)}
			}
		}
		calls[c] = rollCall{c: c, cmd: cmd}
	}
	rnd.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })

	var (
		noteLat                            latencies
		misdelivered, duplicates, closedWS atomic.Int64
		received                           atomic.Int64
		allGot                             = make(chan struct{})
		allOnce                            sync.Once
		sockets                            = make([]*websocket.Conn, len(parents))
		readers                            sync.WaitGroup
	)
	reader := func(ws *websocket.Conn, parent uuid.UUID) {
		defer readers.Done()
		for {
			_, raw, err := ws.ReadMessage()
			now := time.Now()
			if err != nil {
				closedWS.Add(1)
				return
			}
			var f liveFrame
			if json.Unmarshal(raw, &f) != nil || f.Type != "absence.recorded.v1" {
				continue
			}
			var d struct {
				Absence uuid.UUID `json:"absence"`
			}
			if json.Unmarshal(f.Data, &d) != nil {
				continue
			}
			n, ok := notes[d.Absence]
			switch {
			case !ok || n.parent != parent:
				misdelivered.Add(1)
			case !n.got.CompareAndSwap(false, true):
				duplicates.Add(1)
			default:
				noteLat.Add(now.Sub(time.Unix(0, n.sent.Load())))
				if received.Add(1) == int64(len(notes)) {
					allOnce.Do(func() { close(allGot) })
				}
			}
		}
	}
	defer func() {
		for _, ws := range sockets {
			if ws != nil {
				ws.Close()
			}
		}
		readers.Wait()
	}()
	p = startProgress(e.m.stderr, "parents' live sockets", len(parents))
	err = parallel(ctx, len(parents), 32, p, func(ctx context.Context, q int) error {
		ws, err := dialLive(ctx, srv.base, parents[q].token)
		if err != nil {
			return err
		}
		sockets[q] = ws
		readers.Add(1)
		go reader(ws, parents[q].id)
		return nil
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("parent sockets: %w", err)
	}

	// Baseline: GET /api/v1/me (token, directory read: what every command
	// pays before its own work) at the same pace, from the same clients.
	base, _, err := e.paced(ctx, len(calls), func(ctx context.Context, i int) (int, error) {
		return api.call(ctx, "GET", "/api/v1/me", teachers[calls[i].c].token, nil, nil)
	})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	// The roll calls, spread evenly over the window, with the CPU each
	// side used meanwhile.
	usage := e.startUsage(b, srv.pid())
	var perf *exec.Cmd
	if e.cfg.Perf != "" {
		perf = exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(srv.pid()), "-o", e.cfg.Perf)
		perf.Stdout, perf.Stderr = io.Discard, io.Discard
		if err := perf.Start(); err != nil {
			e.rep.Note("perf: %v", err)
			perf = nil
		}
	}
	cmdLat, sent, err := e.paced(ctx, len(calls), func(ctx context.Context, i int) (int, error) {
		rc := calls[i]
		now := time.Now().UnixNano()
		for _, st := range rc.cmd.Absent {
			if n, ok := notes[domain.AbsenceID(rc.cmd.LessonID(), st)]; ok {
				n.sent.Store(now)
			}
		}
		return api.call(ctx, "POST", "/api/v1/rollcalls", teachers[rc.c].token, rc.cmd, nil)
	})
	if err != nil {
		return fmt.Errorf("roll calls: %w", err)
	}
	if len(notes) > 0 {
		select {
		case <-allGot:
		case <-time.After(30 * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if perf != nil {
		_ = perf.Process.Signal(os.Interrupt)
		_ = perf.Wait()
	}
	e.rep.Add(usage.rows(scenarioPeak, kind, "CPU during the roll calls")...)
	lost := int64(len(notes)) - received.Load()
	cl, nl, bl := cmdLat.summary, noteLat.Summary(), base.summary
	e.logf("  roll calls: %d ok, %d failed, sent over %s; p50 %.1f ms, p99 %.1f ms (GET /me p50 %.1f, p99 %.1f)",
		cmdLat.ok, cmdLat.failed, sent.Round(time.Millisecond), cl.P50, cl.P99, bl.P50, bl.P99)
	e.logf("  notifications: %d of %d, p50 %.1f ms, p99 %.1f ms; %d misdelivered, %d duplicates, %d sockets closed",
		received.Load(), len(notes), nl.P50, nl.P99, misdelivered.Load(), duplicates.Load(), closedWS.Load())
	if cmdLat.failed > 0 {
		e.rep.Note("peak: %d roll calls failed, e.g. %v", cmdLat.failed, cmdLat.errs)
	}
	sig := signLat.Summary()
	rows := []Row{
		atMost(Row{Scenario: scenarioPeak, Store: kind, Case: "roll call command", Metric: "p99", Unit: "ms", Value: cl.P99, Baseline: "GET /me", BaselineValue: bl.P99}, 100, false),
		{Scenario: scenarioPeak, Store: kind, Case: "roll call command", Metric: "p50", Unit: "ms", Value: cl.P50, Baseline: "GET /me", BaselineValue: bl.P50},
		{Scenario: scenarioPeak, Store: kind, Case: "roll call command", Metric: "max", Unit: "ms", Value: cl.Max, Baseline: "GET /me", BaselineValue: bl.Max},
		atMost(Row{Scenario: scenarioPeak, Store: kind, Case: "roll call command", Metric: "failed", Unit: "commands", Value: float64(cmdLat.failed)}, 0, false),
		{Scenario: scenarioPeak, Store: kind, Case: "roll call command", Metric: "sent within", Unit: "s", Value: sent.Seconds()},
		atMost(Row{Scenario: scenarioPeak, Store: kind, Case: "absence notification", Metric: "p99", Unit: "ms", Value: nl.P99, Baseline: "command p99", BaselineValue: cl.P99}, 250, false),
		{Scenario: scenarioPeak, Store: kind, Case: "absence notification", Metric: "p50", Unit: "ms", Value: nl.P50, Baseline: "command p50", BaselineValue: cl.P50},
		{Scenario: scenarioPeak, Store: kind, Case: "absence notification", Metric: "max", Unit: "ms", Value: nl.Max},
		{Scenario: scenarioPeak, Store: kind, Case: "absence notification", Metric: "expected", Unit: "notes", Value: float64(len(notes))},
		atMost(Row{Scenario: scenarioPeak, Store: kind, Case: "absence notification", Metric: "lost", Unit: "notes", Value: float64(lost)}, 0, false),
		atMost(Row{Scenario: scenarioPeak, Store: kind, Case: "absence notification", Metric: "misdelivered", Unit: "notes", Value: float64(misdelivered.Load())}, 0, false),
		{Scenario: scenarioPeak, Store: kind, Case: "sign-in (argon2id)", Metric: "p50", Unit: "ms", Value: sig.P50},
		{Scenario: scenarioPeak, Store: kind, Case: "sign-in (argon2id)", Metric: "count", Unit: "sign-ins", Value: float64(sig.N)},
	}
	e.rep.Add(rows...)
	if closed := closedWS.Load(); closed > 0 {
		e.rep.Note("peak: %d parent sockets were closed by the server during the run", closed)
	}
	return nil
}

// usage is the CPU used by each side from a starting point: the server
// (serverPID; 0 when the work runs in this process), this process,
// Postgres and the rest of the machine.
type usage struct {
	began                              time.Time
	server, self, pgBackends, pgShared float64
	busy, total                        float64
	serverPID                          int
	db                                 string
}

func (e *env) startUsage(b *benchStore, serverPID int) *usage {
	u := &usage{began: time.Now(), serverPID: serverPID}
	if b.pg != nil {
		if parsed, err := url.Parse(b.dsn); err == nil {
			u.db = strings.TrimPrefix(parsed.Path, "/")
		}
	}
	u.server, u.self = cpuSeconds(serverPID), cpuSeconds(os.Getpid())
	u.pgBackends, u.pgShared = postgresCPU(u.db)
	u.busy, u.total = machineCPU()
	return u
}

// rows reports, in cores (CPU seconds per second), what each side used
// since the start.
func (u *usage) rows(scenario, store, cas string) []Row {
	wall := time.Since(u.began).Seconds()
	server, own := cpuSeconds(u.serverPID)-u.server, cpuSeconds(os.Getpid())-u.self
	pgb, pgs := postgresCPU(u.db)
	pgb, pgs = pgb-u.pgBackends, pgs-u.pgShared
	busy, total := machineCPU()
	busy, total = busy-u.busy, total-u.total
	cores := total / wall
	row := func(metric string, v float64) Row {
		return Row{Scenario: scenario, Store: store, Case: cas, Metric: metric, Unit: "cores", Value: v / wall}
	}
	var rows []Row
	ownName := "load generator"
	if u.serverPID != 0 {
		rows = append(rows, row("ledger serve", server))
	} else {
		ownName = "ledger-bench" // no server: the work runs in this process
	}
	return append(rows,
		row("postgres", pgb+pgs),
		row(ownName, own),
		row("other processes", max(0, busy-server-pgb-pgs-own)),
		row("idle", max(0, total-busy)),
		Row{Scenario: scenario, Store: store, Case: cas, Metric: "cores", Unit: "cores", Value: cores},
	)
}

// serverSpec is the --store of the server: the store's, with
// pool_max_conns when --server-pool is set.
func (e *env) serverSpec(b *benchStore) string {
	spec := b.spec()
	if b.kind != storePostgres || e.cfg.ServerPool <= 0 {
		return spec
	}
	u, err := url.Parse(spec)
	if err != nil {
		return spec
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(e.cfg.ServerPool))
	u.RawQuery = q.Encode()
	return u.String()
}

// pacedResult is what paced requests did.
type pacedResult struct {
	summary    summary
	ok, failed int
	errs       []string
}

// paced sends n requests evenly spread over the window, each from its own
// goroutine at its own time (an open loop: a slow answer does not delay
// the next request), and returns their latencies and how long sending
// them took.
func (e *env) paced(ctx context.Context, n int, do func(ctx context.Context, i int) (int, error)) (pacedResult, time.Duration, error) {
	var (
		lat  latencies
		fail firstErrors
		wg   sync.WaitGroup
		last atomic.Int64
	)
	p := startProgress(e.m.stderr, "paced requests", n)
	start := time.Now().Add(100 * time.Millisecond)
	for i := range n {
		at := start.Add(time.Duration(int64(e.cfg.Window) * int64(i) / int64(n)))
		wg.Go(func() {
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				return
			}
			t := time.Now()
			for ns := t.Sub(start).Nanoseconds(); ; {
				old := last.Load()
				if ns <= old || last.CompareAndSwap(old, ns) {
					break
				}
			}
			_, err := do(ctx, i)
			if err != nil {
				fail.Add(err)
			} else {
				lat.Add(time.Since(t))
			}
			p.Add(1)
		})
	}
	wg.Wait()
	p.Done()
	if err := ctx.Err(); err != nil {
		return pacedResult{}, 0, err
	}
	res := pacedResult{summary: lat.Summary(), ok: lat.Len(), failed: fail.n, errs: fail.errs}
	if res.ok == 0 && n > 0 {
		return res, 0, errors.New(fmt.Sprint(fail.errs))
	}
	return res, time.Duration(last.Load()), nil
}
