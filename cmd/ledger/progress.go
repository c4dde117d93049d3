package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress prints how far a long task is: one updating line on a terminal,
// a line every few seconds otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	total    int
	start    time.Time
	last     time.Time
	every    time.Duration
	finished bool
	// printed is the count of the last line printed (-1: none yet).
	printed int
}

// newProgress prints to w; total is 0 when unknown.
func newProgress(w io.Writer, label string, total int) *progress {
	// The first line comes after a first interval: a task done sooner
	// prints its final line only.
	now := time.Now()
	p := &progress{w: w, label: label, total: total, start: now, last: now, every: 5 * time.Second, printed: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 200*time.Millisecond
		}
	}
	return p
}

// Update reports done units of work.
func (p *progress) Update(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	p.print(done, now)
}

// SetTotal changes the expected total.
func (p *progress) SetTotal(total int) {
	p.mu.Lock()
	p.total = total
	p.mu.Unlock()
}

// Done prints the final line, unless the last line printed already says
// as much.
func (p *progress) Done(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.tty || p.printed != done {
		p.print(done, time.Now())
	}
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) print(done int, now time.Time) {
	p.printed = done
	elapsed := now.Sub(p.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	line := fmt.Sprintf("%s: %d", p.label, done)
	if p.total > 0 {
		line += fmt.Sprintf("/%d (%.0f%%)", p.total, 100*float64(done)/float64(p.total))
	}
	line += fmt.Sprintf(", %.0f/s, %s elapsed", rate, elapsed.Round(time.Second))
	if p.total > 0 && rate > 0 && done < p.total {
		left := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		line += fmt.Sprintf(", %s left", left.Round(time.Second))
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}
