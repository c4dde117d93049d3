package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// importJob is the part of an import job the test reads.
type importJob struct {
	ID       uuid.UUID `json:"id"`
	State    string    `json:"state"`
	Progress struct {
		ReadPercent float64 `json:"read_percent"`
		Events      int64   `json:"events"`
	} `json:"progress"`
	Report *struct {
		CorrelationID uuid.UUID      `json:"correlation_id"`
		Events        int            `json:"events"`
		Applied       map[string]int `json:"applied"`
	} `json:"report"`
}

// upload posts a CSV file of relatives to POST /api/v1/imports.
func (c *client) upload(key, csv string) (*http.Response, []byte) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"format": "csv", "profile": "relative"} {
		if err := mw.WriteField(k, v); err != nil {
			c.t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "responsables.csv")
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = io.WriteString(fw, csv)
	if err := mw.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", c.base+"/api/v1/imports", &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// TestDirectoryImportJob uploads a feed to the real server: the upload is
// answered at once with a job, whose status URL shows it ended with its
// report; a retry with the same key is the same job, and the server stops
// cleanly.
func TestDirectoryImportJob(t *testing.T) {
	s := MustServe(t, nil, "--demo", "--store", "sqlite:"+filepath.Join(t.TempDir(), "ledger.db"))
	admin := MustSignIn(t, s.URL, "admin.demo")
	csv := "id,uai,last_name,first_name\nR01,0131999X,Martin,Claire\nR02,0131999X,Petit,Louis\n"

	resp, raw := admin.upload("rentree-2024", csv)
	var job importJob
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &job) != nil || job.ID == uuid.Nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	loc := resp.Header.Get("Location")
	if loc != "/api/v1/imports/"+job.ID.String() {
		t.Fatalf("Location %q for job %s", loc, job.ID)
	}
	eventually(t, 60*time.Second, "the import job ends", func() bool {
		job = importJob{}
		admin.MustCall("GET", loc, nil, &job, http.StatusOK)
		return job.State != "queued" && job.State != "running"
	})
	if job.State != "done" || job.Report == nil || job.Report.CorrelationID != job.ID || job.Report.Events == 0 ||
		job.Report.Applied["account.open"] != 2 || job.Progress.ReadPercent != 100 {
		t.Fatalf("ended job %+v, report %+v", job, job.Report)
	}

	resp, raw = admin.upload("rentree-2024", csv)
	var replay importJob
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Idempotent-Replayed") != "true" ||
		json.Unmarshal(raw, &replay) != nil || replay.ID != job.ID || replay.Report == nil || replay.Report.Events != job.Report.Events {
		t.Fatalf("replay: %d %v %s", resp.StatusCode, resp.Header, raw)
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.Log())
	}
	if !strings.Contains(s.Log(), "directory import job ended") || !strings.Contains(s.Log(), "msg=stopped") {
		t.Fatalf("no ended job or no clean stop in the log:\n%s", s.Log())
	}
}
