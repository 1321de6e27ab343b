package static

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestCatalogHashesAndRewritesImports(t *testing.T) {
	fsys := fstest.MapFS{
		"assets/core.js":    {Data: []byte("export const x = 1;\n")},
		"assets/page.js":    {Data: []byte("import { x } from './core.js';\nimport('./lazy.js');\n")},
		"assets/lazy.js":    {Data: []byte("export default 2;\n")},
		"assets/app.css":    {Data: []byte("body{}")},
		"vendor/README.txt": {Data: []byte("not served")},
	}
	c, err := buildCatalog(fsys)
	if err != nil {
		t.Fatal(err)
	}
	core, page := c.byName["core.js"], c.byName["page.js"]
	if core == nil || page == nil {
		t.Fatalf("missing assets: %v", c.byName)
	}
	if ok, _ := regexp.MatchString(`^core\.[0-9a-f]{10}\.js$`, core.Hashed); !ok {
		t.Errorf("hashed name %q", core.Hashed)
	}
	if want := "from './" + core.Hashed + "'"; !strings.Contains(string(page.Body), want) {
		t.Errorf("page.js = %q, want it to import %q", page.Body, want)
	}
	if want := "import('./" + c.byName["lazy.js"].Hashed + "')"; !strings.Contains(string(page.Body), want) {
		t.Errorf("page.js = %q, want %q", page.Body, want)
	}
	if _, ok := c.byName["vendor/README.txt"]; ok {
		t.Error("README.txt is served")
	}

	// Changing an imported module changes the importer's name and the build.
	fsys["assets/core.js"] = &fstest.MapFile{Data: []byte("export const x = 3;\n")}
	c2, err := buildCatalog(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if c2.byName["page.js"].Hashed == page.Hashed {
		t.Error("page.js kept its hash although core.js changed")
	}
	if c2.byName["app.css"].Hashed != c.byName["app.css"].Hashed {
		t.Error("app.css changed its hash although it did not change")
	}
	if c2.build == c.build {
		t.Error("build id did not change")
	}
}

func TestCatalogRejectsBrokenImports(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"missing": {"assets/a.js": {Data: []byte("import './nope.js';")}},
		"cycle": {
			"assets/a.js": {Data: []byte("import './b.js';")},
			"assets/b.js": {Data: []byte("import './a.js';")},
		},
	} {
		if _, err := buildCatalog(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The embedded assets load, and every module's imports resolve.
func TestEmbeddedAssets(t *testing.T) {
	for _, name := range []string{"app.css", "core.js", "dash.js", "screen.js", "report.js", "favicon.svg"} {
		a, immutable, ok := Lookup(strings.TrimPrefix(URL(name), Prefix))
		if !ok || !immutable || a.Name != name {
			t.Errorf("Lookup(URL(%q)) = %v, %v, %v", name, a, immutable, ok)
		}
	}
	if _, immutable, ok := Lookup("core.js"); !ok || immutable {
		t.Error("logical names should be served, uncached")
	}
	if _, _, ok := Lookup("../static.go"); ok {
		t.Error("served a file outside the assets")
	}
	if len(BuildID()) != 12 {
		t.Errorf("BuildID() = %q", BuildID())
	}
	dash, _, _ := Lookup(strings.TrimPrefix(URL("dash.js"), Prefix))
	if strings.Contains(string(dash.Body), "'./core.js'") {
		t.Error("dash.js still imports the unhashed core.js")
	}
	if dash.Gzip == nil || dash.ContentType != "text/javascript; charset=utf-8" {
		t.Errorf("dash.js: gzip %d bytes, type %q", len(dash.Gzip), dash.ContentType)
	}
}

func TestRender(t *testing.T) {
	var buf bytes.Buffer
	err := Render(&buf, Page{Kind: KindDistrict, Scope: "district:LS-BS", Lang: "en", Title: `Bắc Sơn <x>`,
		Crumbs: []Crumb{{Label: "Province", Href: "/"}, {Label: "Bắc Sơn"}}, Build: "b1", TimeZone: "Asia/Ho_Chi_Minh",
		Path: "/district/LS-BS"})
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`<html lang="en"`, `data-page="district"`, `data-scope="district:LS-BS"`, `data-build="b1"`,
		`data-tz="Asia/Ho_Chi_Minh"`, `Bắc Sơn &lt;x&gt;`, `<script type="module" src="` + URL("dash.js") + `"></script>`,
		`href="/district/LS-BS?lang=vi"`, `aria-current="page">Bắc Sơn<`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if regexp.MustCompile(`<script(?:\s+type="module")?>`).MatchString(html) {
		t.Error("inline script in the shell")
	}
	if HasECharts() != strings.Contains(html, "/static/vendor/echarts.min.") || HasECharts() == strings.Contains(html, "ECharts not installed: run scripts/install-deps.sh") {
		t.Errorf("ECharts installed: %v, but the page says otherwise", HasECharts())
	}
}

func TestRenderNotFoundAndReport(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, Page{Kind: KindNotFound, Message: `no station "X"`}); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "404") || !strings.Contains(s, "no station &#34;X&#34;") || strings.Contains(s, "type=\"module\"") {
		t.Errorf("not-found page:\n%s", s)
	}
	buf.Reset()
	if err := Render(&buf, Page{Kind: KindReport, Station: "LS-BS-VULE", Path: "/report"}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if !strings.Contains(s, `href="/report?lang=en&amp;station=LS-BS-VULE"`) || strings.Contains(s, "echarts") {
		t.Errorf("report page:\n%s", s)
	}
}

func TestThemeAt(t *testing.T) {
	zone := time.FixedZone("ICT", 7*3600)
	for h, want := range map[int]string{0: "dark", 1: "dark", 5: "dark", 6: "light", 12: "light", 17: "light", 18: "dark", 23: "dark"} {
		if got := ThemeAt(time.Date(2021, 3, 20, h, 30, 0, 0, zone)); got != want {
			t.Errorf("%02d:30: %s, want %s", h, got, want)
		}
	}
}
