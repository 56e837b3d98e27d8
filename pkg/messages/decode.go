package messages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DecodeRequest decodes and validates a request body. Unknown fields are
// ignored. The error matches [ErrInvalidJSON] if b is not JSON and is a
// [*ValidationError] if it breaks the contract.
func DecodeRequest(b []byte) (SampleReqMsg, error) {
	// Valid bodies of the usual shape take the fast path (fastdecode.go);
	// everything else, every error included, takes the general one below.
	if env, _, ok := decodeFast(b, false); ok {
		return env, nil
	}
	fields, err := decodeObject(b)
	if err != nil {
		return SampleReqMsg{}, err
	}
	return decodeEnvelope(fields)
}

// DecodeResponse decodes and validates a response body. Unknown fields are
// ignored and a missing status decodes as [DefaultStatus]. The error
// matches [ErrInvalidJSON] if b is not JSON and is a [*ValidationError] if
// it breaks the contract.
func DecodeResponse(b []byte) (SampleResMsg, error) {
	// As in DecodeRequest.
	if env, status, ok := decodeFast(b, true); ok {
		return SampleResMsg{Envelope: env, Status: status}, nil
	}
	fields, err := decodeObject(b)
	if err != nil {
		return SampleResMsg{}, err
	}
	env, err := decodeEnvelope(fields)
	if err != nil {
		return SampleResMsg{}, err
	}
	status := DefaultStatus
	if raw, ok := fields["status"]; ok {
		s, err := decodeString(raw, "status")
		if err != nil {
			return SampleResMsg{}, err
		}
		status = Status(s)
		if err := validateStatus(status); err != nil {
			return SampleResMsg{}, err
		}
	}
	return SampleResMsg{Envelope: env, Status: status}, nil
}

// decodeObject parses a whole payload as a JSON object. It and the functions
// below are the general path, which defines what DecodeRequest and
// DecodeResponse return; decodeFast must agree with it. Fields go into a
// map rather than a struct so that keys match exactly: encoding/json binds
// struct fields case-insensitively, so {"Status":"x"} would be read as the
// status, where pydantic would ignore it as an unknown field.
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
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

// decodeEnvelope reads the fields requests and responses share.
func decodeEnvelope(fields map[string]json.RawMessage) (SampleReqMsg, error) {
	var env SampleReqMsg
	var err error
	if env.CorrelationID, err = requiredString(fields, "correlation_id", "correlation_id"); err != nil {
		return SampleReqMsg{}, err
	}
	if err := ValidateCorrelationID(env.CorrelationID); err != nil {
		return SampleReqMsg{}, err
	}

	raw, ok := fields["data"]
	if !ok {
		return SampleReqMsg{}, invalid("data", "is required")
	}
	if isNull(raw) {
		return SampleReqMsg{}, invalid("data", "must not be null")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(raw, &data); err != nil {
		return SampleReqMsg{}, invalid("data", "must be an object")
	}
	if env.Data.Message, err = requiredString(data, "message", "data.message"); err != nil {
		return SampleReqMsg{}, err
	}
	if env.Data.Timestamp, err = requiredString(data, "timestamp", "data.timestamp"); err != nil {
		return SampleReqMsg{}, err
	}
	if err := env.Data.Validate(); err != nil {
		return SampleReqMsg{}, within("data", err)
	}
	return env, nil
}

// requiredString reads fields[key] as a string, reporting problems against
// path.
func requiredString(fields map[string]json.RawMessage, key, path string) (string, error) {
	raw, ok := fields[key]
	if !ok {
		return "", invalid(path, "is required")
	}
	return decodeString(raw, path)
}

// decodeString reads raw as a string. Like pydantic's default (lax) mode for
// str fields, it does not turn numbers or booleans into text.
func decodeString(raw json.RawMessage, path string) (string, error) {
	if isNull(raw) {
		return "", invalid(path, "must not be null")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(path, "must be a string")
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
