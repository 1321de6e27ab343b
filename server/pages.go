package server

import (
	"bytes"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"tiendo"
	"tiendo/dashboards"
	"tiendo/static"
)

// Cookies that keep a browser's choices across pages.
const (
	langCookie  = "tiendo_lang"
	themeCookie = "tiendo_theme"
)

// contentSecurityPolicy lets pages run only our own scripts (no inline
// script, no eval) and talk only to this server. ECharts sets element
// styles, hence 'unsafe-inline' for styles only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

// pageRoutes registers the HTML pages and the embedded assets. The pages
// are shells; their figures come over /ws.
func (s *Server) pageRoutes() {
	s.app.Get("/static/*", s.staticAsset)
	s.app.Get("/", s.overviewPage)
	s.app.Get("/unit/:id", s.unitPage)
	s.app.Get("/district/:id", s.districtPage)
	s.app.Get("/station/:id", s.stationPage)
	s.app.Get("/screen", s.screenPage)
	s.app.Get("/report", s.reportPage)
}

// staticAsset serves an embedded asset: hashed names forever, logical names
// never from cache; gzip when the client takes it.
func (s *Server) staticAsset(c *fiber.Ctx) error {
	a, immutable, ok := static.Lookup(c.Params("*"))
	if !ok {
		return tiendo.Errorf(tiendo.ENotFound, "no asset %q", c.Params("*"))
	}
	if immutable {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderETag, a.ETag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if c.Get(fiber.HeaderIfNoneMatch) == a.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	body := a.Body
	if a.Gzip != nil && c.AcceptsEncodings("gzip") == "gzip" {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		body = a.Gzip
	}
	// The embedded bytes are never written to, so fasthttp may send them as they are.
	c.Response().SetBodyRaw(body)
	return nil
}

// pageBase fills what every page shares: language and theme (from the
// query, remembered in cookies), the campaign, the build.
func (s *Server) pageBase(c *fiber.Ctx, kind static.Kind, forceDark bool) static.Page {
	lang := c.Query("lang")
	if lang == "vi" || lang == "en" {
		s.remember(c, langCookie, lang)
	} else {
		lang = c.Cookies(langCookie)
	}
	if lang != "en" {
		lang = "vi"
	}
	camp := s.Registry().Campaign
	theme := c.Query("theme")
	if theme == "light" || theme == "dark" {
		if !forceDark {
			s.remember(c, themeCookie, theme)
		}
	} else if forceDark {
		theme = "dark"
	} else if theme = c.Cookies(themeCookie); theme != "light" && theme != "dark" {
		theme = static.ThemeAt(s.Now().In(camp.Location()))
	}
	name := camp.Name
	if lang == "en" && camp.NameEN != "" {
		name = camp.NameEN
	}
	return static.Page{Kind: kind, Lang: lang, Theme: theme, Campaign: name, TimeZone: camp.TimeZone,
		DatePattern: dashboards.DatePattern(lang), Months: dashboards.MonthsEN[:], Build: s.build, Path: utils.CopyString(c.Path()), Scope: "province"}
}

func (s *Server) remember(c *fiber.Ctx, name, value string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: fiber.CookieSameSiteLaxMode, HTTPOnly: true, Secure: s.secureCookies(c)})
}

func (s *Server) renderPage(c *fiber.Ctx, status int, p static.Page) error {
	// Who is looking, for the page's own controls (the notes form, a note's
	// delete button); every request they make is judged again.
	if who, err := s.authenticate(c); err == nil && who != nil {
		p.Viewer, p.Role, p.WritesNotes = who.ID, string(who.Role), writesNotes(who.Role)
		s.lockCrumbs(who, p.Crumbs)
	}
	var buf bytes.Buffer
	if err := static.Render(&buf, p); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// Shells are small and name the current hashed assets: always revalidate.
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	return c.Status(status).Send(buf.Bytes())
}

