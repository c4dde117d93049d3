package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
)

// File is a channel for development and demonstrations: it appends each
// message to a file, one JSON object a line, and nothing leaves the
// machine. The file holds personal texts: it is created mode 0600.
type File struct {
	Path string
	Now  func() time.Time
	mu   sync.Mutex
}

// fileLine is one line of a File.
type fileLine struct {
	Time      time.Time `json:"time"`
	Key       string    `json:"key"`
	Recipient uuid.UUID `json:"recipient"`
	Title     string    `json:"title"`
	Body      string    `json:"body,omitempty"`
	Path      string    `json:"path"`
	Text      string    `json:"text"`
}

// Deliver appends m.
func (f *File) Deliver(_ context.Context, to uuid.UUID, m Message) Result {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	line, err := json.Marshal(fileLine{Time: now().UTC(), Key: m.Key.ID(), Recipient: to, Title: m.Title, Body: m.Body, Path: m.Path, Text: m.Text()})
	if err != nil {
		return Result{Verdict: Never, Reason: "refused", Detail: err.Error()}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return Result{Verdict: Again, Detail: err.Error()}
	}
	_, err = fh.Write(append(line, '\n'))
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{Verdict: Again, Detail: fmt.Sprintf("%s: %v", f.Path, err)}
	}
	return Result{Verdict: Done}
}

// Log is a channel that only logs that it would have sent (the demo's
// push without VAPID keys): the recipient and the portal page, never the
// text.
type Log struct {
	Logger  *slog.Logger
	Channel Channel
}

// Deliver logs m.
func (l Log) Deliver(ctx context.Context, to uuid.UUID, m Message) Result {
	l.Logger.InfoContext(ctx, "notification (not sent: demo)", "channel", l.Channel, "recipient", to, "path", m.Path, "key", m.Key.ID())
	return Result{Verdict: Done}
}
