package server

import (
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"tiendo"
	"tiendo/static"
	"tiendo/store/local"
)

// loginRoutes registers sign-in, sign-out and the command room's one-time links.
func (s *Server) loginRoutes() {
	s.app.Get("/login", s.loginPage)
	s.app.Post("/login", s.login)
	s.app.Post("/logout", s.logout)
	s.app.Get("/screen/activate/:code", s.activatePage)
	s.app.Post("/screen/activate/:code", s.activateScreen)
}

// localPath keeps a post-login redirect on this site: a path, never a URL.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	p := s.pageBase(c, static.KindLogin, false)
	p.Title = tr(p.Lang, "Đăng nhập", "Sign in")
	p.Next = localPath(c.Query("next"))
	return s.renderPage(c, fiber.StatusOK, p)
}

// browserOnly refuses a cookie-changing form post that does not come from
// one of our own pages. A browser sends Origin on every POST; a missing
// one is refused too, which closes login CSRF for good (SameSite=Lax
// alone does not cover every browser) and costs nothing: scripts use
// bearer tokens, not the sign-in form.
func (s *Server) browserOnly(c *fiber.Ctx, what string) error {
	if s.originAllowed(c, &Principal{Cookie: true}) {
		return nil
	}
	if c.Get(fiber.HeaderOrigin) == "" {
		return tiendo.Errorf(tiendo.EForbidden, "%s needs the Origin header a browser sends (scripts: use Authorization: Bearer <token>)", what)
	}
	return tiendo.Errorf(tiendo.EForbidden, "%s from another site is not allowed", what)
}

