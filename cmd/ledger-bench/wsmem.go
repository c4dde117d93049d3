package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/auth"
	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/live"
	"github.com/schoollife/ledger/adapters/memory"
	"github.com/schoollife/ledger/projections"
	"github.com/schoollife/ledger/projections/projector"
)

// wsmemScenario: the memory of idle websockets, against as many idle TCP
// connections to a trivial server. Twice: the resident set of a real
// `ledger serve` (clients in this process), and the Go heap and stacks of
// the live endpoint run in this process (clients in a helper process).
func (e *env) wsmemScenario(ctx context.Context) error {
	var errs []error
	if err := e.wsmemServer(ctx); err != nil {
		errs = append(errs, fmt.Errorf("ledger serve: %w", err))
	}
	if err := e.wsmemInProcess(ctx); err != nil {
		errs = append(errs, fmt.Errorf("in process: %w", err))
	}
	return errors.Join(errs...)
}

// rssLevels connects, level after level, the sockets open opens (the
// counts are cumulative) and returns the process's RSS growth per socket
// at each level.
func rssLevels(ctx context.Context, pid int, levels []int, open func(ctx context.Context, n int) (func(), error)) (map[int]float64, error) {
	rss0, err := stableRSS(ctx, pid)
	if err != nil {
		return nil, err
	}
	out := map[int]float64{}
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	have := 0
	for _, n := range levels {
		closeFn, err := open(ctx, n-have)
		if err != nil {
			return nil, err
		}
		closers = append(closers, closeFn)
		have = n
		rss, err := stableRSS(ctx, pid)
		if err != nil {
			return nil, err
		}
		out[n] = float64(rss-rss0) / float64(n)
	}
	return out, nil
}

