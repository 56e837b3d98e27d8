package deadletter

import (
	"errors"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Reasons a record is dead-lettered, as a small fixed set for metric labels; the
// dlq_error header keeps the full error.
const (
	// ReasonInvalidJSON: the value is not JSON (or not UTF-8).
	ReasonInvalidJSON = "invalid_json"
	// ReasonInvalidMessage: JSON that breaks the message contract (a missing or empty
	// field, a bad timestamp, not an object).
	ReasonInvalidMessage = "invalid_message"
	// ReasonOther: anything else, such as a reply that could not be built.
	ReasonOther = "other"
)

// Reasons lists every reason Reason returns.
var Reasons = []string{ReasonInvalidJSON, ReasonInvalidMessage, ReasonOther}

// Reason classifies why a record could not be answered.
func Reason(err error) string {
	var invalid *messages.ValidationError
	switch {
	case errors.Is(err, messages.ErrInvalidJSON):
		return ReasonInvalidJSON
	case errors.As(err, &invalid):
		return ReasonInvalidMessage
	default:
		return ReasonOther
	}
}
