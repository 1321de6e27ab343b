package local_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/store/local"
)

// mustOpen opens the state in dir and closes it when the test ends (a
// second Close after an explicit one is harmless in bbolt).
func mustOpen(tb testing.TB, dir string) *local.DB {
	tb.Helper()
	db, err := local.Open(dir)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustIssue(tb testing.TB, db *local.DB, role tiendo.Role, subject string) (string, local.Token) {
	tb.Helper()
	secret, tok, err := db.IssueToken(role, subject)
	if err != nil {
		tb.Fatalf("IssueToken(%s, %s): %v", role, subject, err)
	}
	return secret, tok
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	var e *tiendo.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want a *tiendo.Error with code %s", err, err, code)
	}
	if e.Code != code {
		tb.Fatalf("code = %q (%v), want %q", e.Code, err, code)
	}
}

var tokenIDPattern = regexp.MustCompile(`^[0-9a-f]{12}$`)

func TestIssueAndLookupToken(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	before := time.Now().UTC().Add(-time.Second)
	secret, tok := mustIssue(t, db, "station", "LS-BS-VULE")

	if !strings.HasPrefix(secret, local.TokenPrefix) {
		t.Errorf("secret %q lacks the prefix %q", secret, local.TokenPrefix)
	}
	if got, want := len(secret), len(local.TokenPrefix)+43; got != want { // 32 random bytes, base64url
		t.Errorf("len(secret) = %d, want %d", got, want)
	}
	if !tokenIDPattern.MatchString(tok.ID) {
		t.Errorf("ID = %q, want 12 hex digits", tok.ID)
	}
	if strings.Contains(secret, tok.ID) {
		t.Errorf("public id %q is part of the secret", tok.ID)
	}
	if tok.Role != "station" || tok.Subject != "LS-BS-VULE" || tok.Revoked {
		t.Errorf("token = %+v, want a live station token for LS-BS-VULE", tok)
	}
	if tok.Created.Before(before) || tok.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", tok.Created)
	}

	got, err := db.LookupToken(secret)
	if err != nil {
		t.Fatalf("LookupToken: %v", err)
	}
	if !got.Created.Equal(tok.Created) {
		t.Errorf("looked up Created = %v, want %v", got.Created, tok.Created)
	}
	got.Created = tok.Created
	if got != tok {
		t.Errorf("LookupToken = %+v, want %+v", got, tok)
	}

	secret2, tok2 := mustIssue(t, db, "admin", "")
	if secret2 == secret || tok2.ID == tok.ID {
		t.Fatalf("two issued tokens share a secret or id: %s %s", tok.ID, tok2.ID)
	}
	if got, err := db.LookupToken(secret2); err != nil || got.Role != "admin" || got.ID != tok2.ID {
		t.Errorf("LookupToken(admin) = %+v, %v", got, err)
	}

	all, err := db.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tk := range all {
		ids = append(ids, tk.ID)
	}
	sort.Strings(ids)
	want := []string{tok.ID, tok2.ID}
	sort.Strings(want)
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("Tokens() ids = %q, want %q", ids, want)
	}
}

func TestLookupUnknownToken(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	secret, tok := mustIssue(t, db, "station", "LS-BS-VULE")
	tests := []struct {
		name   string
		secret string
	}{
		{"empty", ""},
		{"prefix only", local.TokenPrefix},
		{"made up", local.TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"public id", tok.ID},
		{"prefixed public id", local.TokenPrefix + tok.ID},
		{"without prefix", strings.TrimPrefix(secret, local.TokenPrefix)},
		{"one character off", secret[:len(secret)-1] + string(secret[len(secret)-1]^1)},
		{"truncated", secret[:len(secret)-1]},
		{"trailing space", secret + " "},
		{"other case", strings.ToUpper(secret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.LookupToken(tt.secret)
			wantCode(t, err, tiendo.EUnauthorized)
			if got.ID != "" {
				t.Errorf("LookupToken returned a token %+v with an error", got)
			}
		})
	}
}

func TestRevokeToken(t *testing.T) {
	tests := []struct {
		name string
		by   func(secret string, tok local.Token) string
	}{
		{"by id", func(secret string, tok local.Token) string { return tok.ID }},
		{"by secret", func(secret string, tok local.Token) string { return secret }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpen(t, t.TempDir())
			secret, tok := mustIssue(t, db, "station", "LS-BS-VULE")
			other, otherTok := mustIssue(t, db, "station", "LS-TP-CHILANG")

			revoked, err := db.RevokeToken(tt.by(secret, tok))
			if err != nil {
				t.Fatalf("RevokeToken: %v", err)
			}
			if revoked.ID != tok.ID || !revoked.Revoked || revoked.Subject != "LS-BS-VULE" {
				t.Errorf("RevokeToken = %+v, want token %s revoked", revoked, tok.ID)
			}
			_, err = db.LookupToken(secret)
			wantCode(t, err, tiendo.EUnauthorized)
			if !strings.Contains(tiendo.ErrorMessage(err), "revoked") {
				t.Errorf("message %q does not say the token is revoked", tiendo.ErrorMessage(err))
			}

			if got, err := db.LookupToken(other); err != nil || got.ID != otherTok.ID {
				t.Errorf("other token after revoke: %+v, %v", got, err)
			}
			all, err := db.Tokens()
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range all {
				if want := tk.ID == tok.ID; tk.Revoked != want {
					t.Errorf("Tokens(): %s Revoked = %v, want %v", tk.ID, tk.Revoked, want)
				}
			}
			// Revoking again is harmless and keeps it revoked.
			if again, err := db.RevokeToken(tok.ID); err != nil || !again.Revoked {
				t.Errorf("second RevokeToken = %+v, %v", again, err)
			}
		})
	}
}