// lockCrumbs turns the steps of a breadcrumb that who may not open (a
// chief's district, an officer's nation) from links into words that say
// so: following them would only show a refusal.
func (s *Server) lockCrumbs(who *Principal, crumbs []static.Crumb) {
	reg := s.Registry()
	for i := range crumbs {
		if cr := &crumbs[i]; cr.Href != "" && cr.Scope.Kind != "" && !CanRead(reg, who, cr.Scope) {
			cr.Href, cr.Locked = "", true
		}
	}
}

// tr picks the Vietnamese or English form of a page label.
func tr(lang, vi, en string) string {
	if lang == "en" {
		return en
	}
	return vi
}

// topCrumb is the first step of every breadcrumb: the campaign's top,
// the nation or the province.
func (s *Server) topCrumb(lang string, here bool) static.Crumb {
	cr := static.Crumb{Label: tr(lang, "Toàn tỉnh", "Province"), Href: "/", Scope: tiendo.ProvinceScope}
	if s.Registry().Campaign.TopLevel() == tiendo.LevelNation {
		cr.Label = tr(lang, "Toàn quốc", "Nation")
	}
	if here {
		cr.Href = ""
	}
	return cr
}

// unitCrumbs are the breadcrumb from the top down to unit id: the units
// above it as links, the unit itself, a link too unless it is the page.
func (s *Server) unitCrumbs(lang, id string, here bool) []static.Crumb {
	reg := s.Registry()
	chain := reg.UnitChain(id)
	out := []static.Crumb{s.topCrumb(lang, false)}
	for i := len(chain) - 1; i >= 0; i-- {
		u := reg.Unit(chain[i])
		if u == nil {
			continue // an id the tree does not know (an import's district)
		}
		cr := unitCrumb(reg, u)
		if i == 0 && here {
			cr.Href = ""
		}
		out = append(out, cr)
	}
	return out
}

// unitCrumb links a unit's page: a district's is /district/<id>, the page
// old links know; any other unit's /unit/<id>.
func unitCrumb(reg *tiendo.Registry, u *tiendo.Unit) static.Crumb {
	if reg.District(u.ID) != nil {
		return static.Crumb{Label: u.Name, Href: "/district/" + u.ID, Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: u.ID}}
	}
	return static.Crumb{Label: u.Name, Href: "/unit/" + u.ID, Scope: tiendo.Scope{Kind: tiendo.ScopeUnit, ID: u.ID}}
}

// withTiles gives an overview whose units have places the tile grid
// they are drawn on (the provinces of the nation).
func (s *Server) withTiles(p *static.Page, scope tiendo.Scope) {
	reg := s.Registry()
	if !reg.LevelOf(scope).Above(tiendo.LevelProvince) {
		return
	}
	var units []tiendo.Unit
	for _, u := range reg.Children(scope) {
		units = append(units, *u)
	}
	p.Tiles = dashboards.TileGrid(units)
}

func (s *Server) overviewPage(c *fiber.Ctx) error {
	p := s.pageBase(c, static.KindOverview, false)
	if done, err := s.pageAccess(c, p, tiendo.ProvinceScope); done {
		return err
	}
	p.Title = p.Campaign
	p.Crumbs = []static.Crumb{s.topCrumb(p.Lang, true)}
	s.withTiles(&p, tiendo.ProvinceScope)
	return s.renderPage(c, fiber.StatusOK, p)
}

// unitPage is a unit's page: a province (or any unit above the districts)
// gets the overview, its districts ranked as the province campaign's are;
// a district or a commune the district page of its stations.
func (s *Server) unitPage(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	p := s.pageBase(c, static.KindOverview, false)
	scope := tiendo.Scope{Kind: tiendo.ScopeUnit, ID: id}
	if done, err := s.pageAccess(c, p, scope); done {
		return err
	}
	reg := s.Registry()
	u := reg.Unit(id)
	if u == nil {
		return s.notFound(c, p, tr(p.Lang, "Không có đơn vị mã ", "There is no unit with id ")+strconv.Quote(id)+".")
	}
	if u.Level == tiendo.LevelDistrict || u.Level == tiendo.LevelCommune {
		p.Kind = static.KindDistrict
	}
	p.Scope = scope.String()
	p.Title = u.Name
	p.Subtitle = p.Campaign
	p.Crumbs = s.unitCrumbs(p.Lang, u.ID, true)
	s.withTiles(&p, scope)
	return s.renderPage(c, fiber.StatusOK, p)
}

