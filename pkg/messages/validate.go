package messages

import (
	"fmt"
	"unicode/utf8"
)

// Validate reports the first way e cannot be sent as a [*ValidationError]:
// a string that is not valid UTF-8, which JSON cannot carry. Every other
// value is one the Python models accept.
func (e Envelope[T]) Validate() error {
	if !utf8.ValidString(e.CorrelationID) {
		return invalid("correlation_id", "must be valid UTF-8")
	}
	if v, ok := any(e.Data).(interface{ Validate() error }); ok && e.Data != nil {
		if err := v.Validate(); err != nil {
			return within("data", err)
		}
	}
	return nil
}

// Validate reports the first way c cannot be sent as a [*ValidationError]
// naming "message" or "timestamp".
func (c *MessageContent) Validate() error {
	if !utf8.ValidString(c.Message) {
		return invalid("message", "must be valid UTF-8")
	}
	if c.Timestamp != nil && !utf8.ValidString(*c.Timestamp) {
		return invalid("timestamp", "must be valid UTF-8")
	}
	return nil
}

// Validate reports the first way m breaks the contract as a
// [*ValidationError]. An empty status is invalid here: the default applies
// only when decoding a body that has no status at all.
func (m SampleResMsg) Validate() error {
	if err := m.Envelope.Validate(); err != nil {
		return err
	}
	return validateStatus(m.Status)
}

func validateStatus(s Status) error {
	if !s.Valid() {
		return invalid("status", fmt.Sprintf("must be one of %s, got %s", statusList(), quoteTruncated(string(s))))
	}
	return nil
}
