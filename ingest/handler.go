package ingest

import (
	"mime"
	"strconv"
	"strings"
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
	Limiter  *RateLimiter // nil: no limit
	Now      func() time.Time
	Metrics  *Metrics
	// Observe, if set, sees every accepted batch's events (the replay clock).
	Observe func(events []tiendo.Event)
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
	// Fiber reuses the request's memory once the handler returns and the
	// batcher holds events beyond that; Decode's strings are copies, never
	// views of the body, so they may be kept.
	res, err := h.Batcher.Submit(c.UserContext(), events)
	if err != nil {
		if tiendo.ErrorCode(err) == tiendo.EUnavailable || tiendo.ErrorCode(err) == tiendo.EInternal {
			c.Set(fiber.HeaderRetryAfter, "5")
			if tiendo.ErrorCode(err) == tiendo.EInternal {
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
