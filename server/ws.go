package server

import (
	"encoding/json"
	"sync"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/readmodel"
	"tiendo/server/live"
)

// maxClientMessage caps what a browser may send on the socket: its only
// message is a small {"type":"resync"}.
const maxClientMessage = 1024

// writeBuffers backs the WebSocket write buffers of all connections.
var writeBuffers = &sync.Pool{}

// clientMessage is what a screen may ask over its socket.
type clientMessage int

const (
	clientIgnored clientMessage = iota // anything else is ignored, never an error
	clientResync                       // {"type":"resync"}: send me the current snapshot
)

// parseClientMessage reads one frame from a browser. Frames are small JSON
// objects; anything malformed or unknown is ignored.
func parseClientMessage(msg []byte) clientMessage {
	if len(msg) > maxClientMessage {
		return clientIgnored
	}
	var req struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(msg, &req) == nil && req.Type == "resync" {
		return clientResync
	}
	return clientIgnored
}

// wsConn adapts a contrib/websocket connection to live.Conn. It holds the
// fasthttp/websocket connection itself, not contrib's wrapper: the wrapper
// goes back to a pool when wsHandler returns and serves the next upgrade,
// while the hub may still close or write to this one (a revocation racing
// a disconnect), which must reach this connection and no other.
type wsConn struct {
	c   *fws.Conn
	raw *guardedConn // the accepted socket beneath (nil in app.Test)
}

func (w wsConn) Write(msg []byte) error {
	_ = w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return w.c.WriteMessage(fws.TextMessage, msg)
}

// Close ends the connection for real. The socket was taken over from
// fasthttp, whose hijacked conn ignores Close (it closes the socket itself
// once wsHandler returns), so closing alone would leave the descriptor
// open until the client sent something. Aborting the socket ends
// wsHandler's read and any write blocked on a client that does not read
// at once, and with them the connection.
// WritePrepared writes a published message as the frame prepared once for
// every subscriber (live.PreparedWriter): with permessage-deflate the
// message is compressed once, not once per screen. A live update is JSON
// that repeats its keys and names, so it shrinks about tenfold on the wire,
// what keeps a screen on a 3G/4G link under its budget.
func (w wsConn) WritePrepared(m *live.Message) error {
	pm, _ := m.Prepared(func(b []byte) any {
		p, err := fws.NewPreparedMessage(fws.TextMessage, b)
		if err != nil {
			return nil
		}
		return p
	}).(*fws.PreparedMessage)
	if pm == nil {
		return w.Write(m.Bytes)
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return w.c.WritePreparedMessage(pm)
}

func (w wsConn) Close() error {
	err := w.c.Close()
	if w.raw != nil {
		w.raw.abort()
	} else {
		_ = w.c.NetConn().SetDeadline(time.Now())
	}
	return err
}

// closeForPolicy tells the client why it is being closed (1008, policy
// violation: its access ended or narrowed) before closing. A page that
// sees this code reloads, and the server then sends it to sign-in or says
// what it may not see, instead of retrying the stream for ever.
func (w wsConn) closeForPolicy(reason string) {
	_ = w.c.WriteControl(fws.CloseMessage, fws.FormatCloseMessage(fws.ClosePolicyViolation, reason),
		time.Now().Add(time.Second))
}

// wsUpgrade validates the request before the upgrade, so that bad scopes and
// foreign origins get a plain HTTP error with a reason.
func (s *Server) wsUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return tiendo.Errorf(tiendo.EInvalid, "this endpoint speaks WebSocket only")
	}
	scope, err := s.scopeQuery(c)
	if err != nil {
		return err
	}
	// Taken before authenticating: a change from here on is seen by the
	// next recheck of this connection.
	gen := s.credGen.Load()
	// Authenticate before saying whether the scope exists, so that no one
	// learns the registry without signing in.
	who, err := s.requireRead(c, scope)
	if err != nil {
		return err
	}
	reg := s.Registry()
	if !reg.Known(scope) {
		return tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
	}
	if !s.originAllowed(c, who) {
		origin := c.Get(fiber.HeaderOrigin)
		if origin == "" {
			origin = "(none)"
		}
		return tiendo.Errorf(tiendo.EForbidden, "origin %s may not open the live stream", origin)
	}
	switch err := s.conns.acquire(who.ID); err {
	case nil:
	case errAtCapacity:
		c.Set(fiber.HeaderRetryAfter, "10")
		return tiendo.Errorf(tiendo.EUnavailable, "the server holds its most live connections (%d); retry shortly", s.conns.maxTotal)
	default:
		return tiendo.Errorf(tiendo.ERateLimited, "too many live connections for this account (at most %d)", s.conns.max)
	}
	t := readmodel.Topic{Scope: scope, Lang: langOf(c.Query("lang")), Dark: c.Query("theme") == "dark", Screen: who.Role.ScreenView()}
	raw, _ := c.Context().Conn().(*guardedConn)
	c.Locals("watch", &liveWatcher{topic: t.String(), scope: scope, creds: credentialsOf(c), principal: who.ID, checked: gen, raw: raw})
	if err := c.Next(); err != nil {
		// The upgrade failed, so wsHandler will not run to release the slot.
		s.conns.release(who.ID)
		return err
	}
	return nil
}

