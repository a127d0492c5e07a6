// Package engine is Vitalgraph's pure domain core: values in, values out, an
// injected clock, no I/O. Sub-packages are split by concern (metrics,
// baseline, detect, evidence, evaluate, claims, narrate, safety).
//
// This file defines the one error type used across the system. Every error
// that reaches a caller carries a Code; Message is safe to show to users.
package engine

import (
	"errors"
	"fmt"
)

// Error codes. They appear verbatim in GraphQL `extensions.code`.
const (
	EINVALID      = "EINVALID"      // the input is malformed or out of range
	ENOTFOUND     = "ENOTFOUND"     // the entity does not exist (or is not the viewer's)
	EUNAUTHORIZED = "EUNAUTHORIZED" // no or bad credentials
	EFORBIDDEN    = "EFORBIDDEN"    // authenticated but not allowed
	ECONFLICT     = "ECONFLICT"     // the request conflicts with current state
	ELIMIT        = "ELIMIT"        // a guardrail or rate limit was hit
	EINTERNAL     = "EINTERNAL"     // a bug or an infrastructure failure
)

// Error is an application error with a machine-readable code and a message
// that is safe to show to end users. Details carries optional structured
// data (for example per-item validation problems).
type Error struct {
	Code    string
	Message string
	Details map[string]any
	err     error // wrapped cause, never shown to users
}

// Error implements error.
func (e *Error) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message that wraps cause.
func Wrap(cause error, code, message string) *Error {
	return &Error{Code: code, Message: message, err: cause}
}

// WithDetails returns e with key set in its Details map.
func (e *Error) WithDetails(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other non-nil error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
