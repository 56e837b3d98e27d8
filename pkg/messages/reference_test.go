package messages

// This file keeps the decoders as they were before the fast path in
// fastdecode.go was written: decode.go's DecodeRequest and DecodeResponse
// and their helpers, MessageContent.Validate, validateCorrelationID,
// validateStatus and the regexp-based ParseTimestamp, copied verbatim with
// only their names given a "reference" prefix. FuzzDecodeMatchesReference
// and FuzzTimestampMatchesReference check that the package's decoders
// accept, return and reject exactly what these do. Do not "improve" this
// code: it is the definition of the behaviour the wire contract promised.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// referenceDecodeRequest decodes and validates a request body. Unknown fields are
// ignored. The error matches [ErrInvalidJSON] if b is not JSON and is a
// [*ValidationError] if it breaks the contract.
func referenceDecodeRequest(b []byte) (SampleReqMsg, error) {
	fields, err := referenceDecodeObject(b)
	if err != nil {
		return SampleReqMsg{}, err
	}
	return referenceDecodeEnvelope(fields)
}

// referenceDecodeResponse decodes and validates a response body. Unknown fields are
// ignored and a missing status decodes as [DefaultStatus]. The error
// matches [ErrInvalidJSON] if b is not JSON and is a [*ValidationError] if
// it breaks the contract.
func referenceDecodeResponse(b []byte) (SampleResMsg, error) {
	fields, err := referenceDecodeObject(b)
	if err != nil {
		return SampleResMsg{}, err
	}
	env, err := referenceDecodeEnvelope(fields)
	if err != nil {
		return SampleResMsg{}, err
	}
	status := DefaultStatus
	if raw, ok := fields["status"]; ok {
		s, err := referenceDecodeString(raw, "status")
		if err != nil {
			return SampleResMsg{}, err
		}
		status = Status(s)
		if err := referenceValidateStatus(status); err != nil {
			return SampleResMsg{}, err
		}
	}
	return SampleResMsg{Envelope: env, Status: status}, nil
}

// referenceDecodeObject parses a whole payload as a JSON object. Fields go into a
// map rather than a struct so that keys match exactly: encoding/json binds
// struct fields case-insensitively, so {"Status":"x"} would be read as the
// status, where pydantic would ignore it as an unknown field.
func referenceDecodeObject(b []byte) (map[string]json.RawMessage, error) {
	// JSON text is UTF-8 (RFC 8259) and Python refuses anything else;
	// encoding/json would instead swap bad bytes for U+FFFD, quietly
	// changing a correlation id.
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidJSON)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		// json.Unmarshal checks the syntax of the whole input before
		// decoding, so a type error means well-formed JSON of another kind.
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, invalid("", "must be a JSON object")
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	if fields == nil { // the payload was null
		return nil, invalid("", "must be a JSON object")
	}
	return fields, nil
}

