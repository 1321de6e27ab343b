package server

import (
	"strings"
	"testing"
)

func TestParseClientMessage(t *testing.T) {
	cases := map[string]clientMessage{
		`{"type":"resync"}`:                 clientResync,
		` {"type" : "resync", "extra": 1} `: clientResync,
		`{"type":"RESYNC"}`:                 clientIgnored,
		`{"type":"subscribe"}`:              clientIgnored,
		`{"type":`:                          clientIgnored,
		`[]`:                                clientIgnored,
		``:                                  clientIgnored,
		`{"type":"resync"}` + strings.Repeat(" ", maxClientMessage): clientIgnored,
	}
	for in, want := range cases {
		if got := parseClientMessage([]byte(in)); got != want {
			t.Errorf("parseClientMessage(%.40q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzParseClientMessage: whatever a browser sends, parsing neither panics
// nor takes anything but an exact resync request as one.
func FuzzParseClientMessage(f *testing.F) {
	for _, seed := range []string{`{"type":"resync"}`, `{"type":"x"}`, `{`, `null`, "\x00\xff", `{"type":"resync","type":"other"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		got := parseClientMessage(msg)
		if got == clientResync && !strings.Contains(string(msg), "resync") {
			t.Fatalf("%q parsed as resync", msg)
		}
	})
}
