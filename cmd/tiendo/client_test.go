package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAdminAPI records the one request it gets and answers 200 {}.
func fakeAdminAPI(t *testing.T) (*httptest.Server, *http.Request, *string) {
	t.Helper()
	var got http.Request
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = *r.Clone(context.Background()), string(b)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"removed":"lan"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &got, &body
}

// captureWarnings sends the commands' warnings to a buffer for the test.
func captureWarnings(t *testing.T) *bytes.Buffer {
	var b bytes.Buffer
	old := warnOut
	warnOut = &b
	t.Cleanup(func() { warnOut = old })
	return &b
}

// tiendo user remove posts the name to the admin API with the admin token.
func TestUserRemoveCommand(t *testing.T) {
	srv, got, body := fakeAdminAPI(t)
	t.Setenv("TIENDO_ADMIN_TOKEN", "tdo_from_env")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "remove", "--server", srv.URL, "--name", "lan"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.Path != "/api/v1/admin/users/remove" || *body != `{"name":"lan"}` ||
		got.Header.Get("Authorization") != "Bearer tdo_from_env" {
		t.Errorf("request: %s %s %s auth %q", got.Method, got.URL.Path, *body, got.Header.Get("Authorization"))
	}
	if !strings.Contains(out.String(), "removed user lan") {
		t.Errorf("stdout: %q", out.String())
	}
	err := run(context.Background(), []string{"user", "remove", "--server", srv.URL}, io.Discard, io.Discard)
	if _, ok := err.(usageError); !ok {
		t.Errorf("without --name: %v, want a usage error", err)
	}
}

// L6: --admin-token on the command line works but warns that argv is
// public; the environment variable and --data do not warn.
func TestAdminTokenFlagWarns(t *testing.T) {
	srv, got, _ := fakeAdminAPI(t)
	warn := captureWarnings(t)
	args := []string{"user", "remove", "--server", srv.URL, "--name", "lan"}
	if err := run(context.Background(), append(args, "--admin-token", "tdo_in_argv"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Authorization") != "Bearer tdo_in_argv" {
		t.Errorf("the flag's token was not used: %q", got.Header.Get("Authorization"))
	}
	if !strings.Contains(warn.String(), "warning: --admin-token") || !strings.Contains(warn.String(), "TIENDO_ADMIN_TOKEN") {
		t.Errorf("no warning for --admin-token: %q", warn.String())
	}
	if strings.Contains(warn.String(), "tdo_in_argv") {
		t.Error("the warning repeats the token")
	}

	warn.Reset()
	t.Setenv("TIENDO_ADMIN_TOKEN", "tdo_from_env")
	if err := run(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("tdo_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIENDO_ADMIN_TOKEN", "")
	if err := run(context.Background(), append(args, "--data", dir), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Authorization") != "Bearer tdo_from_file" {
		t.Errorf("--data's token was not used: %q", got.Header.Get("Authorization"))
	}
	if warn.Len() != 0 {
		t.Errorf("warned without the flag: %q", warn.String())
	}
}
