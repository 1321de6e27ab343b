package static

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strings"
	"time"

	"tiendo"
	"tiendo/dashboards"
)

// Kind is which page a shell is for; the page's module reads it from
// <body data-page>.
type Kind string

const (
	KindOverview Kind = "overview" // province overview, for leadership
	KindDistrict Kind = "district" // one district
	KindStation  Kind = "station"  // one station, for its chief on a phone
	KindScreen   Kind = "screen"   // command-room kiosk
	KindReport   Kind = "report"   // phone form for stations without an agent
	KindNotFound Kind = "notfound" // unknown district or station, or a page the account may not see
	KindLogin    Kind = "login"    // sign-in form
	KindActivate Kind = "activate" // a one-time screen link's confirmation (Path is the link, posted back)
)

// Crumb is one step of the breadcrumb above a page's title.
type Crumb struct {
	Label string
	Href  string // empty for the current page
	// Scope is what the linked page shows, for whether the viewer may
	// open it; zero for a step that is no page of a scope.
	Scope tiendo.Scope
	// Locked: a page above this one that the viewer's account may not
	// open (a chief's district): said as such, not a link to a refusal.
	Locked bool
}

// Page is what a server-rendered shell needs; the rest comes over the live
// stream. Strings are escaped by html/template.
type Page struct {
	Kind     Kind
	Scope    string // live scope: "province", "district:<id>" or "station:<id>"
	Lang     string // "vi" (default) or "en"
	Theme    string // "light" or "dark"
	Title    string
	Subtitle string
	Crumbs   []Crumb
	Campaign string // the campaign's name in Lang
	TimeZone string // IANA zone of the campaign, for times on the page
	// DatePattern (dashboards.DatePattern) and Months, the English month
	// names (dashboards.MonthsEN), are handed to the page in <body
	// data-date data-months>, so that its dates follow Go's one rule.
	DatePattern string
	Months      []string
	Build       string // the live protocol's build this shell belongs to
	Path        string // the request path, for the language and theme links
	Rotate      int    // /screen: seconds per view; 0 for the default
	Message     string // KindNotFound: what was not found
	Status      int    // KindNotFound: the HTTP status shown (404, or 403 for a page the account may not see)
	Station     string // KindReport: station id to preselect
	Next        string // KindLogin: the local path to return to after signing in
	// Who is looking, for the page's own controls (the server decides
	// every request again): the principal's id ("user:lan", as a note's
	// author is named), its role, and whether it writes timeline notes
	// (for the page's scope, which it may read).
	Viewer      string
	Role        string
	WritesNotes bool
	// Tiles, on the overview of a unit above the provinces (the nation),
	// place its units on the tile map (dashboards.TileGrid).
	Tiles []dashboards.Tile
}

// entries are the module each kind of page runs.
var entries = map[Kind]string{
	KindOverview: "dash.js",
	KindDistrict: "dash.js",
	KindStation:  "dash.js",
	KindScreen:   "screen.js",
	KindReport:   "report.js",
}

