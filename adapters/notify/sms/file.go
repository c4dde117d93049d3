package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// File appends each message to a file, one JSON object a line: the
// development and demonstration sink (nothing leaves the machine).
type File struct {
	path string
	now  func() time.Time
	mu   sync.Mutex
}

// NewFile returns a sink that appends to path (created when missing, mode
// 0600: the texts are personal). now stamps the lines; nil means time.Now.
func NewFile(path string, now func() time.Time) *File {
	if now == nil {
		now = time.Now
	}
	return &File{path: path, now: now}
}

// fileLine is one line of the file.
type fileLine struct {
	Time time.Time `json:"time"`
	To   string    `json:"to"`
	ID   string    `json:"id,omitempty"`
	Text string    `json:"text"`
}

// Send appends m; an invalid message is Permanent, a write failure
// Retryable.
func (f *File) Send(_ context.Context, m Message) (Outcome, error) {
	if err := m.Validate(); err != nil {
		return Outcome{Status: Permanent}, err
	}
	line, err := json.Marshal(fileLine{Time: f.now().UTC(), To: m.To, ID: m.ID, Text: m.Text})
	if err != nil {
		return Outcome{Status: Permanent}, fmt.Errorf("sms file: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return Outcome{Status: Retryable}, fmt.Errorf("sms file: %w", err)
	}
	_, err = fh.Write(append(line, '\n'))
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Outcome{Status: Retryable}, fmt.Errorf("sms file %s: %w", f.path, err)
	}
	return Outcome{Status: Sent}, nil
}
