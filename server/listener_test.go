package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
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
