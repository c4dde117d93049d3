package directoryimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/adapters/postgres"
	"github.com/schoollife/ledger/adapters/postgres/pgtest"
	"github.com/schoollife/ledger/adapters/readstore"
	"github.com/schoollife/ledger/adapters/sqlite"
	"github.com/schoollife/ledger/domain"
	"github.com/schoollife/ledger/projections"
)

// jobWorld is an event store and the read-model store beside it (the
// jobs' store), with an administrator of every establishment.
type jobWorld struct {
	t     *testing.T
	x     *harness
	docs  projections.DocStore
	admin domain.Actor
}

// forEachJobStore runs fn with the jobs kept on SQLite (the embedded
// default: events and read models in one file) and on Postgres.
func forEachJobStore(t *testing.T, fn func(t *testing.T, w *jobWorld)) {
	t.Helper()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, newJobWorld(t, kind))
		})
	}
}

func newJobWorld(t *testing.T, kind string) *jobWorld {
	t.Helper()
	ctx := context.Background()
	w := &jobWorld{t: t}
	switch kind {
	case "sqlite":
		es, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), sqlite.WithSynchronous(sqlite.SyncNormal))
		if err != nil {
			t.Fatal(err)
		}
		docs, err := readstore.NewSQLite(es.DB(), es.WithTx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := errors.Join(docs.Close(), es.Close()); err != nil {
				t.Error(err)
			}
		})
		w.x, w.docs = newHarness(t, es), docs
	case "postgres":
		es, err := postgres.Open(ctx, pgtest.MustDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := es.Migrate(ctx); err != nil {
			_ = es.Close()
			t.Fatal(err)
		}
		docs := readstore.NewPostgres(es.Pool())
		t.Cleanup(func() {
			if err := errors.Join(docs.Close(), es.Close()); err != nil {
				t.Error(err)
			}
		})
		// The events in memory: the Postgres log shows a commit only once
		// every older transaction of the server ended, which parallel tests
		// delay, and the jobs' store is what is tested here.
		w.x, w.docs = newHarness(t, memory.New()), docs
	default:
		t.Fatalf("no store %q", kind)
	}
	w.admin = domain.Actor{Account: w.x.openActor(t, "admin", "", domain.ProfileAdmin), Profile: domain.ProfileAdmin}
	return w
}

// MustJobs returns a job service on the world's stores, closed when the
// test ends; edit changes its configuration.
func (w *jobWorld) MustJobs(edit func(*JobsConfig)) *Jobs {
	w.t.Helper()
	cfg := JobsConfig{Importer: w.x.im, Store: NewDocJobs(w.docs), ProgressEvery: 10 * time.Millisecond, Lease: time.Minute}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewJobs(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = s.Close() })
	return s
}

// upload copies fixture files (testdata paths or absolute ones, files or
// directories of *.xml and *.csv files) to a directory of their own, as an
// upload leaves them.
func (w *jobWorld) upload(paths ...string) ([]File, string) {
	w.t.Helper()
	dir, err := os.MkdirTemp(w.t.TempDir(), "upload-")
	if err != nil {
		w.t.Fatal(err)
	}
	var files []File
	add := func(src string) {
		b, err := os.ReadFile(src)
		if err != nil {
			w.t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			w.t.Fatal(err)
		}
		files = append(files, File{Name: filepath.Base(src), Path: dst, Size: int64(len(b))})
	}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join("testdata", p)
		}
		st, err := os.Stat(p)
		if err != nil {
			w.t.Fatal(err)
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); ext == ".xml" || ext == ".csv" {
				add(filepath.Join(p, e.Name()))
			}
		}
	}
	return files, dir
}

// start starts an AAF import job of fixture paths as the administrator.
func (w *jobWorld) start(s *Jobs, key string, dryRun bool, paths ...string) (*Job, bool, []File, string) {
	w.t.Helper()
	files, dir := w.upload(paths...)
	opts := DefaultOptions()
	opts.DryRun = dryRun
	job, replayed, err := s.Start(context.Background(), StartJob{Actor: w.admin, Files: files, Dir: dir,
		Format: FormatAAF, Options: opts, IdempotencyKey: key})
	if err != nil {
		w.t.Fatalf("start: %v", err)
	}
	return job, replayed, files, dir
}

