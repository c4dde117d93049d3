package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The helper processes the benchmark starts from its own binary, so that
// the side it measures is alone in its process.
const (
	// childClients opens connections and holds them until its stdin
	// closes: ledger-bench clients --n N (--ws URL [--header K:V] | --tcp ADDR).
	childClients = "clients"
	// childTCPServer is a trivial TCP server (a goroutine per connection
	// blocked in Read), the baseline of an idle connection: it prints its
	// address and serves until its stdin closes.
	childTCPServer = "tcp-server"
	// EnvChild tells a test binary to run as a helper process.
	EnvChild = "LEDGER_BENCH_CHILD"
)

func (m *Main) runClients(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(childClients, flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	n := fs.Int("n", 0, "connections")
	wsURL := fs.String("ws", "", "websocket URL")
	header := fs.String("header", "", "request header of the websocket, Name: value")
	tcp := fs.String("tcp", "", "TCP address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := raiseNoFile(uint64(*n) + 1024); err != nil {
		return err
	}
	h := http.Header{}
	if name, value, ok := strings.Cut(*header, ":"); ok {
		h.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	var (
		mu    sync.Mutex
		conns []io.Closer
	)
	err := parallel(ctx, *n, 32, nil, func(ctx context.Context, i int) error {
		var c io.Closer
		if *tcp != "" {
			conn, err := net.Dial("tcp", *tcp)
			if err != nil {
				return err
			}
			c = conn
		} else {
			ws, _, err := liveDialer.DialContext(ctx, *wsURL, h)
			if err != nil {
				return err
			}
			go func() { // answer pings; exit when closed
				for {
					if _, _, err := ws.NextReader(); err != nil {
						return
					}
				}
			}()
			c = ws
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(m.stdout, "ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return nil
}

func (m *Main) runTCPServer(ctx context.Context, _ []string) error {
	if _, err := raiseNoFile(1 << 17); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	var open atomic.Int64
	go serveTrivialTCP(ln, &open)
	fmt.Fprintln(m.stdout, ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// serveTrivialTCP is the baseline server: a goroutine per connection,
// blocked reading into a small buffer, as idle as a connection can be in
// Go. open counts the connections.
func serveTrivialTCP(ln net.Listener, open *atomic.Int64) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		open.Add(1)
		go func() {
			defer open.Add(-1)
			defer c.Close()
			buf := make([]byte, 512)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}()
	}
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	done  chan error
}

// startChild starts this binary as a helper and returns it once it printed
// its first line (returned too).
func startChild(ctx context.Context, args ...string) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), EnvChild+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		line, err := c.out.ReadString('\n')
		if err != nil {
			close(lines)
			return
		}
		lines <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, c.out)
	}()
	go func() { c.done <- cmd.Wait() }()
	select {
	case line, ok := <-lines:
		if !ok {
			err := <-c.done
			return nil, "", fmt.Errorf("%s exited: %v", args[0], err)
		}
		return c, line, nil
	case <-ctx.Done():
		c.Stop()
		return nil, "", ctx.Err()
	case <-time.After(5 * time.Minute):
		c.Stop()
		return nil, "", errors.New(args[0] + ": no answer within 5 minutes")
	}
}

// Stop closes the child's stdin (it then exits) and waits for it.
func (c *child) Stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// holdClients opens n connections from a helper process: websockets to
// wsURL with header, or TCP to tcpAddr.
func holdClients(ctx context.Context, n int, wsURL, header, tcpAddr string) (*child, error) {
	args := []string{childClients, "--n", fmt.Sprint(n)}
	if tcpAddr != "" {
		args = append(args, "--tcp", tcpAddr)
	} else {
		args = append(args, "--ws", wsURL, "--header", header)
	}
	c, line, err := startChild(ctx, args...)
	if err != nil {
		return nil, err
	}
	if line != "ready" {
		c.Stop()
		return nil, fmt.Errorf("clients: %q", line)
	}
	return c, nil
}

// dialWS opens n idle websockets from this process.
func dialWS(ctx context.Context, n int, url, token string) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	err := parallel(ctx, n, 32, nil, func(ctx context.Context, i int) error {
		ws, err := dialLive(ctx, url, token)
		if err != nil {
			return err
		}
		conns[i] = ws
		go func() {
			for {
				if _, _, err := ws.NextReader(); err != nil {
					return
				}
			}
		}()
		return nil
	})
	return conns, err
}