// shellText is the little text the shell itself shows; the modules carry the rest.
var shellText = map[string]map[string]string{
	"vi": {
		"noscript":  "Trang này cần JavaScript để hiển thị số liệu trực tiếp.",
		"noecharts": "ECharts not installed: run scripts/install-deps.sh — chưa cài ECharts: chạy scripts/install-deps.sh rồi build lại.",
		"loading":   "Đang tải số liệu…",
		"lang":      "Ngôn ngữ",
		"theme":     "Giao diện sáng/tối",
		"themeDark": "Tối",
		"themeLite": "Sáng",
		"skip":      "Bỏ qua đến nội dung",
		"notfound":  "Không tìm thấy",
		"forbidden": "Không có quyền xem",
		"locked":    "Tài khoản này không mở được trang này",
		"home":      "Về trang tổng quan",
		"brand":     "Tiến Độ",
		"nav":       "Điều hướng",
		"report":    "Báo cáo",
		"screen":    "Màn hình lớn",
		"overview":  "Tổng quan",
		"username":  "Tên đăng nhập",
		"password":  "Mật khẩu",
		"signin":    "Đăng nhập",
		"loginhint": "Tài khoản do quản trị viên cấp. Màn hình phòng chỉ huy mở bằng đường dẫn dùng một lần.",
		"activate":  "Mở màn hình trên máy này",
		"activatehint": "Đường dẫn này chỉ dùng được một lần: bấm nút bên dưới trên máy tính của phòng chỉ huy, " +
			"máy sẽ đăng nhập với vai trò màn hình cho đến khi mã bị thu hồi.",
	},
	"en": {
		"noscript":  "This page needs JavaScript to show live figures.",
		"noecharts": "ECharts not installed: run scripts/install-deps.sh and rebuild.",
		"loading":   "Loading figures…",
		"lang":      "Language",
		"theme":     "Light/dark theme",
		"themeDark": "Dark",
		"themeLite": "Light",
		"skip":      "Skip to content",
		"notfound":  "Not found",
		"forbidden": "Not allowed",
		"locked":    "This account cannot open this page",
		"home":      "Back to the overview",
		"brand":     "Tiến Độ",
		"nav":       "Navigation",
		"report":    "Report",
		"screen":    "Big screen",
		"overview":  "Overview",
		"username":  "User name",
		"password":  "Password",
		"signin":    "Sign in",
		"loginhint": "Accounts are made by an administrator. Command-room screens open with a one-time link.",
		"activate":  "Open the screen on this computer",
		"activatehint": "This link works once: press the button below on the command-room computer, " +
			"and it stays signed in as a screen until its token is revoked.",
	},
}

var shell = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"join": strings.Join,
	"asset": func(name string) (string, error) {
		if u := URL(name); u != "" {
			return u, nil
		}
		return "", fmt.Errorf("static: no asset %q", name)
	},
}).ParseFS(files, "templates/page.html"))

// view is the template's data: the page plus what the package adds.
type view struct {
	Page
	T        map[string]string
	Entry    string
	ECharts  bool
	Charts   bool // the page draws charts, so it loads ECharts
	LangHref map[string]string
	ThemeAlt string // the other theme
	ThemeURL string
	// TilesJSON is Tiles for <body data-tiles>, read by the page's module.
	TilesJSON string
}

// ThemeAt is the theme of a page whose viewer chose none, by the hour where
// the campaign is: dark from 18:00 to 06:00 (a station chief checking the
// queue at 1 a.m. on a phone, a leader in the evening), light by day. A
// choice (the toggle, ?theme=) is kept in a cookie and wins.
func ThemeAt(local time.Time) string {
	if h := local.Hour(); h >= 18 || h < 6 {
		return "dark"
	}
	return "light"
}

// Render writes the HTML shell of p. It loads only our own hashed assets:
// no inline script, nothing that needs 'unsafe-eval'.
func Render(w io.Writer, p Page) error {
	if p.Lang != "en" {
		p.Lang = "vi"
	}
	if p.Theme != "dark" {
		p.Theme = "light"
	}
	if p.Path == "" {
		p.Path = "/"
	}
	v := view{Page: p, T: shellText[p.Lang], Entry: entries[p.Kind], ECharts: HasECharts(),
		LangHref: map[string]string{}}
	if len(p.Tiles) > 0 {
		b, err := json.Marshal(p.Tiles)
		if err != nil {
			return err
		}
		v.TilesJSON = string(b)
	}
	v.Charts = p.Kind == KindOverview || p.Kind == KindDistrict || p.Kind == KindStation || p.Kind == KindScreen
	for _, l := range []string{"vi", "en"} {
		q := url.Values{"lang": {l}}
		if p.Kind == KindReport && p.Station != "" {
			q.Set("station", p.Station)
		}
		v.LangHref[l] = p.Path + "?" + q.Encode()
	}
	v.ThemeAlt = "dark"
	if p.Theme == "dark" {
		v.ThemeAlt = "light"
	}
	v.ThemeURL = p.Path + "?" + url.Values{"theme": {v.ThemeAlt}}.Encode()
	return shell.Execute(w, v)
}
