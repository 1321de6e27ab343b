package ingest

import (
	"mime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/store/local"
)

// TokenLookup finds the record of a bearer token.
type TokenLookup interface {
	LookupToken(secret string) (local.Token, error)
}

// Handler serves POST /api/v1/events.
type Handler struct {
	Batcher  *Batcher
	Tokens   TokenLookup
	Registry func() *tiendo.Registry
	Limiter  *RateLimiter // requests per token; nil: no limit
	Now      func() time.Time
	Metrics  *Metrics
	// Observe, if set, sees every accepted batch's events (the replay clock).
	Observe func(events []tiendo.Event)

	// EventsPerSec and EventsBurst limit events, not requests, per token
	// (a token bucket): past them a batch gets 429 with Retry-After and
	// nothing of it is stored. Requests alone did not bound a token,
	// whose batches may hold 10,000 events (M9). Zero means the default
	// (DefaultEventsPerSec, DefaultEventsBurst); a negative EventsPerSec
	// turns the limit off.
	EventsPerSec float64
	EventsBurst  float64
	// Ledger, if set, checks events older than what the ledger may have
	// pruned against ClickHouse (see Ledger); set it whenever the Ledger
	// runs: it only prunes once a Handler checks through it.
	Ledger *Ledger

	eventsOnce sync.Once
	events     *RateLimiter // nil: no event limit
}

// The default event limit of a token. A station sends a few events a
// minute (a heartbeat every few minutes, a completion per record or per
// few records); an agent back after a week offline sends about 2,000 at
// once, and a replay of a whole campaign (tiendo simulate --speed max)
// some 30,000. A burst of 20,000 lets any such backlog in at once and
// 200 a second drains the rest in minutes, while one leaked token is held
// to 200 events a second instead of the 64,000 the finding measured.
const (
	DefaultEventsPerSec = 200
	DefaultEventsBurst  = 20_000
)

// eventLimiter is the limiter of EventsPerSec and EventsBurst, made on
// first use (the Handler is a plain struct literal), or nil for none.
func (h *Handler) eventLimiter() *RateLimiter {
	h.eventsOnce.Do(func() {
		rate, burst := h.EventsPerSec, h.EventsBurst
		if rate < 0 {
			return
		}
		if rate == 0 {
			rate = DefaultEventsPerSec
		}
		if burst <= 0 {
			burst = max(DefaultEventsBurst, rate)
		}
		h.events = NewRateLimiter(rate, burst)
	})
	return h.events
}

// BearerToken returns the token of an "Authorization: Bearer" header, or "".
func BearerToken(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Post accepts a batch. Errors are *tiendo.Error values that the server's
// error handler maps to statuses: 400 with per-item reasons, 401, 403, 413,
// 415, 429 and 503 with Retry-After.
func (h *Handler) Post(c *fiber.Ctx) error {
	secret := BearerToken(c)
	if secret == "" {
		return tiendo.Errorf(tiendo.EUnauthorized, "missing Authorization: Bearer <station token>")
	}
	tok, err := h.Tokens.LookupToken(secret)
	if err != nil {
		return err
	}
	if tok.Role != "station" {
		return tiendo.Errorf(tiendo.EForbidden, "only station tokens may post events (this token's role is %s)", tok.Role)
	}
	if h.Limiter != nil {
		if wait, ok := h.Limiter.Allow(tok.ID); !ok {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait/time.Second)+1))
			return tiendo.Errorf(tiendo.ERateLimited, "too many requests for this token; retry after %d s", int(wait/time.Second)+1)
		}
	}
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	var ndjson bool
	switch mt {
	case "application/json":
	case "application/x-ndjson":
		ndjson = true
	default:
		return tiendo.Errorf(tiendo.EUnsupported, "Content-Type must be application/json (an array) or application/x-ndjson, not %q", mt)
	}
	events, problems, err := DecodeBatch(c.Body(), ndjson)
	if err != nil {
		return err
	}
	reg := h.Registry()
	rules := tiendo.EventRules{Campaign: reg.Campaign, Now: h.Now(), Known: func(id string) bool { return reg.Station(id) != nil }}
	for i := range events {
		for _, p := range events[i].Validate(i, rules) {
			// The decoder's reason for a field comes first (a ts it could
			// not read is not also "required").
			if !problems.Has(p.Index, p.Field) {
				problems.Add(p)
			}
		}
	}
	if problems.Total > 0 {
		if h.Metrics != nil {
			h.Metrics.Events.WithLabelValues("rejected").Add(float64(len(events)))
		}
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "batch rejected: no event was stored",
			Fields: shortItems(problems.Items), Total: problems.Total}
	}
	var foreign Problems
	for i := range events {
		if events[i].Station != tok.Subject {
			foreign.Add(tiendo.FieldError{Index: i, Field: "station",
				Reason: "this token may only send events for station " + tok.Subject})
		}
	}
	if foreign.Total > 0 {
		return &tiendo.Error{Code: tiendo.EForbidden, Message: "batch rejected: events for another station",
			Fields: foreign.Items, Total: foreign.Total}
	}
	n := float64(len(events))
	lim := h.eventLimiter()
	if lim != nil {
		if n > lim.Burst() {
			return tiendo.Errorf(tiendo.ETooLarge, "a batch of %d events is more than this token may send at once (%.0f); send smaller batches", len(events), lim.Burst())
		}
		if wait, ok := lim.AllowN(tok.ID, n); !ok {
			secs := int(wait/time.Second) + 1
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
			if h.Metrics != nil {
				h.Metrics.Events.WithLabelValues("rate_limited").Add(n)
			}
			return tiendo.Errorf(tiendo.ERateLimited, "too many events for this token (%.0f a second on average, %.0f at once); nothing of this batch was stored; retry after %d s",
				lim.rate, lim.Burst(), secs)
		}
	}
	// Fiber reuses the request's memory once the handler returns and the
	// batcher holds events beyond that; Decode's strings are copies, never
	// views of the body, so they may be kept.
	var res Result
	if h.Ledger != nil {
		res, err = h.Ledger.Submit(c.UserContext(), h.Batcher, events)
	} else {
		res, err = h.Batcher.Submit(c.UserContext(), events)
	}
	if err != nil {
		if lim != nil {
			lim.Refund(tok.ID, n) // nothing was stored: the retry should not pay twice
		}
		if code := tiendo.ErrorCode(err); code == tiendo.EUnavailable || code == tiendo.EInternal {
			retry := 5
			if s := RetryAfter(err); s > 0 {
				retry = s
			}
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retry))
			if code == tiendo.EInternal {
				err = tiendo.Errorf(tiendo.EUnavailable, "events not accepted; retry later")
			}
		}
		return err
	}
	if h.Metrics != nil {
		h.Metrics.Events.WithLabelValues("accepted").Add(float64(res.Accepted))
		h.Metrics.Events.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	}
	if h.Observe != nil {
		h.Observe(events)
	}
	return c.Status(fiber.StatusAccepted).JSON(res)
}

// Longest field name and reason an error item repeats back. The items are
// at most MaxProblems, but a field is the client's own key, which can be a
// megabyte long, and a "given twice" reason quotes two of them: cut, the
// answer to any body stays within about 50 KB.
const (
	maxItemField  = 64
	maxItemReason = 256
)

// shortItems cuts the field names and reasons of items that are longer
// than the limits, at a character boundary, marking the cut with "…".
func shortItems(items []tiendo.FieldError) []tiendo.FieldError {
	for i := range items {
		items[i].Field = shorten(items[i].Field, maxItemField)
		items[i].Reason = shorten(items[i].Reason, maxItemReason)
	}
	return items
}

func shorten(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
