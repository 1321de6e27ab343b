package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tiendo/store/storetest"
)

// tiendo quotas import sends the file to the admin API (flags may follow
// FILE, as the README writes them) and prints the server's report; the
// server's row errors come back named by row.
func TestQuotasImportCommand(t *testing.T) {
	var got *http.Request
	var body string
	answer, status := `{"dry_run":true,"changed":[{"level":"district","id":"LS-BS","old":56813,"new":57813}],"unchanged":1,`+
		`"districts":{"old":621000,"new":622000},"stations":{"old":621000,"new":622000},"target":621000,`+
		`"warnings":["district quotas add up to 622000"]}`, 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r.Clone(context.Background()), string(b)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "quotas.csv")
	csv := "level,id,quota\ndistrict,LS-BS,57813\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIENDO_ADMIN_TOKEN", "tdo_from_env")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"quotas", "import", file, "--server", srv.URL, "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.Path != "/api/v1/admin/quotas" || got.URL.RawQuery != "dry_run=1" || body != csv ||
		got.Header.Get("Content-Type") != "text/csv" || got.Header.Get("Authorization") != "Bearer tdo_from_env" {
		t.Fatalf("request: %s %s?%s %q %q", got.Method, got.URL.Path, got.URL.RawQuery, body, got.Header)
	}
	for _, line := range []string{"district LS-BS: 56813 -> 57813 (+1000)\n",
		"would change (dry run, nothing saved) 1 quotas, 1 unchanged; districts 621000 -> 622000, stations 621000 -> 622000; campaign target 621000\n",
		"warning: district quotas add up to 622000\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("stdout lacks %q:\n%s", line, out.String())
		}
	}

	answer, status = `{"error":"quota file has bad rows","code":"invalid","items":[{"index":2,"field":"quota","reason":"must not be negative: \"-1\""}]}`, 400
	err := run(context.Background(), []string{"quotas", "import", "--server", srv.URL, file}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `row 3, quota: must not be negative: "-1"`) {
		t.Fatalf("a refused file: %v", err)
	}
	if _, ok := run(context.Background(), []string{"quotas", "import", "--server", srv.URL}, io.Discard, io.Discard).(usageError); !ok {
		t.Error("no FILE: want a usage error")
	}
	if _, ok := run(context.Background(), []string{"quotas", "import", file, "other.csv", "--server", srv.URL}, io.Discard, io.Discard).(usageError); !ok {
		t.Error("two files: want a usage error")
	}
}

func TestParseInterleaved(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"a.csv", "--dry-run", "--server", "u"}, []string{"a.csv"}},
		{[]string{"--server", "u", "a.csv", "b.csv"}, []string{"a.csv", "b.csv"}},
		{[]string{"a.csv", "--", "--dry-run"}, []string{"a.csv", "--dry-run"}},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("server", "", "")
		fs.Bool("dry-run", false, "")
		got, err := parseInterleaved(fs, tt.args)
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("parseInterleaved(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}

// The operator's whole path on the real binary: the CLI imports a quota
// file, the snapshot's targets follow, and after kill -9 and a restart
// the quotas, and the export, are still the imported ones.
func TestQuotasImportSurvivesKill9(t *testing.T) {
	ch, err := storetest.StartClickHouseServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
	p := startServer(t, t.TempDir(), ch.DSN+"tiendo")
	file := filepath.Join(t.TempDir(), "quotas.csv")
	// LS-BS's stations add up to its 56,813: Vũ Lễ's 1,909 + 1,000 with
	// the district's + 1,000 keeps them together.
	if err := os.WriteFile(file, []byte("level,id,quota\ndistrict,LS-BS,57813\nstation,LS-BS-VULE,2909\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := p.cli("quotas", "import", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "district LS-BS: 56813 -> 57813 (+1000)") || !strings.Contains(out, "station LS-BS-VULE: 1909 -> 2909 (+1000)") {
		t.Fatalf("import said:\n%s", out)
	}
	check := func(when string) {
		t.Helper()
		if got := p.target(t, "district:LS-BS"); got != 57813 {
			t.Fatalf("%s: LS-BS's target %d, want 57813", when, got)
		}
		if got := p.target(t, "station:LS-BS-VULE"); got != 2909 {
			t.Fatalf("%s: Vũ Lễ's target %d, want 2909", when, got)
		}
		exported, err := p.cli("quotas", "export")
		if err != nil || !strings.Contains(exported, "district,LS-BS,Bắc Sơn,57813\n") || !strings.Contains(exported, "station,LS-BS-VULE,Công an Xã Vũ Lễ,2909\n") {
			t.Fatalf("%s: export %v:\n%.300s", when, err, exported)
		}
	}
	check("after the import")
	p.kill()
	p.start()
	check("after kill -9 and a restart")
}

// target is a scope's target as its snapshot says.
func (p *serverProc) target(t *testing.T, scope string) int64 {
	t.Helper()
	resp, err := p.read("/api/v1/snapshot?scope=" + scope)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap struct {
		Totals struct {
			Target int64 `json:"target"`
		} `json:"totals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	return snap.Totals.Target
}