func langOf(s string) string {
	if s == "en" {
		return "en"
	}
	return "vi"
}

// wsHandler subscribes the connection and reads its resync requests until it
// closes. It returns only after the writer has stopped, because the
// connection is recycled once the handler returns.
func (s *Server) wsHandler(c *websocket.Conn) {
	w, _ := c.Locals("watch").(*liveWatcher)
	c.SetReadLimit(maxClientMessage)
	w.conn = wsConn{c: c.Conn, raw: w.raw}
	w.client = s.hub.Subscribe(w.topic, w.conn, s.publisher.SnapshotFor(w.topic))
	s.watchers.add(w)
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			break
		}
		if parseClientMessage(msg) == clientResync {
			if snap := s.publisher.SnapshotFor(w.topic); snap != nil {
				w.client.Send(snap)
			}
		}
	}
	s.watchers.remove(w)
	w.client.Close()
	<-w.client.Done()
	s.conns.release(w.principal)
}

func (s *Server) wsRoute() fiber.Handler {
	return websocket.New(s.wsHandler, websocket.Config{
		// Origins are checked in wsUpgrade against the request's own host
		// and Config.AllowedOrigins; the library's list cannot express
		// "same host as the request".
		Origins:          []string{"*"},
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		// Screens mostly wait between updates: a shared pool lends each
		// connection its write buffer only while it writes.
		WriteBufferPool: writeBuffers,
		// permessage-deflate when the client offers it (browsers do),
		// without context takeover: each message is compressed alone,
		// once for all subscribers (WritePrepared).
		EnableCompression: true,
	})
}

// liveWatcher is one open live connection with what it was allowed on:
// the credentials it authenticated with and the scope it watches, so that
// it can be checked again whenever access may have changed.
type liveWatcher struct {
	topic     string
	scope     tiendo.Scope
	creds     credentials
	principal string // Principal.ID, for the per-account cap
	raw       *guardedConn
	conn      wsConn
	client    *live.Client
	checked   uint64 // the credentials generation it was last found allowed at
}

// watcherSet holds the open live connections.
type watcherSet struct {
	mu sync.Mutex
	m  map[*liveWatcher]struct{}
}

func (ws *watcherSet) add(w *liveWatcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[*liveWatcher]struct{}{}
	}
	ws.m[w] = struct{}{}
}

func (ws *watcherSet) remove(w *liveWatcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.m, w)
}

// recheckEvery bounds how long a live connection goes without being
// checked against the current state even when nothing was reported
// changed: sessions expire by the clock, not by an event.
const recheckEvery = 30 * time.Second

// credentialsChanged tells the live connections that tokens, sessions,
// users or the registry changed: the next live round (within about half a
// second) checks each one again and closes those no longer allowed their
// scope. Every change of that kind calls it.
func (s *Server) credentialsChanged() {
	s.credGen.Add(1)
	s.publisher.Wake()
}

// recheckWatchers runs at the start of every live round. A connection is
// looked up again when credentials changed since it was last found allowed
// (or recheckEvery passed); one whose token was revoked, whose session
// ended, or whose principal may no longer read its scope (a role change, a
// station moved to another district) is closed with a policy close code.
// It returns how many it closed.
func (s *Server) recheckWatchers(now time.Time) int {
	gen := s.credGen.Load()
	if now.Sub(s.lastFullCheck) >= recheckEvery {
		s.lastFullCheck = now
		gen = s.credGen.Add(1)
	}
	s.watchers.mu.Lock()
	var due []*liveWatcher
	for w := range s.watchers.m {
		if w.checked != gen {
			due = append(due, w)
		}
	}
	s.watchers.mu.Unlock()
	if len(due) == 0 {
		return 0
	}
	reg := s.Registry()
	type verdict struct {
		p   *Principal
		err error
	}
	seen := map[credentials]verdict{} // many connections share one token or session
	closed := 0
	for _, w := range due {
		v, ok := seen[w.creds]
		if !ok {
			v.p, v.err = s.principalFor(w.creds)
			seen[w.creds] = v
		}
		reason := ""
		switch {
		case v.err != nil || v.p == nil:
			reason = "signed out or access revoked"
		case !CanRead(reg, v.p, w.scope):
			reason = "no longer allowed to see " + w.scope.String()
		}
		if reason == "" {
			s.watchers.mu.Lock()
			w.checked = gen
			s.watchers.mu.Unlock()
			continue
		}
		s.watchers.remove(w)
		w.conn.closeForPolicy(reason)
		w.client.Close()
		closed++
	}
	if closed > 0 {
		s.log.Info("live connections closed: access ended", "count", closed)
	}
	return closed
}