// districtPage and stationPage ask who is asking before whether the id
// exists: anonymous browsers are sent to sign-in, and accounts that may
// not see the scope get 403, for known and unknown ids alike, so that the
// answer says nothing about the registry to those not allowed to read it.
func (s *Server) districtPage(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	p := s.pageBase(c, static.KindDistrict, false)
	if done, err := s.pageAccess(c, p, tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: id}); done {
		return err
	}
	d := s.Registry().District(id)
	if d == nil {
		return s.notFound(c, p, tr(p.Lang, "Không có quận/huyện mã ", "There is no district with id ")+strconv.Quote(id)+".")
	}
	p.Scope = string(tiendo.ScopeDistrict) + ":" + d.ID
	p.Title = d.Name
	p.Crumbs = s.unitCrumbs(p.Lang, d.ID, true)
	return s.renderPage(c, fiber.StatusOK, p)
}

func (s *Server) stationPage(c *fiber.Ctx) error {
	id := utils.CopyString(c.Params("id"))
	p := s.pageBase(c, static.KindStation, false)
	if done, err := s.pageAccess(c, p, tiendo.Scope{Kind: tiendo.ScopeStation, ID: id}); done {
		return err
	}
	reg := s.Registry()
	st := reg.Station(id)
	if st == nil {
		return s.notFound(c, p, tr(p.Lang, "Không có điểm cấp mã ", "There is no station with id ")+strconv.Quote(id)+".")
	}
	p.Scope = string(tiendo.ScopeStation) + ":" + st.ID
	p.Title = st.Name
	unit := st.Unit
	if unit == "" || reg.Unit(unit) == nil {
		unit = st.District
	}
	p.Crumbs = s.unitCrumbs(p.Lang, unit, false)
	if reg.Unit(unit) == nil && reg.District(st.District) != nil {
		// A district the tree does not know (an operator's import).
		p.Crumbs = append(p.Crumbs, static.Crumb{Label: reg.District(st.District).Name, Href: "/district/" + st.District,
			Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: st.District}})
	}
	p.Crumbs = append(p.Crumbs, static.Crumb{Label: st.Name})
	return s.renderPage(c, fiber.StatusOK, p)
}

func (s *Server) screenPage(c *fiber.Ctx) error {
	p := s.pageBase(c, static.KindScreen, true)
	if done, err := s.pageAccess(c, p, tiendo.ProvinceScope); done {
		return err
	}
	p.Title = tr(p.Lang, "Phòng chỉ huy", "Command room") + " — " + p.Campaign
	s.withTiles(&p, tiendo.ProvinceScope)
	if r, err := strconv.Atoi(c.Query("rotate")); err == nil && r >= 3 && r <= int((24*time.Hour)/time.Second) {
		p.Rotate = r
	}
	return s.renderPage(c, fiber.StatusOK, p)
}

func (s *Server) reportPage(c *fiber.Ctx) error {
	p := s.pageBase(c, static.KindReport, false)
	p.Title = tr(p.Lang, "Báo cáo thủ công", "Manual report")
	p.Subtitle = p.Campaign
	// Any well-formed id is filled in, known or not: the form is public,
	// and an answer that differed would tell anyone which stations exist.
	// The server refuses events for an unknown station when they are sent.
	if id := c.Query("station"); tiendo.ValidStationID(id) {
		p.Station = utils.CopyString(id)
	}
	p.Crumbs = []static.Crumb{s.topCrumb(p.Lang, false), {Label: p.Title}}
	return s.renderPage(c, fiber.StatusOK, p)
}

func (s *Server) notFound(c *fiber.Ctx, p static.Page, msg string) error {
	p.Kind = static.KindNotFound
	p.Title = tr(p.Lang, "Không tìm thấy", "Not found")
	p.Message = msg
	p.Crumbs = []static.Crumb{s.topCrumb(p.Lang, false), {Label: p.Title}}
	return s.renderPage(c, fiber.StatusNotFound, p)
}