// referenceDecodeEnvelope reads the fields requests and responses share.
func referenceDecodeEnvelope(fields map[string]json.RawMessage) (SampleReqMsg, error) {
	var env SampleReqMsg
	var err error
	if env.CorrelationID, err = referenceRequiredString(fields, "correlation_id", "correlation_id"); err != nil {
		return SampleReqMsg{}, err
	}
	if err := referenceValidateCorrelationID(env.CorrelationID); err != nil {
		return SampleReqMsg{}, err
	}

	raw, ok := fields["data"]
	if !ok {
		return SampleReqMsg{}, invalid("data", "is required")
	}
	if referenceIsNull(raw) {
		return SampleReqMsg{}, invalid("data", "must not be null")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(raw, &data); err != nil {
		return SampleReqMsg{}, invalid("data", "must be an object")
	}
	if env.Data.Message, err = referenceRequiredString(data, "message", "data.message"); err != nil {
		return SampleReqMsg{}, err
	}
	if env.Data.Timestamp, err = referenceRequiredString(data, "timestamp", "data.timestamp"); err != nil {
		return SampleReqMsg{}, err
	}
	if err := referenceValidateContent(env.Data); err != nil {
		return SampleReqMsg{}, within("data", err)
	}
	return env, nil
}

// referenceRequiredString reads fields[key] as a string, reporting problems against
// path.
func referenceRequiredString(fields map[string]json.RawMessage, key, path string) (string, error) {
	raw, ok := fields[key]
	if !ok {
		return "", invalid(path, "is required")
	}
	return referenceDecodeString(raw, path)
}

// referenceDecodeString reads raw as a string. Like pydantic's default (lax) mode for
// str fields, it does not turn numbers or booleans into text.
func referenceDecodeString(raw json.RawMessage, path string) (string, error) {
	if referenceIsNull(raw) {
		return "", invalid(path, "must not be null")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(path, "must be a string")
	}
	return s, nil
}

func referenceIsNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// referenceValidateContent reports the first way c breaks the contract as a
// [*ValidationError] naming "message" or "timestamp".
func referenceValidateContent(c MessageContent) error {
	if !utf8.ValidString(c.Message) {
		return invalid("message", "must be valid UTF-8")
	}
	if _, err := referenceParseTimestamp(c.Timestamp); err != nil {
		return invalid("timestamp", "must be an RFC 3339 timestamp, got "+quoteTruncated(c.Timestamp))
	}
	return nil
}

func referenceValidateCorrelationID(id string) error {
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

func referenceValidateStatus(s Status) error {
	if !s.Valid() {
		return invalid("status", fmt.Sprintf("must be one of %s, got %s", statusList(), quoteTruncated(string(s))))
	}
	return nil
}

// referenceTimestampPattern is the union of RFC 3339 and what Python emits:
// datetime.isoformat() (no offset when the datetime is naive), str(datetime)
// (a space instead of the "T") and pydantic's JSON mode ("Z" for UTC).
// It is checked before time.Parse because time.Parse alone is looser than
// RFC 3339: it takes one-digit hours, a comma before the fraction and
// offsets of 24 hours or more.
var referenceTimestampPattern = regexp.MustCompile(
	`^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))?$`)

// referenceParseTimestamp parses a message timestamp. It accepts RFC 3339 text, as
// Go's [time.RFC3339Nano] and pydantic write it, and the forms Python's
// datetime writes:
//
//	2024-05-01T12:00:00.123456Z       RFC 3339, pydantic
//	2024-05-01T12:00:00.123456+02:00  isoformat() of an aware datetime
//	2024-05-01T12:00:00.123456        isoformat() of a naive datetime
//	2024-05-01 12:00:00               str(datetime)
//
// A timestamp without an offset is taken to be UTC. Up to nine fractional
// digits are accepted; anything else, including out-of-range fields such
// as a 30th of February, is an error.
func referenceParseTimestamp(s string) (time.Time, error) {
	m := referenceTimestampPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("messages: timestamp %s is not RFC 3339", quoteTruncated(s))
	}
	// time.Parse would take "+24:00"; RFC 3339 and Python both stop short
	// of a day.
	if offHours, offMinutes := m[1], m[2]; offHours != "" {
		h, _ := strconv.Atoi(offHours)
		mm, _ := strconv.Atoi(offMinutes)
		if h > 23 || mm > 59 {
			return time.Time{}, fmt.Errorf("messages: timestamp %s has an offset out of range", quoteTruncated(s))
		}
	}

	// Bring the accepted variants to the one layout time.Parse checks
	// ranges for: upper-case "T" and "Z" (RFC 3339 allows lower case),
	// and an explicit UTC offset on naive timestamps.
	norm := []byte(s)
	norm[10] = 'T'
	if last := norm[len(norm)-1]; last == 'z' {
		norm[len(norm)-1] = 'Z'
	} else if m[1] == "" && last != 'Z' {
		norm = append(norm, 'Z')
	}
	t, err := time.Parse(time.RFC3339Nano, string(norm))
	if err != nil {
		return time.Time{}, fmt.Errorf("messages: timestamp %s is out of range: %w", quoteTruncated(s), err)
	}
	return t, nil
}
