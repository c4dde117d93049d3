package web

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/directoryimport"
	"github.com/schoollife/ledger/domain"
)

// recordingJobs is an ImportJobs that keeps what it was asked.
type recordingJobs struct {
	started []directoryimport.StartJob
	viewers []domain.Actor
	err     error
}

func (j *recordingJobs) Start(_ context.Context, req directoryimport.StartJob) (*directoryimport.Job, bool, error) {
	if j.err != nil {
		return nil, false, j.err
	}
	j.started = append(j.started, req)
	return &directoryimport.Job{ID: uuid.New(), State: directoryimport.JobQueued}, false, nil
}

func (j *recordingJobs) Status(_ context.Context, viewer domain.Actor, id uuid.UUID) (*directoryimport.Job, error) {
	j.viewers = append(j.viewers, viewer)
	return &directoryimport.Job{ID: id, State: directoryimport.JobRunning}, nil
}

// mustUpload reads a multipart request of fields and files (name, content
// pairs) through ReadUpload.
func mustUpload(t *testing.T, s *Imports, fields map[string]string, files ...string) *Upload {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+1 < len(files); i += 2 {
		fw, err := mw.CreateFormFile("file", files[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/api/v1/imports", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	u, err := s.ReadUpload(httptest.NewRecorder(), r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(u.dir) })
	return u
}

func mustImports(t *testing.T, jobs ImportJobs) *Imports {
	t.Helper()
	defaults := directoryimport.DefaultOptions()
	defaults.Grace = 12 * 24 * time.Hour
	s, err := NewImports(ImportsConfig{Jobs: jobs, Defaults: &defaults})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An upload becomes a job request: its fields parsed over the defaults,
// its files handed over to the job (Cleanup leaves them).
func TestStartImportHandsTheUploadToAJob(t *testing.T) {
	t.Parallel()
	jobs := &recordingJobs{}
	s := mustImports(t, jobs)
	admin := &Principal{actor: domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin}}
	u := mustUpload(t, s, map[string]string{
		"format": "csv", "profile": "relative", "encoding": "ISO-8859-15", "mode": " full ", "dry_run": "on", "max_rejected": "10%",
	}, "relatives.csv", "id,uai\n", `C:\exports\students.csv`, "id\n")
	if _, _, err := s.StartImport(context.Background(), admin, u, "feed-2024-09-02"); err != nil {
		t.Fatal(err)
	}
	if len(jobs.started) != 1 {
		t.Fatalf("%d jobs started", len(jobs.started))
	}
	req := jobs.started[0]
	if req.Actor.Account != admin.actor.Account || req.IdempotencyKey != "feed-2024-09-02" || req.Format != directoryimport.FormatCSV ||
		req.Profile != domain.ProfileRelative || req.Encoding != "ISO-8859-15" || req.Dir == "" {
		t.Fatalf("request %+v", req)
	}
	o := req.Options
	if o.Mode != directoryimport.ModeFull || !o.DryRun || o.MaxRejected != 0.1 || o.Grace != 12*24*time.Hour {
		t.Fatalf("options %+v", o)
	}
	if len(req.Files) != 2 || req.Files[0].Name != "relatives.csv" || req.Files[0].Size != 7 || req.Files[1].Name != "students.csv" {
		t.Fatalf("files %+v", req.Files)
	}
	u.Cleanup()
	for _, f := range req.Files {
		if filepath.Dir(f.Path) != req.Dir {
			t.Errorf("%s is not in the upload's directory %s", f.Path, req.Dir)
		}
		if _, err := os.Stat(f.Path); err != nil {
			t.Errorf("the job's file %s was removed by the upload's cleanup: %v", f.Name, err)
		}
	}

	if _, err := s.ImportStatus(context.Background(), admin, uuid.New()); err != nil || len(jobs.viewers) != 1 || jobs.viewers[0].Account != admin.actor.Account {
		t.Fatalf("status read as %+v: %v", jobs.viewers, err)
	}
}

// A field that does not parse starts nothing, and the upload's files stay
// the handler's to remove.
func TestStartImportRefusesBadFields(t *testing.T) {
	t.Parallel()
	admin := &Principal{actor: domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin}}
	for name, fields := range map[string]map[string]string{
		"dry run":      {"format": "aaf", "dry_run": "maybe"},
		"max rejected": {"format": "aaf", "max_rejected": "150%"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			jobs := &recordingJobs{}
			s := mustImports(t, jobs)
			u := mustUpload(t, s, fields, "ENT_Complet_20240902_Eleve_0000.xml", "<x/>")
			_, _, err := s.StartImport(context.Background(), admin, u, "")
			if !errors.Is(err, domain.ErrInvalid) || len(jobs.started) != 0 {
				t.Fatalf("%v, %d started", err, len(jobs.started))
			}
			if _, err := os.Stat(u.files[0].path); err != nil {
				t.Fatalf("the refused upload's file is gone before Cleanup: %v", err)
			}
			u.Cleanup()
			if _, err := os.Stat(u.dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("Cleanup left %s: %v", u.dir, err)
			}
		})
	}
}

// An upload that arrives while the jobs close is a 503, to retry.
func TestStartImportWhileClosing(t *testing.T) {
	t.Parallel()
	s := mustImports(t, &recordingJobs{err: directoryimport.ErrJobsClosed})
	admin := &Principal{actor: domain.Actor{Account: uuid.New(), Profile: domain.ProfileAdmin}}
	u := mustUpload(t, s, map[string]string{"format": "aaf"}, "ENT_Complet_20240902_Eleve_0000.xml", "<x/>")
	_, _, err := s.StartImport(context.Background(), admin, u, "")
	if p, _ := ProblemOf(err); p.Status != http.StatusServiceUnavailable || !errors.Is(err, ErrImportsUnavailable) {
		t.Fatalf("%v: problem %+v", err, p)
	}
}
