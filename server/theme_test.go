package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A page whose viewer chose no theme is dark from 18:00 to 06:00 where the
// campaign is (the server's clock: here the replay clock, moved by the
// events), light by day; a chosen theme (its cookie) wins at any hour.
func TestPagesAreDarkAtNightUnlessChosen(t *testing.T) {
	ts, _ := bootTestServer(t, "theme", &logBuffer{}, nil)
	s1 := ts.token(t, `{"station":"S1"}`)
	themeOf := func(h http.Header) string {
		r := send(t, "GET", ts.url+"/login", nil, h)
		_, rest, ok := strings.Cut(r.body, `<html lang="vi" data-theme="`)
		if r.status != 200 || !ok {
			t.Fatalf("GET /login: %d, no theme in %.200q", r.status, r.body)
		}
		theme, _, _ := strings.Cut(rest, `"`)
		return theme
	}
	at := func(clock, want string) {
		t.Helper()
		ts.post(t, s1, heartbeat("h"+clock, "S1", clock, 0, "open"))
		deadline := time.Now().Add(5 * time.Second)
		for themeOf(http.Header{}) != want {
			if time.Now().After(deadline) {
				t.Fatalf("at %s the page is %q, want %q", clock, themeOf(http.Header{}), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, chosen := range []string{"light", "dark"} {
			if got := themeOf(http.Header{"Cookie": {"tiendo_theme=" + chosen}}); got != chosen {
				t.Errorf("at %s with %s chosen the page is %q", clock, chosen, got)
			}
		}
	}
	at("09:30:00", "light")
	at("17:59:00", "light")
	at("18:00:00", "dark")
	at("23:40:00", "dark")
}
