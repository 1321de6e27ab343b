package server

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fdStarvedListener fails with EMFILE a few times, then accepts.
type fdStarvedListener struct {
	net.Listener
	failures int
}

func (l *fdStarvedListener) Accept() (net.Conn, error) {
	if l.failures > 0 {
		l.failures--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	c1, _ := net.Pipe()
	return c1, nil
}

func TestListenerOutlastsFDStarvation(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := newGuardedListener(&fdStarvedListener{failures: 3}, log, Default(), nil)
	c, err := l.Accept()
	if err != nil || c == nil {
		t.Fatalf("Accept after EMFILE = %v, %v; want a connection", c, err)
	}
	c.Close()
	closed := newGuardedListener(&closedListener{}, log, Default(), nil)
	if _, err := closed.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("other errors must pass through: %v", err)
	}
}

type closedListener struct{ net.Listener }

func (closedListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }

// A connection over its address's cap is answered 429 and counted, and
// the address may connect again once one of its connections closes.
func TestListenerCountsRefusedConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.MaxConnsPerAddr = 1
	l := newGuardedListener(inner, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, nil)
	defer l.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := dial()
	defer first.Close()
	served := <-accepted
	over := dial()
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := bufio.NewReader(over).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 429") {
		t.Fatalf("second connection from the address: %q, %v; want a 429", status, err)
	}
	if got := l.refusedConns(); got != 1 {
		t.Errorf("refusedConns() = %d, want 1", got)
	}
	served.Close()
	again := dial()
	defer again.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the address was not let in again after its connection closed")
	}
	if got := l.refusedConns(); got != 1 {
		t.Errorf("refusedConns() = %d after a connection within the cap, want 1", got)
	}
}
