// Package static is tiendo's browser side: plain ES modules, CSS and the
// page shells, embedded in the binary together with the ECharts build the
// project installs from npm (static/vendor/, filled by scripts/install-deps.sh).
//
// Every asset is served under a content-hashed name (/static/app.3f9a1c2b4d.css),
// so a screen left running for weeks never mixes old and new code: a new
// build has new names, and BuildID changes with any asset. Imports between
// our modules ("./core.js") are rewritten to the hashed names when the
// package loads, so a module's hash also covers what it imports.
//
// The package knows nothing of HTTP frameworks: server/ looks assets up
// with Lookup and renders shells with Render.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The vendor pattern matches the committed README.txt even before
// scripts/install-deps.sh has copied echarts.min.js next to it, so a fresh
// clone builds and vets.
//
//go:embed assets templates vendor
var files embed.FS

// EChartsName is the logical name of the vendored ECharts build.
const EChartsName = "vendor/echarts.min.js"

// Prefix is the URL path under which assets are served.
const Prefix = "/static/"

// Asset is one servable file.
type Asset struct {
	Name        string // logical name, e.g. "core.js" or "vendor/echarts.min.js"
	Hashed      string // content-hashed name, e.g. "core.1a2b3c4d5e.js"
	Body        []byte
	Gzip        []byte // gzip of Body, nil when not worth it
	ContentType string
	ETag        string // strong ETag, quoted
}

// URL is the asset's content-hashed path, e.g. /static/core.1a2b3c4d5e.js.
func (a *Asset) URL() string { return Prefix + a.Hashed }

type catalog struct {
	byName   map[string]*Asset // logical name
	byHashed map[string]*Asset
	build    string
}

var (
	loadOnce sync.Once
	cat      *catalog
	loadErr  error
)

func load() *catalog {
	loadOnce.Do(func() { cat, loadErr = buildCatalog(files) })
	if loadErr != nil {
		// The embedded files are fixed at compile time; the package tests
		// load them, so this cannot happen in a tested build.
		panic("static: " + loadErr.Error())
	}
	return cat
}

// Lookup finds an asset by its hashed name (immutable: true) or by its
// logical name (immutable: false; served for debugging, never cached).
// name is relative to Prefix.
func Lookup(name string) (a *Asset, immutable bool, ok bool) {
	c := load()
	if a := c.byHashed[name]; a != nil {
		return a, true, true
	}
	if a := c.byName[name]; a != nil {
		return a, false, true
	}
	return nil, false, false
}

// URL returns the hashed URL of a logical asset name, or "" if there is none.
func URL(name string) string {
	if a := load().byName[name]; a != nil {
		return a.URL()
	}
	return ""
}

// HasECharts reports whether scripts/install-deps.sh has put ECharts into
// static/vendor/ before this binary was built.
func HasECharts() bool {
	_, ok := load().byName[EChartsName]
	return ok
}

// BuildID is a short hash over every asset. The live protocol sends it as
// "build"; a page that sees another build after reconnecting reloads itself.
func BuildID() string { return load().build }

// importRE finds relative imports of sibling modules: `from './x.js'`,
// `import './x.js'` and `import('./x.js')`.
var importRE = regexp.MustCompile(`(\bfrom\s*|\bimport\s*\(?\s*)(['"])\./([A-Za-z0-9_.-]+\.js)(['"])`)

// buildCatalog reads assets/ and vendor/, rewrites module imports to hashed
// names, and hashes everything.
func buildCatalog(fsys fs.FS) (*catalog, error) {
	raw := map[string][]byte{}
	add := func(root, prefix string) error {
		return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := prefix + strings.TrimPrefix(p, root+"/")
			if strings.HasSuffix(name, ".txt") {
				return nil // vendor/README.txt explains the directory; not served
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			raw[name] = b
			return nil
		})
	}
	if err := add("assets", ""); err != nil {
		return nil, err
	}
	if err := add("vendor", "vendor/"); err != nil {
		return nil, err
	}

	c := &catalog{byName: map[string]*Asset{}, byHashed: map[string]*Asset{}}
	visiting := map[string]bool{}
	var resolve func(name string) (*Asset, error)
	resolve = func(name string) (*Asset, error) {
		if a := c.byName[name]; a != nil {
			return a, nil
		}
		body, ok := raw[name]
		if !ok {
			return nil, fmt.Errorf("missing asset %q", name)
		}
		if visiting[name] {
			return nil, fmt.Errorf("import cycle through %q", name)
		}
		visiting[name] = true
		defer delete(visiting, name)
		if strings.HasSuffix(name, ".js") && !strings.HasPrefix(name, "vendor/") {
			var rerr error
			dir := path.Dir(name)
			body = importRE.ReplaceAllFunc(body, func(m []byte) []byte {
				sub := importRE.FindSubmatch(m)
				dep := path.Join(dir, string(sub[3]))
				a, err := resolve(dep)
				if err != nil {
					rerr = fmt.Errorf("%s imports %s: %w", name, sub[3], err)
					return m
				}
				return []byte(string(sub[1]) + string(sub[2]) + "./" + path.Base(a.Hashed) + string(sub[4]))
			})
			if rerr != nil {
				return nil, rerr
			}
		}
		a := newAsset(name, body)
		c.byName[name] = a
		c.byHashed[a.Hashed] = a
		return a, nil
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		a, err := resolve(n)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s\x00", a.Hashed)
	}
	c.build = hex.EncodeToString(h.Sum(nil))[:12]
	return c, nil
}

func newAsset(name string, body []byte) *Asset {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:10]
	ext := path.Ext(name)
	a := &Asset{
		Name:        name,
		Hashed:      strings.TrimSuffix(name, ext) + "." + hash + ext,
		Body:        body,
		ContentType: contentType(ext),
		ETag:        `"` + hash + `"`,
	}
	if len(body) > 1024 && compressible(ext) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body)*9/10 {
			a.Gzip = buf.Bytes()
		}
	}
	return a
}

func contentType(ext string) string {
	switch ext {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ext string) bool {
	switch ext {
	case ".js", ".mjs", ".css", ".svg", ".json", ".html":
		return true
	}
	return false
}
