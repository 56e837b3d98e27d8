package messages

import (
	"errors"
	"fmt"
)

// ErrInvalidJSON is matched (with [errors.Is]) by decode errors for payloads
// that are not JSON at all. The error also wraps the underlying
// [encoding/json] error.
var ErrInvalidJSON = errors.New("messages: payload is not valid JSON")

// ValidationError reports a body that is well-formed JSON but breaks the
// contract. Use [errors.As] to get at it.
type ValidationError struct {
	// Field is the offending field's path, such as "correlation_id" or
	// "data.timestamp"; it is empty when the payload as a whole is wrong
	// (for example, a JSON array instead of an object).
	Field string
	// Reason says what is wrong, such as "must not be empty".
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "messages: invalid payload: " + e.Reason
	}
	return fmt.Sprintf("messages: invalid field %q: %s", e.Field, e.Reason)
}

// invalid is shorthand for building a *ValidationError.
func invalid(field, reason string) *ValidationError {
	return &ValidationError{Field: field, Reason: reason}
}

// within re-roots a nested value's *ValidationError under parent, so an
// error from MessageContent names "data.timestamp" rather than "timestamp".
// Other errors pass through unchanged.
func within(parent string, err error) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	field := parent
	if ve.Field != "" {
		field = parent + "." + ve.Field
	}
	return invalid(field, ve.Reason)
}
