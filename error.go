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
		return fmt.Sprintf("tiendo: %s: %s (item %d, %s: %s)", e.Code, e.Message, f.Index, f.Field, f.Reason)
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
