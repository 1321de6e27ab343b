package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Connection-level defences, below HTTP: what fasthttp does not do itself.
const (
	// lingerTime and lingerBytes bound the lingering close (RFC 9112 §9.6)
	// after an early error answer such as 413: keep reading and dropping
	// what the client still sends, so that its unread body does not make
	// the kernel answer with a reset that destroys the response.
	lingerTime  = 5 * time.Second
	lingerBytes = 16 << 20
	// maxLingering caps connections lingering at once; past it they are
	// closed at once, as before.
	maxLingering = 1024
)

// guardedListener wraps the server's listener: it keeps serving when the
// process runs out of descriptors, gives every connection a first-byte
// deadline, caps connections per client address, and hands out conns that
// can close lingeringly.
type guardedListener struct {
	net.Listener
	log *slog.Logger
	// perAddr caps open connections from one address (0: no cap).
	// Trusted proxies are exempt: behind one, every client shares its address.
	perAddr int
	proxies proxySet
	// firstByte bounds how long an accepted connection may stay silent
	// before its first request. fasthttp sets no deadline before the
	// first byte (with ReduceMemoryUsage it waits in Read for ever), so
	// without it a client could hold descriptors by merely connecting.
	// Once a request starts, fasthttp's ReadTimeout takes over.
	firstByte time.Duration

	mu        sync.Mutex
	open      map[netip.Addr]int
	refused   atomic.Int64
	lingering atomic.Int64
}

func newGuardedListener(ln net.Listener, log *slog.Logger, cfg Config, proxies proxySet) *guardedListener {
	return &guardedListener{Listener: ln, log: log, perAddr: cfg.MaxConnsPerAddr, firstByte: cfg.FirstByteTimeout,
		proxies: proxies, open: map[netip.Addr]int{}}
}

// Accept waits for the next connection that is within its address's cap.
// When accepting fails for lack of file descriptors (EMFILE/ENFILE, e.g. a
// flood of WebSocket clients) it waits, with backoff, and tries again,
// serving the connections it has, where a plain listener would end Serve
// and the whole server with it.
func (l *guardedListener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !(errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) {
				return nil, err
			}
			l.log.Warn("out of file descriptors; not accepting for a moment", "err", err, "retry_in", delay)
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		addr := peerAddr(c)
		if !l.admit(addr) {
			l.refused.Add(1)
			refuse(c)
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(l.firstByte))
		return &guardedConn{Conn: c, l: l, addr: addr}, nil
	}
}

func peerAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

func (l *guardedListener) admit(a netip.Addr) bool {
	if l.perAddr <= 0 || l.proxies.contains(a) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] >= l.perAddr {
		return false
	}
	l.open[a]++
	return true
}

func (l *guardedListener) release(a netip.Addr) {
	if l.perAddr <= 0 || l.proxies.contains(a) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a]--; l.open[a] <= 0 {
		delete(l.open, a)
	}
}

// refusedConns is how many connections the per-address cap turned away.
func (l *guardedListener) refusedConns() int64 { return l.refused.Load() }

// tooManyConns is the whole answer to a connection over its address's cap:
// a client sees why, instead of a bare reset.
var tooManyConns = func() []byte {
	body := `{"error":"too many connections from this address; retry shortly","code":"rate_limited"}`
	return []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 10\r\n" +
		"Connection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

// refuse answers and closes a connection without serving it, without
// waiting on a client that does not read.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(tooManyConns)
	_ = c.Close()
}

// guardedConn is one accepted connection.
type guardedConn struct {
	net.Conn
	l       *guardedListener
	addr    netip.Addr
	linger  atomic.Bool
	closed  atomic.Bool
	aborted atomic.Bool
}

// abort ends all use of the connection now, from any goroutine: a read or
// write blocked on it returns, later ones fail at once, and deadlines set
// afterwards cannot extend it. A WebSocket taken over from fasthttp is
// closed through this: its library sets a fresh write deadline for every
// frame, which would undo a plain expired deadline, and fasthttp only
// closes the socket once the handler's read has ended.
func (c *guardedConn) abort() {
	c.aborted.Store(true)
	_ = c.Conn.SetDeadline(time.Now())
}

func (c *guardedConn) Read(p []byte) (int, error) {
	if c.aborted.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *guardedConn) Write(p []byte) (int, error) {
	if c.aborted.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}

func (c *guardedConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.deadline(t)) }
func (c *guardedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.deadline(t))
}
func (c *guardedConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.deadline(t))
}

func (c *guardedConn) deadline(t time.Time) time.Time {
	if c.aborted.Load() {
		return time.Now()
	}
	return t
}

// lingerOnClose asks Close to close lingeringly: the answer is an early
// error (413) and the client may still be sending its body.
func (c *guardedConn) lingerOnClose() { c.linger.Store(true) }

// Close closes the connection once. After lingerOnClose it shuts down the
// sending side first (the response is already written) and drops what the
// client still sends, for lingerTime or lingerBytes at most, in the
// background, so the client reads the response instead of a reset.
func (c *guardedConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.l.release(c.addr)
	tcp, ok := c.Conn.(*net.TCPConn)
	if !c.linger.Load() || !ok || c.l.lingering.Add(1) > maxLingering {
		if c.linger.Load() && ok {
			c.l.lingering.Add(-1)
		}
		return c.Conn.Close()
	}
	if err := tcp.CloseWrite(); err != nil {
		c.l.lingering.Add(-1)
		return c.Conn.Close()
	}
	go func() {
		defer c.l.lingering.Add(-1)
		_ = tcp.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.CopyN(io.Discard, tcp, lingerBytes)
		_ = tcp.Close()
	}()
	return nil
}
