package deadletter

import (
	"errors"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Reasons a record is dead-lettered, as a small fixed set for metric labels; the
// dlq_error header keeps the full error.
const (
	// ReasonInvalidJSON: the request codec found no JSON (or no UTF-8): a decode error
	// of the pkg/messages codec.
	ReasonInvalidJSON = "invalid_json"
	// ReasonInvalidMessage: JSON that breaks the pkg/messages contract (a missing or
	// empty field, a bad timestamp, not an object).
	ReasonInvalidMessage = "invalid_message"
	// ReasonDecode: any other request codec's decode error.
	ReasonDecode = "decode"
	// ReasonHandlerPermanent: the handler failed with a Permanent error.
	ReasonHandlerPermanent = "handler_permanent"
	// ReasonRetriesExhausted: the handler kept failing until its attempts ran out.
	ReasonRetriesExhausted = "retries_exhausted"
	// ReasonReplyEncode: the reply codec could not encode the handler's result.
	ReasonReplyEncode = "reply_encode"
	// ReasonReplyToRefused: the record's reply_to names a topic the route may not write.
	ReasonReplyToRefused = "reply_to_refused"
	// ReasonReplyUnwritable: the broker refuses the reply for good (too large, the
	// topic does not exist or may not be written).
	ReasonReplyUnwritable = "reply_unwritable"
)

// Reasons lists every reason.
var Reasons = []string{ReasonInvalidJSON, ReasonInvalidMessage, ReasonDecode, ReasonHandlerPermanent,
	ReasonRetriesExhausted, ReasonReplyEncode, ReasonReplyToRefused, ReasonReplyUnwritable}

// Error is a dead-letter reason: the error for the dlq_error header and its label.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns err labelled with reason; a decode reason is refined for the pkg/messages
// codec's errors.
func New(reason string, err error) *Error {
	if reason == ReasonDecode {
		var invalid *messages.ValidationError
		switch {
		case errors.Is(err, messages.ErrInvalidJSON):
			reason = ReasonInvalidJSON
		case errors.As(err, &invalid):
			reason = ReasonInvalidMessage
		}
	}
	return &Error{Reason: reason, Err: err}
}

// Reason returns err's reason label; ReasonRetriesExhausted for an unlabelled error.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonRetriesExhausted
}