// MustWait reads the job as the administrator until ok holds (30 s at
// most), and returns it.
func (w *jobWorld) MustWait(s *Jobs, id uuid.UUID, what string, ok func(*Job) bool) *Job {
	w.t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		job, err := s.Status(context.Background(), w.admin, id)
		if err != nil {
			w.t.Fatalf("status of %s: %v", id, err)
		}
		if ok(job) {
			return job
		}
		select {
		case <-tick.C:
		case <-deadline:
			w.t.Fatalf("job %s never %s: %+v", id, what, job)
		}
	}
}

// MustEnd waits for a job to end.
func (w *jobWorld) MustEnd(s *Jobs, id uuid.UUID) *Job {
	w.t.Helper()
	return w.MustWait(s, id, "ended", func(j *Job) bool { return !j.State.Live() })
}

// mustBeGone fails unless the upload's files and directory are removed.
func mustBeGone(t *testing.T, files []File, dir string) {
	t.Helper()
	for _, p := range append([]string{dir}, pathsOf(files)...) {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
}

func pathsOf(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

// gate holds back the reading of one file until opened: a job stays
// running, at a known point, for as long as the test needs.
type gate struct {
	name    string
	release chan struct{}
	once    sync.Once
}

// gated makes s read the file named name only once the gate opens (at the
// latest when the test ends).
func gated(t *testing.T, s *Jobs, name string) *gate {
	t.Helper()
	g := &gate{name: name, release: make(chan struct{})}
	s.open = func(path string) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil || filepath.Base(path) != g.name {
			return f, err
		}
		return gatedFile{f, g}, nil
	}
	t.Cleanup(g.open) // before the service's Close, registered earlier
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

type gatedFile struct {
	io.ReadCloser
	g *gate
}

func (f gatedFile) Read(p []byte) (int, error) {
	<-f.g.release
	return f.ReadCloser.Read(p)
}

// A job runs in the background: queued, then running with its progress
// written as it reads, then done with its report; its files are gone, and
// only those the rule allows read it.
func TestJobRuns(t *testing.T) {
	forEachJobStore(t, func(t *testing.T, w *jobWorld) {
		ctx := context.Background()
		s := w.MustJobs(nil)
		g := gated(t, s, "ENT_Complet_20240902_PersRelEleve_0000.xml") // the last one read
		job, replayed, files, dir := w.start(s, "", false, "aaf/full")
		if replayed || job.State != JobQueued || job.Actor != w.admin.Account || len(job.Files) != 4 {
			t.Fatalf("started %+v, replayed %v", job, replayed)
		}
		var total int64
		for _, f := range files {
			total += f.Size
		}
		running := w.MustWait(s, job.ID, "reading", func(j *Job) bool {
			return j.State == JobRunning && j.Progress.Phase == PhaseParse && j.Progress.BytesRead > 0
		})
		p := running.Progress
		if p.BytesTotal != total || p.ReadPercent <= 0 || p.ReadPercent >= 100 || running.Started.IsZero() || running.Report != nil {
			t.Fatalf("running %+v", running)
		}
		for _, f := range files {
			if _, err := os.Stat(f.Path); err != nil {
				t.Fatalf("a running job's file: %v", err)
			}
		}
		// Before the feed is read, an administrator of one establishment
		// cannot tell it concerns theirs.
		local := domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0130001A"}
		if _, err := s.Status(ctx, local, job.ID); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("a local administrator read a running job: %v", err)
		}

		g.open()
		done := w.MustEnd(s, job.ID)
		if done.State != JobDone || done.Error != "" || done.Report == nil || done.Truncated {
			t.Fatalf("ended %+v", done)
		}
		wantCounts(t, done.Report.Applied, map[ChangeKind]int{
			RegisterEstablishment: 2, RecordFeedKey: 2, OpenAccount: 15, CreateGroup: 4, JoinGroup: 11, LinkRelative: 7,
		})
		p = done.Progress
		if p.ReadPercent != 100 || p.BytesRead != total || p.Changes != p.ChangesTotal || p.Events != int64(done.Report.Events) || p.Events == 0 {
			t.Errorf("final progress %+v, report events %d", p, done.Report.Events)
		}
		if done.Report.CorrelationID != job.ID || done.Finished.Before(done.Started) || !done.Started.Before(done.Finished.Add(time.Nanosecond)) {
			t.Errorf("report %s, started %s, finished %s", done.Report.CorrelationID, done.Started, done.Finished)
		}
		if got := strings.Join(done.Establishments, ","); got != "0130001A,0130002B" {
			t.Errorf("establishments %s", got)
		}
		mustBeGone(t, files, dir)

		readers := []struct {
			name string
			a    domain.Actor
			ok   bool
		}{
			{"the administrator who started it", w.admin, true},
			{"an administrator of every establishment", domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin}, true},
			{"an inspector of both", domain.Actor{Account: uuid.New(), Profile: domain.ProfileInspector, Habilitations: []string{"0130001A", "0130002B"}}, true},
			{"an administrator of one", local, false},
			{"an inspector of one", domain.Actor{Account: uuid.New(), Profile: domain.ProfileInspector, Habilitations: []string{"0130001A"}}, false},
			{"a teacher", domain.Actor{Account: uuid.New(), Profile: domain.ProfileTeacher, Establishment: "0130001A"}, false},
		}
		for _, r := range readers {
			_, err := s.Status(ctx, r.a, job.ID)
			if r.ok != (err == nil) || (err != nil && !errors.Is(err, domain.ErrForbidden)) {
				t.Errorf("%s: %v", r.name, err)
			}
		}
		if _, err := s.Status(ctx, w.admin, uuid.New()); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("an unknown job: %v", err)
		}
	})
}

