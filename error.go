package tiendo

import (
	"errors"
	"fmt"
)

// Error codes shown to users. Each maps to one HTTP status in server/.
const (
	EInvalid      = "invalid"      // bad input; Fields says which
	EUnauthorized = "unauthorized" // no or unknown credentials
	EForbidden    = "forbidden"    // credentials fine, action not allowed
	ENotFound     = "not_found"    // no such station, token, scope
	EConflict     = "conflict"     // already exists
	ETooLarge     = "too_large"    // body or batch too large
	EUnsupported  = "unsupported"  // unsupported media type
	ERateLimited  = "rate_limited" // too many requests for this token
	EUnavailable  = "unavailable"  // storage cannot make events durable now
	EInternal     = "internal"     // a bug or an unexpected failure
)

// Error is an error meant for a user: a code, a message in plain words and,
// for EInvalid, the offending fields.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Total is how many problems there were when Fields holds only the
	// first of them (answers stay small however bad the request: M7);
	// 0 means Fields is all of them.
	Total int
}

// FieldsTotal is how many problems e stands for: Total, or len(Fields)
// when that is larger (Total unset).
func (e *Error) FieldsTotal() int { return max(e.Total, len(e.Fields)) }

// ErrorBody is the JSON of every error response. Items, when present, come
// with ItemsTotal, the number of problems in all: larger than len(Items)
// when only the first were kept.
type ErrorBody struct {
	Error      string       `json:"error"`
	Code       string       `json:"code"`
	Items      []FieldError `json:"items,omitempty"`
	ItemsTotal int          `json:"items_total,omitempty"`
}

// BodyOf is the response body for err: its code, its user-facing message
// (ErrorMessage) and, for an *Error, its items and their total.
func BodyOf(err error) ErrorBody {
	b := ErrorBody{Error: ErrorMessage(err), Code: ErrorCode(err)}
	var e *Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		b.Items, b.ItemsTotal = e.Fields, e.FieldsTotal()
	}
	return b
}

// FieldError names one bad field of one item of a request.
type FieldError struct {
	Index  int    `json:"index"` // position of the item in the batch, -1 if not in a batch
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		f := e.Fields[0]
		more := ""
		if n := e.FieldsTotal(); n > 1 {
			more = fmt.Sprintf(" and %d more", n-1)
		}
		return fmt.Sprintf("tiendo: %s: %s (item %d, %s: %s%s)", e.Code, e.Message, f.Index, f.Field, f.Reason, more)
	}
	return fmt.Sprintf("tiendo: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is or wraps an *Error, EInternal otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic message so that no internals leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
