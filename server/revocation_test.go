package server_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// M1: revoking a token closes the live connections opened with it, with
// the policy close code, and the server lets go of the socket.
func TestRevokedTokenClosesItsLiveConnections(t *testing.T) {
	ts := startTestServer(t)
	leader, leaderID := ts.issue(t, `{"role":"leader"}`)
	other := ts.token(t, `{"role":"leader"}`)
	revoked, raw := rawWS(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + leader}}, 0)
	kept, _ := rawWS(t, ts, "scope=province", http.Header{"Authorization": {"Bearer " + other}}, 0)
	read(t, revoked)
	read(t, kept)

	if code := request(t, http.MethodPost, ts.url+"/api/v1/admin/tokens/revoke", ts.admin, `{"id":"`+leaderID+`"}`); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	start := time.Now()
	_ = revoked.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		_, _, err = revoked.ReadMessage()
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("revoked connection ended with %v; want close code 1008", err)
	}
	if err := serverClosed(raw, 3*time.Second); err != nil {
		t.Fatalf("the server kept the revoked socket open: %v", err)
	}
	t.Logf("closed %v after the revocation (%s)", time.Since(start).Round(time.Millisecond), ce.Text)
	// Another token's connection goes on.
	read(t, kept)
}