// stableRSS waits until a process's RSS stops moving (by less than 0.5 %
// over five seconds, at most a minute and a half), then returns it. A Go
// server returns freed memory to the system gradually: `ledger serve`
// allocates 64 MiB for an argon2id hash when it starts, and a reading
// taken while that is being returned would hide what the sockets add.
func stableRSS(ctx context.Context, pid int) (int64, error) {
	var last []int64
	deadline := time.Now().Add(90 * time.Second)
	for {
		rss, err := rssKiB(pid)
		if err != nil {
			return 0, err
		}
		last = append(last, rss)
		if n := len(last); n >= 6 {
			lo, hi := slices.Min(last[n-6:]), slices.Max(last[n-6:])
			if float64(hi-lo) <= 0.005*float64(hi) || time.Now().After(deadline) {
				return rss, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (e *env) wsmemServer(ctx context.Context) error {
	kind := e.cfg.PeakStore
	b, err := e.freshStore(ctx, kind, "wsmem")
	if err != nil {
		return err
	}
	defer b.Close()
	w := peakWorld{classes: 1, size: 2, parents: 1}
	if err := e.peakSetup(ctx, b.store(), w); err != nil {
		return err
	}
	svc, err := authService(b, cheapParams)
	if err != nil {
		return err
	}
	defer svc.Close()
	token, _, err := svc.NewSession(ctx, w.parent(0), auth.KindToken)
	if err != nil {
		return err
	}
	// gctrace: the server logs its live heap and stacks at every
	// collection, which is how its heap per socket is read.
	srv, err := e.startServer(ctx, e.serverSpec(b), "GODEBUG=gctrace=1")
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			e.logf("  %v", err)
		}
	}()
	if err := e.waitCaughtUp(ctx, b, 5*time.Minute); err != nil {
		return err
	}
	levels := e.cfg.WSConns
	gcWait := 150 * time.Second // the runtime forces a collection every two minutes
	if e.cfg.Quick {
		gcWait = 3 * time.Second
	}
	idleGC, err := srv.nextGC(ctx, gcWait)
	if err != nil {
		return err
	}
	heapAt := map[int]float64{}
	connected := 0
	ws, err := rssLevels(ctx, srv.pid(), levels, func(ctx context.Context, n int) (func(), error) {
		p := startProgress(e.m.stderr, "idle websockets to ledger serve", n)
		defer p.Done()
		conns, err := dialWS(ctx, n, srv.base, token)
		p.Set(n)
		closeAll := func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}
		if err != nil {
			return closeAll, err
		}
		connected += n
		gc, err := srv.nextGC(ctx, gcWait)
		if err == nil {
			heapAt[connected] = float64(gc.live()-idleGC.live()) * 1024 / float64(connected)
		}
		return closeAll, err
	})
	if err != nil {
		return err
	}
	tcpSrv, addr, err := startChild(ctx, childTCPServer)
	if err != nil {
		return err
	}
	defer tcpSrv.Stop()
	tcp, err := rssLevels(ctx, tcpSrv.cmd.Process.Pid, levels, func(ctx context.Context, n int) (func(), error) {
		conns := make([]net.Conn, n)
		err := parallel(ctx, n, 32, nil, func(ctx context.Context, i int) error {
			c, err := net.Dial("tcp", addr)
			conns[i] = c
			return err
		})
		return func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}, err
	})
	if err != nil {
		return err
	}
	if len(levels) > 1 {
		lo, hi := levels[len(levels)-2], levels[len(levels)-1]
		slope := (ws[hi]*float64(hi) - ws[lo]*float64(lo)) / float64(hi-lo)
		tslope := (tcp[hi]*float64(hi) - tcp[lo]*float64(lo)) / float64(hi-lo)
		e.rep.Add(Row{Scenario: scenarioWSMem, Store: kind, Case: fmt.Sprintf("ledger serve, from %d to %d idle sockets", lo, hi), Metric: "RSS per socket", Unit: "KiB",
			Value: slope, Baseline: "idle TCP", BaselineValue: tslope})
	}
	for _, n := range levels {
		cas := fmt.Sprintf("ledger serve, %d idle sockets", n)
		e.rep.Add(
			atMost(Row{Scenario: scenarioWSMem, Store: kind, Case: cas, Metric: "RSS per socket", Unit: "KiB", Value: ws[n], Baseline: "idle TCP", BaselineValue: tcp[n]}, 16, false),
			atMost(Row{Scenario: scenarioWSMem, Store: kind, Case: cas, Metric: "heap+stack per socket (gctrace)", Unit: "KiB", Value: heapAt[n]}, 16, false),
		)
		e.logf("  ledger serve, %d sockets: %.1f KiB RSS each (trivial TCP server: %.1f), live heap and stacks %.1f KiB each", n, ws[n], tcp[n], heapAt[n])
	}
	return nil
}

// memSnapshot is the Go memory of this process after a collection.
type memSnapshot struct {
	heap, stack, sys uint64
	rss              int64
}

func snapshot() memSnapshot {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := rssKiB(os.Getpid())
	return memSnapshot{heap: ms.HeapAlloc, stack: ms.StackInuse, sys: ms.Sys, rss: rss}
}

// perConn is the growth from a to b per connection, in KiB.
func perConn(a, b memSnapshot, n int) (heap, stack, rss float64) {
	k := 1024 * float64(n)
	return (float64(b.heap) - float64(a.heap)) / k, (float64(b.stack) - float64(a.stack)) / k, float64(b.rss-a.rss) / float64(n)
}

