package messages

import (
	"fmt"
	"unicode/utf8"
)

// MaxCorrelationIDLength is the most characters (Unicode code points, as
// Python's len counts them) a correlation id may have. It bounds what a
// client can make the services log, key records with and send in headers.
const MaxCorrelationIDLength = 128

// Validate reports the first way e breaks the contract as a
// [*ValidationError]. If the payload has a Validate() error method, as
// [MessageContent] does, it is checked too and its errors are reported
// under "data".
func (e Envelope[T]) Validate() error {
	if err := ValidateCorrelationID(e.CorrelationID); err != nil {
		return err
	}
	if v, ok := any(e.Data).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return within("data", err)
		}
	}
	return nil
}

// Validate reports the first way c breaks the contract as a
// [*ValidationError] naming "message" or "timestamp".
func (c MessageContent) Validate() error {
	if !utf8.ValidString(c.Message) {
		return invalid("message", "must be valid UTF-8")
	}
	if !validTimestamp(c.Timestamp) {
		return invalid("timestamp", "must be an RFC 3339 timestamp, got "+quoteTruncated(c.Timestamp))
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

// ValidateCorrelationID reports whether id is a correlation id the contract
// allows: a non-empty, valid UTF-8 string of at most
// [MaxCorrelationIDLength] characters. It returns nil or the
// [*ValidationError] with Field "correlation_id" that decoding or encoding
// a body with that id would return, so a service can hold an id from
// elsewhere (a record header, say) to the same rules as a body's.
func ValidateCorrelationID(id string) error {
	const field = "correlation_id"
	switch n := utf8.RuneCountInString(id); {
	case n == 0:
		return invalid(field, "must not be empty")
	case n > MaxCorrelationIDLength:
		return invalid(field, fmt.Sprintf("must be at most %d characters, got %d", MaxCorrelationIDLength, n))
	}
	// It becomes a record key and a header; encoding/json would quietly
	// replace bad bytes, so reject them rather than send a different id.
	if !utf8.ValidString(id) {
		return invalid(field, "must be valid UTF-8")
	}
	return nil
}

func validateStatus(s Status) error {
	if !s.Valid() {
		return invalid("status", fmt.Sprintf("must be one of %s, got %s", statusList(), quoteTruncated(string(s))))
	}
	return nil
}
