package main

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// merge adds a worker's own samples at once (no lock per sample).
func (l *latencies) merge(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// summary is the distribution of a set of durations, in milliseconds.
type summary struct {
	N                       int
	P50, P90, P99, Max, Avg float64
}

func (l *latencies) Summary() summary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	return summarize(d)
}

func summarize(d []time.Duration) summary {
	if len(d) == 0 {
		return summary{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	ms := func(x time.Duration) float64 { return float64(x) / float64(time.Millisecond) }
	q := func(p float64) float64 {
		i := int(p*float64(len(d))+0.5) - 1
		return ms(d[min(max(i, 0), len(d)-1)])
	}
	return summary{N: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(d[len(d)-1]), Avg: ms(sum) / float64(len(d))}
}

// rssKiB returns a process's resident set (VmRSS) in KiB.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, os.ErrNotExist
}

// raiseNoFile raises this process's open file limit to n (the hard limit
// too: root may), or as far as it can. Children inherit it: Go restores
// the original soft limit in children unless Setrlimit was called, as it
// is here.
func raiseNoFile(n uint64) (uint64, error) {
	got, _, err := raiseNoFileWhy(n)
	return got, err
}

// raiseNoFileWhy is raiseNoFile that also says, when the hard limit could
// not be raised, why (a container without CAP_SYS_RESOURCE refuses even
// root).
func raiseNoFileWhy(n uint64) (got uint64, refused string, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, "", err
	}
	want := syscall.Rlimit{Cur: max(n, lim.Cur), Max: max(n, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		refused = err.Error()
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return 0, refused, err
		}
	}
	return want.Cur, refused, nil
}

// clockTicks is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTicks = 100

// cpuSeconds returns the CPU time (user + system) a process has used.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields start after its ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks
}

// postgresCPU returns the CPU time of the PostgreSQL backends serving
// database db, and of the server's shared processes (WAL writer,
// checkpointer...), which other databases use too.
func postgresCPU(db string) (backends, shared float64) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmd, []byte("postgres: ")) {
			continue
		}
		line := string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
		switch {
		case db != "" && strings.Contains(line, " "+db+" "):
			backends += cpuSeconds(pid)
		case strings.Contains(line, "walwriter"), strings.Contains(line, "checkpointer"), strings.Contains(line, "background writer"):
			shared += cpuSeconds(pid)
		}
	}
	return backends, shared
}

// machineCPU returns the CPU time all processes have used (from
// /proc/stat), busy and total.
func machineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		total += x
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return busy / clockTicks, total / clockTicks
}

// writtenBytes returns the bytes this process has passed to write system
// calls (wchar in /proc/self/io: pwrite and write alike, whether or not
// they reached the disk yet), or -1 where the kernel does not say.
func writtenBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "wchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