func TestRevokeUnknownToken(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	secret, tok := mustIssue(t, db, "admin", "")
	for _, s := range []string{"", "000000000000", local.TokenPrefix + "nope", tok.ID[:11], tok.ID + "0", strings.ToUpper(tok.ID) + "X"} {
		_, err := db.RevokeToken(s)
		wantCode(t, err, tiendo.ENotFound)
	}
	if _, err := db.LookupToken(secret); err != nil {
		t.Errorf("token after failed revokes: %v", err)
	}
}

func TestTokensStoredHashed(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	var secrets []string
	for i := 0; i < 5; i++ {
		s, _ := mustIssue(t, db, "station", "LS-BS-VULE")
		secrets = append(secrets, s)
	}
	if _, err := db.RevokeToken(secrets[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("state.db holds the secret %s", s)
		}
		if body := strings.TrimPrefix(s, local.TokenPrefix); bytes.Contains(data, []byte(body)) {
			t.Errorf("state.db holds the secret's random part %s", body)
		}
		if h := sha256.Sum256([]byte(s)); !bytes.Contains(data, h[:]) {
			t.Errorf("state.db lacks the SHA-256 of a secret: not stored by hash?")
		}
	}
	if bytes.Contains(data, []byte(local.TokenPrefix)) {
		t.Error("state.db holds the token prefix, so some part of a secret is stored")
	}
}

func testStations() []tiendo.Station {
	return []tiendo.Station{
		{ID: "LS-TP-CHILANG", Name: "Công an Phường Chi Lăng", District: "LS-TP", Commune: "Phường Chi Lăng",
			Kind: tiendo.KindFixed, Lanes: 4, Lat: 21.79779, Lon: 106.75501, Quota: 13168},
		{ID: "LS-BS-VULE", Name: "Công an xã Vũ Lễ", District: "LS-BS", Commune: "Vũ Lễ",
			Kind: tiendo.KindMobile, Lanes: 2, Lat: 21.9, Lon: 106.31, Quota: 4200},
		{ID: "LS-DL-X", Name: "Xã X (giả lập)", District: "LS-DL", Kind: tiendo.KindHomeVisit, Lanes: 1,
			Lat: -0.000001, Lon: 179.999999, Synthetic: true},
	}
}

func sortedStations(s []tiendo.Station) []tiendo.Station {
	out := append([]tiendo.Station(nil), s...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func TestStations(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	got, err := db.Stations()
	if err != nil || len(got) != 0 {
		t.Fatalf("Stations() of a new state = %+v, %v; want none", got, err)
	}
	want := testStations()
	if err := db.SaveStations(want); err != nil {
		t.Fatal(err)
	}
	got, err = db.Stations()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sortedStations(got), sortedStations(want)) {
		t.Errorf("Stations() =\n%+v\nwant\n%+v", got, want)
	}

	// SaveStations replaces the registry, it does not merge.
	replacement := want[1:2]
	replacement[0].Lanes = 5
	if err := db.SaveStations(replacement); err != nil {
		t.Fatal(err)
	}
	got, err = db.Stations()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, replacement) {
		t.Errorf("Stations() after replace = %+v, want %+v", got, replacement)
	}

	if err := db.SaveStations(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Stations(); err != nil || len(got) != 0 {
		t.Errorf("Stations() after saving none = %+v, %v", got, err)
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	live, liveTok := mustIssue(t, db, "station", "LS-BS-VULE")
	dead, deadTok := mustIssue(t, db, "leader", "")
	if _, err := db.RevokeToken(deadTok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Accept([]tiendo.Event{event("LS-BS-VULE", "1"), event("LS-BS-VULE", "2")}, local.SpoolLimits{}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveStations(testStations()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, dir)
	if got, err := db.LookupToken(live); err != nil || got.ID != liveTok.ID || got.Subject != "LS-BS-VULE" {
		t.Errorf("live token after reopen = %+v, %v", got, err)
	}
	_, err = db.LookupToken(dead)
	wantCode(t, err, tiendo.EUnauthorized)
	fresh, err := db.Accept([]tiendo.Event{event("LS-BS-VULE", "2"), event("LS-BS-VULE", "3")}, local.SpoolLimits{})
	if err != nil || !reflect.DeepEqual(fresh, []bool{false, true}) {
		t.Errorf("Accept after reopen = %v, %v; want event 2 a duplicate and 3 new", fresh, err)
	}
	if n, _, err := db.SpoolStats(); err != nil || n != 3 {
		t.Errorf("spool after reopen holds %d events (%v), want 3", n, err)
	}
	stations, err := db.Stations()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sortedStations(stations), sortedStations(testStations())) {
		t.Errorf("Stations after reopen = %+v", stations)
	}
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	mustOpen(t, dir)
	fi, err := os.Stat(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("state.db mode = %v, want %v", got, want)
	}
}

func TestOpenNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := local.Open(file); err == nil {
		db.Close()
		t.Fatal("Open of a regular file as the data dir succeeded")
	}
}

// A second Open of a directory in use fails (after bbolt's lock timeout)
// with an error that says why, and leaves the first one working.
func TestOpenTwice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := mustOpen(t, dir)
	secret, _ := mustIssue(t, db, "admin", "")

	db2, err := local.Open(dir)
	if err == nil {
		db2.Close()
		t.Fatal("second Open of a directory in use succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "another tiendo process") || !strings.Contains(msg, dir) {
		t.Errorf("error %q does not say that another process holds %s", msg, dir)
	}
	if _, err := db.LookupToken(secret); err != nil {
		t.Errorf("first DB after a failed second Open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Once closed, the directory can be opened again.
	db3 := mustOpen(t, dir)
	if _, err := db3.LookupToken(secret); err != nil {
		t.Errorf("token after reopen: %v", err)
	}
}