// login checks a name and password from the form and starts a session.
// Input is bounded and the attempt counted (see signinGuard) before any
// password is hashed; every outcome goes to the audit trail.
func (s *Server) login(c *fiber.Ctx) error {
	g := s.signin
	addr := s.clientIP(c)
	if err := s.browserOnly(c, "sign-in"); err != nil {
		s.audit(auditSigninFailed, slog.String("addr", addr), slog.String("reason", reasonOrigin),
			slog.String("origin", clip(c.Get(fiber.HeaderOrigin), 100)))
		return err
	}
	p := s.pageBase(c, static.KindLogin, false)
	next := localPath(c.FormValue("next"))
	name, password := c.FormValue("name"), c.FormValue("password")
	wrong := tr(p.Lang, "Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password.")
	if !tiendo.ValidStationID(name) || password == "" || len(password) > maxPasswordLen {
		// Never a user: the same answer as a wrong password, without
		// hashing and without a limiter key.
		s.audit(auditSigninFailed, slog.String("addr", addr), slog.String("reason", reasonInvalid),
			slog.Int("name_len", len(name)), slog.Int("password_len", len(password)))
		return s.loginFailed(c, p, next, wrong, fiber.StatusUnauthorized)
	}
	name = utils.CopyString(name)
	try := signinAttempt{addr: addrKey(addr), name: name}
	if ck := c.Cookies(deviceCookie); ck != "" {
		try.device = g.deviceFor(ck, name)
	}
	failed := func(reason string, extra ...slog.Attr) {
		s.audit(auditSigninFailed, append([]slog.Attr{slog.String("user", name), slog.String("addr", addr),
			slog.String("reason", reason), slog.Bool("known_device", try.device != "")}, extra...)...)
	}
	if !g.tryHash() {
		c.Set(fiber.HeaderRetryAfter, "1")
		failed(reasonBusy)
		return s.loginFailed(c, p, next, tr(p.Lang, "Máy chủ đang bận; thử lại sau giây lát.",
			"The server is busy; try again in a moment."), fiber.StatusTooManyRequests)
	}
	if tier, wait, ok := g.allow(try); !ok {
		g.release()
		secs := retryAfterSeconds(wait)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		failed(reasonRateLimited, slog.String("limit", string(tier)))
		return s.loginFailed(c, p, next, tr(p.Lang, "Thử quá nhiều lần; thử lại sau "+strconv.Itoa(secs)+" giây.",
			"Too many attempts; try again in "+strconv.Itoa(secs)+" s."), fiber.StatusTooManyRequests)
	}
	u, err := s.local.CheckPassword(name, password)
	g.release()
	if err != nil {
		reason := reasonWrongPassword
		if errors.Is(err, local.ErrUnknownUser) {
			reason = reasonUnknownUser
		}
		failed(reason)
		return s.loginFailed(c, p, next, wrong, fiber.StatusUnauthorized)
	}
	g.succeeded(try)
	id, err := s.local.NewSession(local.Session{Role: u.Role, Subject: u.Subject, User: u.Name, Gen: u.Gen,
		Expires: time.Now().Add(sessionTTL)})
	if err != nil {
		return err
	}
	c.Cookie(s.newSessionCookie(c, id, sessionTTL))
	c.Cookie(&fiber.Cookie{Name: deviceCookie, Value: g.deviceToken(u.Name), Path: "/login", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: s.secureCookies(c), MaxAge: int(deviceTTL.Seconds())})
	s.audit(auditSignedIn, slog.String("user", u.Name), slog.String("role", string(u.Role)), slog.String("subject", u.Subject),
		slog.String("addr", addr), slog.Bool("known_device", try.device != ""))
	if next == "/" {
		next = homePath(&Principal{Role: u.Role, Subject: u.Subject})
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// clip shortens client-written text for the log.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (s *Server) loginFailed(c *fiber.Ctx, p static.Page, next, msg string, status int) error {
	p.Title = tr(p.Lang, "Đăng nhập", "Sign in")
	p.Next, p.Message = next, msg
	return s.renderPage(c, status, p)
}

// logout ends the browser's session. It changes cookies, so it takes the
// same Origin rule as sign-in; open live connections of the session are
// closed (credentialsChanged).
func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.browserOnly(c, "sign-out"); err != nil {
		return err
	}
	who := ""
	if id := c.Cookies(sessionCookie); id != "" {
		if sess, err := s.local.LookupSession(id); err == nil {
			who = "user:" + sess.User
			if sess.TokenID != "" {
				who = "token:" + sess.TokenID
			}
		}
		_ = s.local.EndSession(id)
	}
	c.Cookie(s.newSessionCookie(c, "", -time.Hour))
	if who != "" {
		s.audit(auditSignedOut, slog.String("who", who), slog.String("addr", s.clientIP(c)))
		s.credentialsChanged()
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// activatePage shows a one-time screen link's confirmation: a GET never
// uses the code, so a chat app's link preview or a proxy's prefetch cannot
// burn it. The button posts back to the same path.
func (s *Server) activatePage(c *fiber.Ctx) error {
	p := s.pageBase(c, static.KindActivate, false)
	p.Title = tr(p.Lang, "Mở màn hình phòng chỉ huy", "Open the command-room screen")
	return s.renderPage(c, fiber.StatusOK, p)
}

// activateScreen turns a one-time link into a screen session and opens
// /screen: a command-room PC is set up without anyone typing a password,
// and no long-lived secret ever sits in a URL.
func (s *Server) activateScreen(c *fiber.Ctx) error {
	addr := s.clientIP(c)
	if err := s.browserOnly(c, "opening a screen link"); err != nil {
		s.audit(auditLinkRefused, slog.String("addr", addr), slog.String("reason", reasonOrigin))
		return err
	}
	sess, err := s.local.UseOneTimeCode(c.Params("code"))
	if err != nil {
		s.audit(auditLinkRefused, slog.String("addr", addr), slog.String("reason", tiendo.ErrorMessage(err)))
		p := s.pageBase(c, static.KindActivate, false)
		p.Title = tr(p.Lang, "Mở màn hình phòng chỉ huy", "Open the command-room screen")
		p.Message = tr(p.Lang, "Đường dẫn không dùng được (đã dùng, hết hạn hoặc sai). Xin quản trị viên một đường dẫn mới: tiendo screen link.",
			"This link cannot be used (already used, expired or wrong). Ask the administrator for a new one: tiendo screen link.")
		return s.renderPage(c, fiber.StatusUnauthorized, p)
	}
	ttl := time.Until(sess.Expires)
	id, err := s.local.NewSession(sess)
	if err != nil {
		return err
	}
	c.Cookie(s.newSessionCookie(c, id, ttl))
	s.audit(auditLinkUsed, slog.String("token", sess.TokenID), slog.String("addr", addr))
	return c.Redirect("/screen", fiber.StatusSeeOther)
}

// homePath is the page a principal lands on: its role's home (the policy
// table), as a path of this server's pages.
func homePath(p *Principal) string {
	switch p.Role.Home() {
	case tiendo.HomeScreen:
		return "/screen"
	case tiendo.HomeSubject:
		return scopePath(p.Role.HomeScope(p.Subject))
	}
	return "/"
}

// scopePath is the page of scope.
func scopePath(scope tiendo.Scope) string {
	switch scope.Kind {
	case tiendo.ScopeDistrict:
		return "/district/" + scope.ID
	case tiendo.ScopeStation:
		return "/station/" + scope.ID
	case tiendo.ScopeUnit:
		return "/unit/" + scope.ID
	}
	return "/"
}

// pageAccess gates a page: anonymous browsers go to sign-in, principals who
// may not see scope get a 403 page (or, on the overview, their own home,
// unless that is the overview itself: a station token's home is "/", and
// sending it there again was an endless redirect).
// It returns done=true when it has answered the request itself.
func (s *Server) pageAccess(c *fiber.Ctx, p static.Page, scope tiendo.Scope) (bool, error) {
	who, err := s.authenticate(c)
	if err != nil || who == nil {
		return true, c.Redirect("/login?next="+url.QueryEscape(utils.CopyString(c.OriginalURL())), fiber.StatusSeeOther)
	}
	if CanRead(s.Registry(), who, scope) {
		return false, nil
	}
	if home := homePath(who); scope == tiendo.ProvinceScope && c.Path() == "/" && home != "/" {
		return true, c.Redirect(home, fiber.StatusSeeOther)
	}
	p.Kind, p.Status = static.KindNotFound, fiber.StatusForbidden
	p.Title = tr(p.Lang, "Không có quyền xem", "Not allowed")
	p.Message = tr(p.Lang, "Tài khoản này không được xem trang này.", "This account may not see this page.")
	if who.Role.PostsEvents() {
		p.Message = tr(p.Lang, "Mã truy cập của điểm cấp chỉ dùng để gửi số liệu (POST /api/v1/events), không xem được trang.",
			"A station token only sends figures (POST /api/v1/events); it cannot see pages.")
	}
	return true, s.renderPage(c, fiber.StatusForbidden, p)
}
