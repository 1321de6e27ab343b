package server

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/ingest"
)

// Principal is who a request acts for. Identity comes only from a bearer
// token or a session cookie, never from the request body.
type Principal struct {
	Role    tiendo.Role
	Subject string // district id (district), station id (chief, station)
	ID      string // token id, user name or session, for per-user limits and logs
	Cookie  bool   // authenticated by a session cookie (a browser): Origin rules apply
}

// sessionCookie carries a browser's session id.
const sessionCookie = "tiendo_session"

// sessionTTL is how long a sign-in lasts: one long working day.
const sessionTTL = 20 * time.Hour

// authenticate finds the request's principal, or nil for an anonymous one.
// A bearer token that is unknown or revoked is an error, not anonymity.
func (s *Server) authenticate(c *fiber.Ctx) (*Principal, error) {
	return s.principalFor(credentialsOf(c))
}

// credentials are what a request proves its identity with: a bearer token
// or a session cookie. A live connection keeps them, so that it can be
// checked again when tokens, sessions, users or the registry change.
type credentials struct {
	bearer  string // Authorization: Bearer secret
	session string // session cookie id
}

func credentialsOf(c *fiber.Ctx) credentials {
	cr := credentials{bearer: ingest.BearerToken(c)}
	if cr.bearer == "" {
		cr.session = strings.Clone(c.Cookies(sessionCookie))
	} else {
		cr.bearer = strings.Clone(cr.bearer)
	}
	return cr
}

// principalFor is authenticate for credentials held apart from a request.
func (s *Server) principalFor(cr credentials) (*Principal, error) {
	if cr.bearer != "" {
		tok, err := s.local.LookupToken(cr.bearer)
		if err != nil {
			return nil, err
		}
		return &Principal{Role: tok.Role, Subject: tok.Subject, ID: "token:" + tok.ID}, nil
	}
	if cr.session != "" {
		sess, err := s.local.LookupSession(cr.session)
		if err != nil {
			return nil, nil // an ended session is anonymous: the page offers sign-in
		}
		who := "user:" + sess.User
		if sess.TokenID != "" {
			who = "token:" + sess.TokenID
		}
		return &Principal{Role: sess.Role, Subject: sess.Subject, ID: who, Cookie: true}, nil
	}
	return nil, nil
}

// CanRead reports whether p may watch scope, as its role's row of the
// policy table says (tiendo.Role.CanRead); nobody (nil) may not.
func CanRead(reg *tiendo.Registry, p *Principal, scope tiendo.Scope) bool {
	return p != nil && p.Role.CanRead(reg, p.Subject, scope)
}

// requireRead checks that the request's principal may read scope. It returns
// EUnauthorized for anonymous requests and EForbidden for the wrong scope.
func (s *Server) requireRead(c *fiber.Ctx, scope tiendo.Scope) (*Principal, error) {
	p, err := s.authenticate(c)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, tiendo.Errorf(tiendo.EUnauthorized, "sign in, or send Authorization: Bearer <token>")
	}
	if !CanRead(s.Registry(), p, scope) {
		return nil, tiendo.Errorf(tiendo.EForbidden, "a %s account may not see %s", p.Role, scope)
	}
	return p, nil
}

// requireRole lets a request through only with a live bearer token of role.
func (s *Server) requireRole(role tiendo.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		secret := ingest.BearerToken(c)
		if secret == "" {
			return tiendo.Errorf(tiendo.EUnauthorized, "missing Authorization: Bearer <%s token>", role)
		}
		tok, err := s.local.LookupToken(secret)
		if err != nil {
			return err
		}
		if tok.Role != role {
			return tiendo.Errorf(tiendo.EForbidden, "this needs a %s token", role)
		}
		c.Locals(localsAdminToken, tok.ID) // who acted, for the audit trail
		return c.Next()
	}
}

