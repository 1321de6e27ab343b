package server

import (
	"bytes"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/brief"
)

// briefRoutes registers the daily brief (GET /api/v1/brief).
func (s *Server) briefRoutes(api fiber.Router) {
	api.Get("/brief", s.getBrief)
}

// briefTypes are the brief's formats and what they are served as.
var briefTypes = map[string]string{
	"html": fiber.MIMETextHTMLCharsetUTF8,
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"csv":  "text/csv; charset=utf-8",
}

// getBrief serves GET /api/v1/brief?scope=province|district:<id>&day=
// YYYY-MM-DD&format=html|xlsx|csv&lang=vi|en to whoever may read the
// scope (a command-room account gets the aggregates, without station
// rows). The day defaults to today's working day, the format to html, the
// language to the one the pages were last shown in.
func (s *Server) getBrief(c *fiber.Ctx) error {
	scope, err := s.scopeQuery(c)
	if err != nil {
		return err
	}
	format := c.Query("format", "html")
	if briefTypes[format] == "" {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "invalid brief request",
			Fields: []tiendo.FieldError{{Index: -1, Field: "format", Reason: "want html, xlsx or csv"}}}
	}
	var day tiendo.Day
	if q := c.Query("day"); q != "" {
		if day, err = tiendo.ParseDay(q); err != nil {
			return &tiendo.Error{Code: tiendo.EInvalid, Message: "invalid brief request",
				Fields: []tiendo.FieldError{{Index: -1, Field: "day", Reason: "want YYYY-MM-DD"}}}
		}
	}
	who, err := s.requireRead(c, scope)
	if err != nil {
		return err
	}
	lang := c.Query("lang")
	if lang != "vi" && lang != "en" {
		lang = c.Cookies(langCookie)
	}
	lang = brief.Lang(lang)
	b, err := brief.Build(c.UserContext(), s.figures, s.Registry(),
		brief.Request{Scope: scope, Day: day, Now: s.Now(), Aggregates: who.Role.ScreenView()})
	if err != nil {
		return err
	}
	var out bytes.Buffer
	switch format {
	case "xlsx":
		err = b.WriteXLSX(&out, lang)
	case "csv":
		err = b.WriteCSV(&out, lang)
	default:
		err = b.WriteHTML(&out, lang, briefLinks(scope, b.Day, lang))
		c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	}
	if err != nil {
		return err
	}
	if format != "html" {
		name := "bao-cao-ngay-" + b.Day.String() + "-" + briefFileScope(scope) + "." + format
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	}
	c.Set(fiber.HeaderContentType, briefTypes[format])
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(out.Bytes())
}

// briefFileScope names the scope in a file name: "province", "LS-TP".
func briefFileScope(scope tiendo.Scope) string {
	if scope.Kind == tiendo.ScopeProvince {
		return "province"
	}
	return scope.ID
}

// briefLinks are the HTML brief's actions: the same brief as XLSX and CSV,
// in the other language, and the scope's dashboard.
func briefLinks(scope tiendo.Scope, day tiendo.Day, lang string) []brief.Link {
	href := func(format, l string) string {
		return "/api/v1/brief?" + url.Values{"scope": {scope.String()}, "day": {day.String()}, "format": {format}, "lang": {l}}.Encode()
	}
	other, otherLabel := "en", "English"
	if lang == "en" {
		other, otherLabel = "vi", "Tiếng Việt"
	}
	back := "/"
	if scope.Kind == tiendo.ScopeDistrict {
		back = "/district/" + url.PathEscape(scope.ID)
	}
	return []brief.Link{
		{Label: tr(lang, "← Về trang theo dõi", "← Back to the dashboard"), Href: back},
		{Label: tr(lang, "Tải về Excel (XLSX)", "Download Excel (XLSX)"), Href: href("xlsx", lang), Download: true},
		{Label: tr(lang, "Tải về CSV", "Download CSV"), Href: href("csv", lang), Download: true},
		{Label: otherLabel, Href: href("html", other), Lang: other},
	}
}