// A feed refused whole ends its job refused, with the report, nothing
// written and its files gone; so does one its administrator may not import.
func TestJobRefused(t *testing.T) {
	forEachJobStore(t, func(t *testing.T, w *jobWorld) {
		s := w.MustJobs(nil)
		before := w.x.head()
		job, _, files, dir := w.start(s, "", false, "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml", "aaf/refused")
		done := w.MustEnd(s, job.ID)
		if done.State != JobRefused || done.Code != domain.CodeInvalid || !strings.Contains(done.Error, "refused") ||
			done.Report == nil || done.Report.Refused == "" || len(done.Report.Rejected) == 0 {
			t.Fatalf("ended %+v", done)
		}
		if w.x.head() != before {
			t.Fatal("a refused job wrote events")
		}
		mustBeGone(t, files, dir)

		// An administrator of another establishment.
		w.x.MustImport(w.x.sources(FormatAAF, "", "aaf/full/ENT_Complet_20240902_EtabEducNat_0000.xml"), DefaultOptions())
		other := w.x.openActor(t, "local admin", "0130002B", domain.ProfileAdmin)
		files, dir = w.upload("aaf/full")
		job, _, err := s.Start(context.Background(), StartJob{Actor: domain.Actor{Account: other, Profile: domain.ProfileAdmin, Establishment: "0130002B"},
			Files: files, Dir: dir, Format: FormatAAF, Options: DefaultOptions()})
		if err != nil {
			t.Fatal(err)
		}
		before = w.x.head()
		done = w.MustEnd(s, job.ID)
		if done.State != JobRefused || done.Code != domain.CodeForbidden || !strings.Contains(done.Error, "0130001A") {
			t.Fatalf("ended %+v", done)
		}
		if w.x.head() != before {
			t.Fatal("a forbidden job wrote events")
		}
		mustBeGone(t, files, dir)
	})
}

