package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// progress shows how far a step is while it runs: one line rewritten in
// place on a terminal, a line every five seconds otherwise. Workers call
// Add from any goroutine; a ticker prints.
type progress struct {
	w     io.Writer
	tty   bool
	label string
	total int64
	start time.Time
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

// startProgress starts printing to w; total is 0 when unknown.
func startProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: int64(total), start: time.Now(), stop: make(chan struct{})}
	every := 5 * time.Second
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, every = true, 250*time.Millisecond
		}
	}
	p.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.print()
			}
		}
	})
	return p
}

// Add counts n more units done.
func (p *progress) Add(n int) { p.done.Add(int64(n)) }

// Set sets the units done.
func (p *progress) Set(n int) { p.done.Store(int64(n)) }

// Done stops the ticker and prints the final line.
func (p *progress) Done() {
	close(p.stop)
	p.wg.Wait()
	p.print()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) print() {
	done := p.done.Load()
	elapsed := time.Since(p.start)
	line := fmt.Sprintf("  %s: %d", p.label, done)
	if p.total > 0 {
		line += fmt.Sprintf("/%d", p.total)
	}
	if s := elapsed.Seconds(); s > 0 {
		line += fmt.Sprintf(", %.0f/s", float64(done)/s)
	}
	line += ", " + elapsed.Round(100*time.Millisecond).String()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}