func (e *env) wsmemInProcess(ctx context.Context) error {
	// The live endpoint as serve wires it, on an in-memory log with a
	// parent and their child in the directory read model.
	mem := memory.New()
	w := peakWorld{classes: 1, size: 2, parents: 1}
	if err := e.peakSetup(ctx, mem, w); err != nil {
		return err
	}
	docs := projections.NewMemoryDocs()
	runner, err := projector.NewRunner(projector.RunnerConfig{
		Log: mem, Docs: docs, Gens: docs, Registry: e.reg, Locker: docs, Reducers: []projections.Reducer{projections.NewDirectory()},
	})
	if err != nil {
		return err
	}
	red, _ := runner.Reducer(projections.ProjectionDirectory)
	if _, err := runner.CatchUp(ctx, red, projections.Namespace(red.Name(), 1), nil); err != nil {
		return err
	}
	if err := docs.SetGenerations(ctx, red.Name(), projections.Generations{Live: 1}); err != nil {
		return err
	}
	queries := projections.NewQueries(docs, docs, mem, e.reg, e.loc)
	bb, err := bus.Open(ctx, bus.Config{Kind: bus.GoChannel}, nil)
	if err != nil {
		return err
	}
	defer bb.Close()
	hub, err := live.NewHub(live.HubConfig{Subscriber: bb.Subscriber})
	if err != nil {
		return err
	}
	hctx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	go func() { _ = hub.Run(hctx) }()
	<-hub.Ready()
	parent := w.parent(0)
	handler, err := live.NewHandler(live.HandlerConfig{
		Hub: hub, Log: mem, Registry: e.reg, Directory: queries,
		Viewer: func(r *http.Request) (live.Viewer, error) {
			id, err := uuid.Parse(r.Header.Get("X-Account"))
			if err != nil {
				return live.Viewer{}, err
			}
			return live.Viewer{Account: id}, nil
		},
	})
	if err != nil {
		return err
	}
	defer handler.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	wsURL := "ws://" + ln.Addr().String() + "/api/v1/live"

	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer tln.Close()
	var tcpOpen atomic.Int64
	go serveTrivialTCP(tln, &tcpOpen)

	// Each measure starts from the same state: the goroutines of the one
	// before have exited (their stacks would be reused, hiding the next
	// one's).
	idle := runtime.NumGoroutine()
	settle := func() {
		deadline := time.Now().Add(30 * time.Second)
		for runtime.NumGoroutine() > idle && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	measure := func(n int, connections func() int, open func() (*child, error)) (heap, stack, rss float64, err error) {
		settle()
		before := snapshot()
		c, err := open()
		if err != nil {
			return 0, 0, 0, err
		}
		defer func() {
			c.Stop()
			for connections() > 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}()
		deadline := time.Now().Add(time.Minute)
		for connections() < n {
			if time.Now().After(deadline) {
				return 0, 0, 0, fmt.Errorf("%d of %d connections arrived", connections(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		heap, stack, rss = perConn(before, snapshot(), n)
		return heap, stack, rss, nil
	}
	for _, n := range e.cfg.WSConns {
		e.logf("  in process: %d idle websockets, then %d idle TCP connections", n, n)
		wh, ws, wr, err := measure(n, hub.Connections, func() (*child, error) {
			return holdClients(ctx, n, wsURL, "X-Account: "+parent.String(), "")
		})
		if err != nil {
			return fmt.Errorf("websockets: %w", err)
		}
		th, ts, tr, err := measure(n, func() int { return int(tcpOpen.Load()) }, func() (*child, error) {
			return holdClients(ctx, n, "", "", tln.Addr().String())
		})
		if err != nil {
			return fmt.Errorf("tcp: %w", err)
		}
		cas := fmt.Sprintf("live endpoint in process, %d idle sockets", n)
		e.rep.Add(
			atMost(Row{Scenario: scenarioWSMem, Store: "-", Case: cas, Metric: "heap+stack per socket", Unit: "KiB", Value: wh + ws, Baseline: "idle TCP", BaselineValue: th + ts}, 16, false),
			Row{Scenario: scenarioWSMem, Store: "-", Case: cas, Metric: "heap per socket", Unit: "KiB", Value: wh, Baseline: "idle TCP", BaselineValue: th},
			Row{Scenario: scenarioWSMem, Store: "-", Case: cas, Metric: "stack per socket", Unit: "KiB", Value: ws, Baseline: "idle TCP", BaselineValue: ts},
			Row{Scenario: scenarioWSMem, Store: "-", Case: cas, Metric: "RSS per socket", Unit: "KiB", Value: wr, Baseline: "idle TCP", BaselineValue: tr},
		)
		e.logf("  %s: heap %.1f + stack %.1f KiB (TCP: %.1f + %.1f), RSS %.1f KiB (TCP %.1f)", cas, wh, ws, th, ts, wr, tr)
	}
	if hub.Connections() != 0 {
		return errors.New("sockets left open")
	}
	return nil
}
