package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store/local"
)

// The ingest handler, tested through Fiber as the server mounts it: a real
// spool and token store (bbolt), a running batcher, and errors written as
// the server writes them (tiendo.BodyOf), with the code's status.

var statusOfCode = map[string]int{
	tiendo.EInvalid: 400, tiendo.EUnauthorized: 401, tiendo.EForbidden: 403, tiendo.ETooLarge: 413,
	tiendo.EUnsupported: 415, tiendo.ERateLimited: 429, tiendo.EUnavailable: 503, tiendo.EInternal: 500,
}

// testCampaign runs from 10 March to 1 July 2021 in Asia/Ho_Chi_Minh.
func testCampaign(t testing.TB) *tiendo.Campaign {
	c := &tiendo.Campaign{ID: "t", Name: "Test", TimeZone: "Asia/Ho_Chi_Minh", Start: tiendo.DayOf(2021, 3, 10),
		Deadline: tiendo.DayOf(2021, 7, 1), Target: 1_000_000, DayBoundaryHour: 4, OpenHour: 7, LateNightHour: 22, MinutesPerRecord: 6,
		Districts: []tiendo.District{{ID: "LS-D", Name: "D", Quota: 1_000_000}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// testRegistry holds the campaign and the given stations, all in district LS-D.
func testRegistry(t testing.TB, stations ...string) *tiendo.Registry {
	c := testCampaign(t)
	var sts []tiendo.Station
	for _, id := range stations {
		sts = append(sts, tiendo.Station{ID: id, Name: id, District: "LS-D", Kind: tiendo.KindFixed, Lanes: 2, Quota: 1000})
	}
	return tiendo.NewRegistry(c, c.Districts, sts)
}

type ingestApp struct {
	app     *fiber.App
	handler *ingest.Handler
	spool   *local.DB
	token   string // station LS-A's
}

// newIngestApp mounts a Handler for stations LS-A and LS-B on spool (a
// fresh one if nil) with a running batcher; adjust changes the handler
// before use.
func newIngestApp(t *testing.T, spool *local.DB, adjust ...func(*ingest.Handler)) *ingestApp {
	t.Helper()
	return newIngestAppWith(t, spool, ingest.BatcherConfig{}, adjust...)
}

// newIngestAppWith is newIngestApp with a batcher configuration.
func newIngestAppWith(t *testing.T, spool *local.DB, cfg ingest.BatcherConfig, adjust ...func(*ingest.Handler)) *ingestApp {
	t.Helper()
	if spool == nil {
		spool = openSpool(t)
	}
	secret, _, err := spool.IssueToken("station", "LS-A")
	if err != nil {
		t.Fatal(err)
	}
	b := ingest.NewBatcher(cfg, spool, nil, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	reg := testRegistry(t, "LS-A", "LS-B")
	h := &ingest.Handler{Batcher: b, Tokens: spool, Registry: func() *tiendo.Registry { return reg },
		Now: func() time.Time { return time.Date(2021, 3, 20, 12, 0, 0, 0, time.UTC) }}
	for _, f := range adjust {
		f(h)
	}
	app := fiber.New(fiber.Config{BodyLimit: 16 << 20, ErrorHandler: func(c *fiber.Ctx, err error) error {
		status := statusOfCode[tiendo.ErrorCode(err)]
		return c.Status(status).JSON(tiendo.BodyOf(err))
	}})
	app.Post("/api/v1/events", h.Post)
	return &ingestApp{app: app, handler: h, spool: spool, token: secret}
}

type response struct {
	status int
	header http.Header
	raw    []byte
}

func (r response) body(t testing.TB) tiendo.ErrorBody {
	t.Helper()
	var b tiendo.ErrorBody
	if err := json.Unmarshal(r.raw, &b); err != nil {
		t.Fatalf("status %d, body %.300s: %v", r.status, r.raw, err)
	}
	return b
}

func (r response) result(t testing.TB) ingest.Result {
	t.Helper()
	var res ingest.Result
	if r.status != http.StatusAccepted || json.Unmarshal(r.raw, &res) != nil {
		t.Fatalf("status %d, body %.500s; want 202 with a result", r.status, r.raw)
	}
	return res
}

// post sends body (a JSON array, or NDJSON) with the app's token.
func (a *ingestApp) post(t testing.TB, body []byte, ndjson bool) response {
	t.Helper()
	return a.postAs(t, a.token, body, ndjson)
}

// postAs sends body with another token.
func (a *ingestApp) postAs(t testing.TB, token string, body []byte, ndjson bool) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", map[bool]string{false: "application/json", true: "application/x-ndjson"}[ndjson])
	resp, err := a.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// postEvents encodes events as the contract's JSON array and posts them.
func (a *ingestApp) postEvents(t testing.TB, events []tiendo.Event) response {
	t.Helper()
	return a.post(t, encodeBatch(events), false)
}

// encodeBatch writes events as a JSON array in the ingest contract's shape.
func encodeBatch(events []tiendo.Event) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(encodeEvent(e))
	}
	b.WriteByte(']')
	return b.Bytes()
}
