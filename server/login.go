package server

import (
	"net/url"
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
	s.app.Get("/screen/activate/:code", s.activateScreen)
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

// login checks a name and password from the form and starts a session.
// Cross-site form posts are refused by Origin, on top of SameSite cookies.
func (s *Server) login(c *fiber.Ctx) error {
	if o := c.Get(fiber.HeaderOrigin); o != "" && !s.originAllowed(c, &Principal{Cookie: true}) {
		return tiendo.Errorf(tiendo.EForbidden, "sign-in from another site is not allowed")
	}
	name, password := utils.CopyString(c.FormValue("name")), utils.CopyString(c.FormValue("password"))
	next := localPath(c.FormValue("next"))
	if s.loginLimiter != nil {
		if _, ok := s.loginLimiter.Allow(s.clientIP(c) + "|" + name); !ok {
			return s.loginFailed(c, next, tr(s.pageBase(c, static.KindLogin, false).Lang,
				"Thử quá nhiều lần; đợi một phút.", "Too many attempts; wait a minute."), fiber.StatusTooManyRequests)
		}
	}
	u, err := s.local.CheckPassword(name, password)
	if err != nil {
		return s.loginFailed(c, next, tr(s.pageBase(c, static.KindLogin, false).Lang,
			"Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."), fiber.StatusUnauthorized)
	}
	id, err := s.local.NewSession(local.Session{Role: u.Role, Subject: u.Subject, User: u.Name, Expires: time.Now().Add(sessionTTL)})
	if err != nil {
		return err
	}
	c.Cookie(newSessionCookie(c, id, sessionTTL))
	s.log.Info("signed in", "user", u.Name, "role", u.Role)
	if next == "/" {
		next = homePath(&Principal{Role: u.Role, Subject: u.Subject})
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) loginFailed(c *fiber.Ctx, next, msg string, status int) error {
	p := s.pageBase(c, static.KindLogin, false)
	p.Title = tr(p.Lang, "Đăng nhập", "Sign in")
	p.Next, p.Message = next, msg
	return s.renderPage(c, status, p)
}

func (s *Server) logout(c *fiber.Ctx) error {
	if id := c.Cookies(sessionCookie); id != "" {
		_ = s.local.EndSession(id)
	}
	c.Cookie(newSessionCookie(c, "", -time.Hour))
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// activateScreen turns a one-time link into a screen session and opens
// /screen: a command-room PC is set up without anyone typing a password, and
// no long-lived secret ever sits in a URL.
func (s *Server) activateScreen(c *fiber.Ctx) error {
	sess, err := s.local.UseOneTimeCode(c.Params("code"))
	if err != nil {
		p := s.pageBase(c, static.KindLogin, false)
		p.Title = tr(p.Lang, "Đăng nhập", "Sign in")
		p.Next, p.Message = "/screen", tiendo.ErrorMessage(err)
		return s.renderPage(c, fiber.StatusUnauthorized, p)
	}
	ttl := time.Until(sess.Expires)
	id, err := s.local.NewSession(sess)
	if err != nil {
		return err
	}
	c.Cookie(newSessionCookie(c, id, ttl))
	return c.Redirect("/screen", fiber.StatusSeeOther)
}

// homePath is the page a principal lands on.
func homePath(p *Principal) string {
	switch p.Role {
	case "district":
		return "/district/" + p.Subject
	case "chief":
		return "/station/" + p.Subject
	case "screen":
		return "/screen"
	}
	return "/"
}

// pageAccess gates a page: anonymous browsers go to sign-in, principals who
// may not see scope get a 403 page (or, on the overview, their own home).
// It returns done=true when it has answered the request itself.
func (s *Server) pageAccess(c *fiber.Ctx, p static.Page, scope tiendo.Scope) (bool, error) {
	who, err := s.authenticate(c)
	if err != nil || who == nil {
		return true, c.Redirect("/login?next="+url.QueryEscape(utils.CopyString(c.OriginalURL())), fiber.StatusSeeOther)
	}
	if CanRead(s.Registry(), who, scope) {
		return false, nil
	}
	if scope == tiendo.ProvinceScope && c.Path() == "/" {
		return true, c.Redirect(homePath(who), fiber.StatusSeeOther)
	}
	p.Kind = static.KindNotFound
	p.Title = tr(p.Lang, "Không có quyền xem", "Not allowed")
	p.Message = tr(p.Lang, "Tài khoản này không được xem trang này.", "This account may not see this page.")
	return true, s.renderPage(c, fiber.StatusForbidden, p)
}