// originAllowed applies the origin rules of WebSocket upgrades and of
// the cookie-setting form posts. A browser always sends Origin on an
// upgrade and on a POST, and a cookie session is a browser: it must come
// from this server's own origin or a configured one, never from a foreign
// page, "null" (sandboxed frames, files) or nowhere. A bearer client (a
// command-room player, a script) may omit Origin, but a foreign one is
// refused. Origins match on scheme, host and port (RFC 6454): an https
// page on our host, or another port of it, is another site.
func (s *Server) originAllowed(c *fiber.Ctx, p *Principal) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return !p.Cookie
	}
	o, ok := normalOrigin(origin)
	if !ok {
		return false
	}
	for _, a := range s.cfg.AllowedOrigins {
		if n, ok := normalOrigin(a); ok && n == o {
			return true
		}
	}
	return o == s.ownOrigin(c)
}

// ownOrigin is the origin the request was made to: its scheme (https when
// TLS, a trusted proxy's X-Forwarded-Proto, or --secure-cookies, which
// says the server is reached over HTTPS only) and its Host with the port.
// Behind a proxy on a non-default port the proxy must pass the port on
// (nginx: proxy_set_header Host $http_host, not $host).
func (s *Server) ownOrigin(c *fiber.Ctx) string {
	scheme := c.Protocol()
	if s.cfg.SecureCookies {
		scheme = "https"
	}
	o, _ := normalOrigin(scheme + "://" + c.Hostname())
	return o
}

// normalOrigin reads an origin as scheme://host[:port], lower case, with
// the scheme's default port left out; ok is false for anything else
// (opaque "null", paths, user info, other schemes).
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return "", false
	}
	return scheme + "://" + host, true
}

// connLimiter caps concurrent live connections per principal, so one leaked
// or hostile account cannot exhaust the server, and in total, so the server
// refuses a screen with a clear 503 before it runs out of file descriptors
// (past that, accept fails and the embedded engine cannot open its files).
type connLimiter struct {
	mu       sync.Mutex
	n        map[string]int
	total    int
	max      int // per principal
	maxTotal int
	refused  int // upgrades refused at maxTotal, for /metrics
}

// errAtCapacity and errAccountFull are acquire's refusals.
var (
	errAtCapacity  = errors.New("server at live-connection capacity")
	errAccountFull = errors.New("account at its live-connection limit")
)

func (l *connLimiter) acquire(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	if l.maxTotal > 0 && l.total >= l.maxTotal {
		l.refused++
		return errAtCapacity
	}
	if l.n[id] >= l.max {
		return errAccountFull
	}
	l.n[id]++
	l.total++
	return nil
}

// refusedAtCapacity is how many upgrades the server-wide cap refused.
func (l *connLimiter) refusedAtCapacity() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused
}

func (l *connLimiter) release(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.n[id]--; l.n[id] <= 0 {
		delete(l.n, id)
	}
}

// fdReserve is what LiveConnCapacity keeps for everything but live sockets:
// ClickHouse part files of the embedded engine, bbolt, the listener, REST
// requests and ingest connections of a few hundred stations.
const fdReserve = 1000

// LiveConnCapacity is the default total of live connections: the process's
// open-files limit less fdReserve. Go raises the soft limit to the hard one
// at start, so this follows `LimitNOFILE=` of the service unit.
func LiveConnCapacity() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 1 << 30
	}
	return max(int(r.Cur)-fdReserve, 100)
}

// secureCookies says whether cookies set on c get Secure: always with
// --secure-cookies (the server is reached over HTTPS only, through a
// proxy), else when this request came over HTTPS (directly, or as a
// trusted proxy's X-Forwarded-Proto says).
func (s *Server) secureCookies(c *fiber.Ctx) bool {
	return s.cfg.SecureCookies || c.Protocol() == "https"
}

// newSessionCookie sets the session cookie: HttpOnly (no script reads it),
// SameSite=Lax (no cross-site POST carries it), Secure as secureCookies says.
func (s *Server) newSessionCookie(c *fiber.Ctx, id string, ttl time.Duration) *fiber.Cookie {
	return &fiber.Cookie{Name: sessionCookie, Value: id, Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure: s.secureCookies(c), Expires: time.Now().Add(ttl), MaxAge: int(ttl.Seconds())}
}