// The same idempotency key gives the same job, from this node or another,
// while it runs and after it ended: the feed is imported once, and the
// files of every repeated upload are removed at once.
func TestJobIdempotentStart(t *testing.T) {
	const samples = "aaf/full"
	forEachJobStore(t, func(t *testing.T, w *jobWorld) {
		a, b := w.MustJobs(nil), w.MustJobs(nil) // two nodes sharing the stores
		g := gated(t, a, "ENT_Complet_20240902_Eleve_0000.xml")
		first, replayed, _, _ := w.start(a, "k1", false, samples)
		if replayed {
			t.Fatal("a first start replayed")
		}
		w.MustWait(a, first.ID, "running", func(j *Job) bool { return j.State == JobRunning })
		for name, s := range map[string]*Jobs{"this node": a, "another node": b} {
			again, replayed, files, dir := w.start(s, "k1", false, samples)
			if !replayed || again.ID != first.ID || !again.State.Live() {
				t.Errorf("%s: started again %+v, replayed %v", name, again, replayed)
			}
			mustBeGone(t, files, dir)
		}
		g.open()
		done := w.MustEnd(a, first.ID)
		if done.State != JobDone || done.Report.Applied[OpenAccount] != 15 {
			t.Fatalf("ended %+v", done)
		}
		head := w.x.head()
		after, replayed, files, dir := w.start(b, "k1", false, samples)
		if !replayed || after.ID != first.ID || after.State != JobDone || after.Report == nil {
			t.Errorf("started after the end: %+v, replayed %v", after, replayed)
		}
		mustBeGone(t, files, dir)
		if w.x.head() != head {
			t.Error("a replayed start imported again")
		}

		// Two nodes starting one key at the same moment start one job.
		var wg sync.WaitGroup
		dryRun := DefaultOptions()
		dryRun.DryRun = true
		results := make([]*Job, 2)
		created := make([]bool, 2)
		for i, s := range []*Jobs{a, b} {
			files, dir := w.upload(samples)
			wg.Go(func() {
				job, replayed, err := s.Start(context.Background(), StartJob{Actor: w.admin, Files: files, Dir: dir,
					Format: FormatAAF, Options: dryRun, IdempotencyKey: "k2"})
				if err != nil {
					t.Error(err)
					return
				}
				results[i], created[i] = job, !replayed
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if results[0].ID != results[1].ID || created[0] == created[1] {
			t.Errorf("concurrent starts: %s created %v, %s created %v", results[0].ID, created[0], results[1].ID, created[1])
		}
		dry := w.MustEnd(a, results[0].ID)
		if dry.State != JobDone || !dry.DryRun || !dry.Report.DryRun {
			t.Errorf("dry run %+v", dry)
		}
		other, replayed, _, _ := w.start(a, "k3", true, samples)
		if replayed || other.ID == first.ID || other.ID == dry.ID {
			t.Errorf("another key: %+v, replayed %v", other, replayed)
		}
		w.MustEnd(a, other.ID)
	})
}

// A job left running by a process that stopped reads as failed once its
// lease ran out, rather than running forever; should its process come
// back, its own last word wins.
func TestJobAbandoned(t *testing.T) {
	forEachJobStore(t, func(t *testing.T, w *jobWorld) {
		t0 := time.Date(2024, time.September, 2, 8, 0, 0, 0, time.UTC)
		a := w.MustJobs(func(c *JobsConfig) { c.Now = func() time.Time { return t0 } })
		g := gated(t, a, "ENT_Complet_20240902_Eleve_0000.xml")
		job, _, _, _ := w.start(a, "", false, "aaf/full")
		w.MustWait(a, job.ID, "running", func(j *Job) bool { return j.State == JobRunning })

		// The process holding it goes silent (its clock stands still); a
		// node started later reads the job.
		later := w.MustJobs(func(c *JobsConfig) { c.Now = func() time.Time { return t0.Add(2 * time.Minute) } })
		got, err := later.Status(context.Background(), w.admin, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != JobFailed || !strings.Contains(got.Error, "abandoned") || !got.Finished.Equal(t0) {
			t.Fatalf("abandoned job reads %+v", got)
		}
		if now, err := a.Status(context.Background(), w.admin, job.ID); err != nil || now.State != JobRunning {
			t.Fatalf("within its lease the job reads %+v, %v", now, err)
		}

		g.open()
		w.MustEnd(a, job.ID)
		if got, err := later.Status(context.Background(), w.admin, job.ID); err != nil || got.State != JobDone {
			t.Fatalf("after its process finished it: %+v, %v", got, err)
		}
	})
}

// Close interrupts the running import and fails the queued one; both are
// written and their files removed; nothing starts afterwards.
func TestJobClose(t *testing.T) {
	forEachJobStore(t, func(t *testing.T, w *jobWorld) {
		s := w.MustJobs(nil)
		g := gated(t, s, "ENT_Complet_20240902_Eleve_0000.xml")
		running, _, files1, dir1 := w.start(s, "", false, "aaf/full")
		w.MustWait(s, running.ID, "running", func(j *Job) bool { return j.State == JobRunning })
		queued, _, files2, dir2 := w.start(s, "", false, "aaf/delta")
		// One import at a time: the second waits its turn.
		if got, err := s.Status(context.Background(), w.admin, queued.ID); err != nil || got.State != JobQueued {
			t.Fatalf("second job %+v, %v", got, err)
		}

		closed := make(chan error)
		go func() { closed <- s.Close() }()
		w.MustWait(s, queued.ID, "failed", func(j *Job) bool { return j.State == JobFailed })
		g.open() // the running import gets its bytes, and meets the cancellation
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		first, err := s.Status(context.Background(), w.admin, running.ID)
		if err != nil {
			t.Fatal(err)
		}
		if first.State != JobFailed || !strings.Contains(first.Error, "interrupted") {
			t.Errorf("interrupted job %+v", first)
		}
		second, err := s.Status(context.Background(), w.admin, queued.ID)
		if err != nil {
			t.Fatal(err)
		}
		if second.State != JobFailed || !strings.Contains(second.Error, "before the import ran") || !second.Started.IsZero() {
			t.Errorf("queued job %+v", second)
		}
		mustBeGone(t, files1, dir1)
		mustBeGone(t, files2, dir2)

		files, dir := w.upload("aaf/delta")
		if _, _, err := s.Start(context.Background(), StartJob{Actor: w.admin, Files: files, Dir: dir, Format: FormatAAF,
			Options: DefaultOptions()}); !errors.Is(err, ErrJobsClosed) {
			t.Errorf("start after close: %v", err)
		}
		mustBeGone(t, files, dir)
	})
}

// countingStore counts the writes of jobs.
type countingStore struct {
	JobStore
	mu    sync.Mutex
	saves int
}

func (c *countingStore) Save(ctx context.Context, job *Job) error {
	c.mu.Lock()
	c.saves++
	c.mu.Unlock()
	return c.JobStore.Save(ctx, job)
}

// Progress is written at ProgressEvery, not as the importer reports it: a
// job that ends within one period is written when it runs and when it
// ends, with its progress as of the end.
func TestJobProgressWritesAreBounded(t *testing.T) {
	t.Parallel()
	w := newJobWorld(t, "sqlite")
	store := &countingStore{JobStore: NewDocJobs(w.docs)}
	s := w.MustJobs(func(c *JobsConfig) { c.Store, c.ProgressEvery, c.Lease = store, time.Hour, 4*time.Hour })
	job, _, _, _ := w.start(s, "", false, "aaf/full")
	done := w.MustEnd(s, job.ID)
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.saves != 2 || done.Progress.Events == 0 || done.Progress.Records == 0 {
		t.Fatalf("%d writes, progress %+v", store.saves, done.Progress)
	}
}

// Start refuses what it cannot run, and removes the files.
func TestJobStartRefuses(t *testing.T) {
	t.Parallel()
	w := newJobWorld(t, "sqlite")
	s := w.MustJobs(nil)
	teacher := domain.Actor{Account: uuid.New(), Profile: domain.ProfileTeacher}
	cases := []struct {
		name string
		req  StartJob
		want error
	}{
		{"a teacher", StartJob{Actor: teacher, Format: FormatAAF, Options: DefaultOptions()}, domain.ErrForbidden},
		{"a format", StartJob{Actor: w.admin, Format: "xls", Options: DefaultOptions()}, domain.ErrInvalid},
		{"a CSV without profile", StartJob{Actor: w.admin, Format: FormatCSV, Options: DefaultOptions()}, domain.ErrInvalid},
		{"options", StartJob{Actor: w.admin, Format: FormatAAF, Options: Options{Mode: "sometimes"}}, domain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, dir := w.upload("aaf/delta")
			tc.req.Files, tc.req.Dir = files, dir
			if _, _, err := s.Start(context.Background(), tc.req); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			mustBeGone(t, files, dir)
		})
	}
}

// Kept reports have their long lists cut, and say so.
func TestKeptReport(t *testing.T) {
	t.Parallel()
	rep := &Report{Rejected: make([]Issue, maxKeptIssues+1), Skipped: make([]Issue, 3)}
	k, truncated := kept(rep)
	if !truncated || len(k.Rejected) != maxKeptIssues || len(k.Skipped) != 3 || len(rep.Rejected) != maxKeptIssues+1 {
		t.Fatalf("kept %d rejected, %d skipped, truncated %v", len(k.Rejected), len(k.Skipped), truncated)
	}
	if _, truncated := kept(&Report{Skipped: make([]Issue, maxKeptIssues)}); truncated {
		t.Fatal("a report at the bound was cut")
	}
}

// Reports kept before imports became jobs read as ended jobs, under the
// same rule.
func TestJobLegacyReport(t *testing.T) {
	t.Parallel()
	w := newJobWorld(t, "sqlite")
	s := w.MustJobs(nil)
	ctx := context.Background()
	id := domain.DeterministicID("directory-import", w.admin.Account.String(), "old")
	doc := fmt.Appendf(nil, `{"correlation_id":%q,"actor":%q,"mode":"full","dry_run":false,"feed":"full feed: s.csv",
		"files":[{"name":"s.csv"}],"establishments":["0130001A"],"refused":"too many rejected","truncated":true}`, id, w.admin.Account)
	if err := w.docs.Update(ctx, jobsNamespace, func(tx projections.DocTx) error {
		return tx.Put(ctx, []projections.Doc{{Coll: legacyReportsColl, Key: id.String(), Value: doc}})
	}); err != nil {
		t.Fatal(err)
	}
	job, err := s.Status(ctx, w.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != JobRefused || !job.Truncated || job.Report.Refused == "" || job.Files[0] != "s.csv" {
		t.Errorf("legacy report reads %+v", job)
	}
	if _, err := s.Status(ctx, domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin, Establishment: "0130002B"}, id); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("another establishment's administrator: %v", err)
	}
	// The same key finds it: the upload is not imported again.
	files, dir := w.upload("aaf/delta")
	again, replayed, err := s.Start(ctx, StartJob{Actor: w.admin, Files: files, Dir: dir, Format: FormatAAF, Options: DefaultOptions(), IdempotencyKey: "old"})
	if err != nil || !replayed || again.ID != id {
		t.Errorf("start with the old key: %+v, %v, %v", again, replayed, err)
	}
	mustBeGone(t, files, dir)
}

// lockSpy tells when a lock was found taken.
type lockSpy struct {
	Locker
	taken chan struct{}
	once  sync.Once
}

func (l *lockSpy) TryAcquire(ctx context.Context, name string) (context.Context, func(), bool, error) {
	held, release, ok, err := l.Locker.TryAcquire(ctx, name)
	if !ok && err == nil {
		l.once.Do(func() { close(l.taken) })
	}
	return held, release, ok, err
}

// With a shared Locker, a node's import waits, queued, for another node's
// to end.
func TestJobLockedAcrossNodes(t *testing.T) {
	forEachJobStore(t, func(t *testing.T, w *jobWorld) {
		locker, ok := w.docs.(Locker)
		if !ok {
			t.Fatalf("%T is no Locker", w.docs)
		}
		spy := &lockSpy{Locker: locker, taken: make(chan struct{})}
		a := w.MustJobs(func(c *JobsConfig) { c.Locker = locker })
		b := w.MustJobs(func(c *JobsConfig) { c.Locker, c.LockRetry = spy, 10*time.Millisecond })
		g := gated(t, a, "ENT_Complet_20240902_Eleve_0000.xml")
		first, _, _, _ := w.start(a, "", false, "aaf/full")
		w.MustWait(a, first.ID, "running", func(j *Job) bool { return j.State == JobRunning })
		second, _, _, _ := w.start(b, "", true, "aaf/delta")
		select {
		case <-spy.taken:
		case <-time.After(30 * time.Second):
			t.Fatal("the second node never met the lock")
		}
		if got, err := b.Status(context.Background(), w.admin, second.ID); err != nil || got.State != JobQueued {
			t.Fatalf("second job %+v, %v", got, err)
		}
		g.open()
		firstDone, secondDone := w.MustEnd(a, first.ID), w.MustEnd(b, second.ID)
		if firstDone.State != JobDone || secondDone.State != JobDone || secondDone.Started.Before(firstDone.Finished) {
			t.Errorf("first %s %s-%s, second %s from %s", firstDone.State, firstDone.Started, firstDone.Finished, secondDone.State, secondDone.Started)
		}
	})
}
