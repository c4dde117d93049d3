package live_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/schoollife/ledger/adapters/bus"
	"github.com/schoollife/ledger/adapters/bus/bustest"
)

// maxIdleBytes is the budget of one idle socket on the server.
const maxIdleBytes = 16 << 10

// TestIdleConnectionMemory opens 1,000 sockets and measures what they cost
// the process: heap and goroutine stacks after a GC, divided by the number
// of sockets. The clients are raw TCP connections that did the handshake
// by hand and hold no goroutine or buffer, so the figure is the server's
// (plus a client socket's few hundred bytes).
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 sockets")
	}
	const conns = 1000
	w := newWorld(t)
	w.mustSchool()
	b := bustest.MustOpen(t, bus.Config{Kind: bus.GoChannel})
	n := w.mustNode(t, b, nil)
	// Warm up: one socket, so that pools and lazily built state exist.
	open := func(account uuid.UUID) net.Conn {
		c, err := rawDial(n.srv.Listener.Addr().String(), account)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	open(parentA)
	waitConnections(t, n.hub, 1)

	before := memNow()
	viewers := []uuid.UUID{parentA, parentB, parentC, alice, bob, teacher, staff}
	for i := range conns {
		open(viewers[i%len(viewers)])
	}
	waitConnections(t, n.hub, conns+1)
	// Each socket's reader and writer start once its handshake is
	// written: wait for them, so that their stacks are counted.
	mustWait(t, func() bool { return runtime.NumGoroutine() >= before.goroutines+2*conns },
		func() string {
			return fmt.Sprintf("%d goroutines for %d sockets", runtime.NumGoroutine()-before.goroutines, conns)
		})
	after := memNow()

	heap := float64(after.heap-before.heap) / conns
	stack := float64(after.stack-before.stack) / conns
	goroutines := float64(after.goroutines-before.goroutines) / conns
	t.Logf("per idle socket (%d sockets): heap %.0f B, stacks %.0f B, total %.0f B (%.1f KiB), %.1f goroutines",
		conns, heap, stack, heap+stack, (heap+stack)/1024, goroutines)
	if raceEnabled {
		t.Log("race detector on: not checking the budget")
		return
	}
	if heap+stack > maxIdleBytes {
		t.Errorf("an idle socket costs %.0f B, budget %d B", heap+stack, maxIdleBytes)
	}
	if goroutines > 2.05 {
		t.Errorf("an idle socket holds %.1f goroutines, want 2 (reader and writer)", goroutines)
	}
}

type memSample struct {
	heap, stack uint64
	goroutines  int
}

func memNow() memSample {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return memSample{heap: m.HeapAlloc, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// rawDial does the websocket handshake on a bare TCP connection and
// returns it, holding nothing else.
func rawDial(addr string, account uuid.UUID) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := "GET /api/v1/live HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Test-Account: " + account.String() + "\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		c.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	return c, nil
}
