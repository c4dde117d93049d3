package directoryimport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/schoollife/ledger/domain"
)

// FuzzParseAAF feeds the AAF parser arbitrary bytes: it rejects or errors,
// never panics, and every rejection has a place and a reason.
func FuzzParseAAF(f *testing.F) {
	files, _ := filepath.Glob("testdata/aaf/*/*.xml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(filepath.Base(p), b)
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		b := newBuilder()
		fr := FileReport{}
		_ = b.parseAAF(context.Background(), name, strings.NewReader(string(data)), &fr)
		for _, r := range b.rejected {
			if r.Reason == "" || r.Line < 1 {
				t.Fatalf("rejection without place or reason: %+v", r)
			}
		}
		feed := b.build(ModeFull)
		_ = diff(feed, newLogDirectory(), time.Time{}, DefaultGrace)
	})
}

// FuzzParseCSV does the same for CSV files.
func FuzzParseCSV(f *testing.F) {
	files, _ := filepath.Glob("testdata/csv/*/*.csv")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []domain.Profile{domain.ProfileStudent, domain.ProfileRelative, domain.ProfileTeacher, domain.ProfilePersonnel} {
			b := newBuilder()
			fr := FileReport{}
			_ = b.parseCSV(context.Background(), "f.csv", strings.NewReader(string(data)), p, "", &fr)
			for _, r := range b.rejected {
				if r.Reason == "" || r.Line < 1 {
					t.Fatalf("rejection without place or reason: %+v", r)
				}
			}
			b.build(ModeFull)
		}
	})
}
