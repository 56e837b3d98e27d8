package messages_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

// validData is a data object that passes validation, for tests about other
// fields.
const validData = `{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}`

// envelopeErrorCases break the fields requests and responses share; every
// case is run through both decoders.
var envelopeErrorCases = []struct {
	name   string
	body   string
	field  string
	reason string
}{
	{"payload array", `[]`, "", "must be a JSON object"},
	{"payload string", `"hello"`, "", "must be a JSON object"},
	{"payload null", `null`, "", "must be a JSON object"},

	{"correlation_id missing", `{"data":` + validData + `}`, "correlation_id", "is required"},
	{"correlation_id null", `{"correlation_id":null,"data":` + validData + `}`, "correlation_id", "must not be null"},
	{"correlation_id number", `{"correlation_id":42,"data":` + validData + `}`, "correlation_id", "must be a string"},
	{"correlation_id empty", `{"correlation_id":"","data":` + validData + `}`, "correlation_id", "must not be empty"},
	{"correlation_id too long", `{"correlation_id":"` + strings.Repeat("a", 129) + `","data":` + validData + `}`,
		"correlation_id", "must be at most 128 characters, got 129"},
	{"correlation_id too long in runes", `{"correlation_id":"` + strings.Repeat("é", 129) + `","data":` + validData + `}`,
		"correlation_id", "must be at most 128 characters, got 129"},
	// Key matching is exact, as in pydantic: this is an unknown field.
	{"correlation_id wrong case", `{"Correlation_ID":"abc","data":` + validData + `}`, "correlation_id", "is required"},

	{"data missing", `{"correlation_id":"abc"}`, "data", "is required"},
	{"data null", `{"correlation_id":"abc","data":null}`, "data", "must not be null"},
	{"data string", `{"correlation_id":"abc","data":"ping"}`, "data", "must be an object"},
	{"data array", `{"correlation_id":"abc","data":[]}`, "data", "must be an object"},

	{"message missing", `{"correlation_id":"abc","data":{"timestamp":"2026-11-27T10:00:00Z"}}`, "data.message", "is required"},
	{"message null", `{"correlation_id":"abc","data":{"message":null,"timestamp":"2026-11-27T10:00:00Z"}}`, "data.message", "must not be null"},
	{"message number", `{"correlation_id":"abc","data":{"message":1,"timestamp":"2026-11-27T10:00:00Z"}}`, "data.message", "must be a string"},

	{"timestamp missing", `{"correlation_id":"abc","data":{"message":"ping"}}`, "data.timestamp", "is required"},
	{"timestamp null", `{"correlation_id":"abc","data":{"message":"ping","timestamp":null}}`, "data.timestamp", "must not be null"},
	{"timestamp unix seconds", `{"correlation_id":"abc","data":{"message":"ping","timestamp":1764237600}}`, "data.timestamp", "must be a string"},
	{"timestamp garbage", `{"correlation_id":"abc","data":{"message":"ping","timestamp":"yesterday"}}`,
		"data.timestamp", `must be an RFC 3339 timestamp, got "yesterday"`},
	{"timestamp empty", `{"correlation_id":"abc","data":{"message":"ping","timestamp":""}}`,
		"data.timestamp", `must be an RFC 3339 timestamp, got ""`},
	{"timestamp out of range", `{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-02-30T10:00:00Z"}}`,
		"data.timestamp", `must be an RFC 3339 timestamp, got "2026-02-30T10:00:00Z"`},
}

func TestDecodeRequestValidationErrors(t *testing.T) {
	for _, tt := range envelopeErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := messages.DecodeRequest([]byte(tt.body))
			assertValidationError(t, err, tt.field, tt.reason)
		})
	}
}

func TestDecodeResponseValidationErrors(t *testing.T) {
	cases := append([]struct {
		name   string
		body   string
		field  string
		reason string
	}{
		{"status null", `{"correlation_id":"abc","data":` + validData + `,"status":null}`, "status", "must not be null"},
		{"status number", `{"correlation_id":"abc","data":` + validData + `,"status":2}`, "status", "must be a string"},
		{"status empty", `{"correlation_id":"abc","data":` + validData + `,"status":""}`,
			"status", `must be one of Received, Processing, Completed, Failed, Retrying, Cancelled, Partially, got ""`},
		{"status unknown", `{"correlation_id":"abc","data":` + validData + `,"status":"Done"}`,
			"status", `must be one of Received, Processing, Completed, Failed, Retrying, Cancelled, Partially, got "Done"`},
		{"status wrong case", `{"correlation_id":"abc","data":` + validData + `,"status":"completed"}`,
			"status", `must be one of Received, Processing, Completed, Failed, Retrying, Cancelled, Partially, got "completed"`},
	}, envelopeErrorCases...)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := messages.DecodeResponse([]byte(tt.body))
			assertValidationError(t, err, tt.field, tt.reason)
		})
	}
}

func TestDecodeInvalidJSON(t *testing.T) {
	for _, body := range []string{``, `{`, `{"correlation_id":"abc",}`, `not json`, `{"a":1} trailing`} {
		for name, decode := range decoders {
			t.Run(name+"/"+body, func(t *testing.T) {
				err := decode([]byte(body))
				if !errors.Is(err, messages.ErrInvalidJSON) {
					t.Fatalf("error = %v, want one matching ErrInvalidJSON", err)
				}
				if _, ok := errors.AsType[*json.SyntaxError](err); !ok {
					t.Errorf("error = %v, want it to wrap the *json.SyntaxError", err)
				}
				if _, ok := errors.AsType[*messages.ValidationError](err); ok {
					t.Errorf("error = %v is a *ValidationError, want only ErrInvalidJSON", err)
				}
				if !strings.HasPrefix(err.Error(), "messages: payload is not valid JSON: ") {
					t.Errorf("error text = %q", err)
				}
			})
		}
	}
}

func TestDecodeInvalidUTF8(t *testing.T) {
	body := "{\"correlation_id\":\"ab\xff\",\"data\":" + validData + "}"
	for name, decode := range decoders {
		t.Run(name, func(t *testing.T) {
			err := decode([]byte(body))
			if !errors.Is(err, messages.ErrInvalidJSON) {
				t.Fatalf("error = %v, want one matching ErrInvalidJSON", err)
			}
			if want := "messages: payload is not valid JSON: not valid UTF-8"; err.Error() != want {
				t.Errorf("error text = %q, want %q", err, want)
			}
		})
	}
}

// decoders runs each decoder for its error alone.
var decoders = map[string]func([]byte) error{
	"request":  func(b []byte) error { _, err := messages.DecodeRequest(b); return err },
	"response": func(b []byte) error { _, err := messages.DecodeResponse(b); return err },
}

func TestDecodeResponseDefaultStatus(t *testing.T) {
	got, err := messages.DecodeResponse([]byte(`{"correlation_id":"abc","data":` + validData + `}`))
	if err != nil {
		t.Fatalf("DecodeResponse: %v", err)
	}
	if got.Status != messages.StatusReceived {
		t.Errorf("Status = %q, want %q", got.Status, messages.StatusReceived)
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	// Fields a newer peer might add, at both levels, plus a key that only
	// differs from "status" in case: none of them may change the result.
	body := `{"correlation_id":"abc","trace":{"span":1},"Status":"Bogus",` +
		`"data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z","lang":"en"}}`
	want := messages.NewResponse("abc", "ping", messages.StatusReceived, fixedTime)

	res, err := messages.DecodeResponse([]byte(body))
	if err != nil {
		t.Fatalf("DecodeResponse: %v", err)
	}
	if res != want {
		t.Errorf("DecodeResponse = %+v, want %+v", res, want)
	}

	req, err := messages.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatalf("DecodeRequest: %v", err)
	}
	if req != want.Envelope {
		t.Errorf("DecodeRequest = %+v, want %+v", req, want.Envelope)
	}
}

func TestDecodeRequestIgnoresStatus(t *testing.T) {
	// A response body read as a request: status is just an unknown field,
	// even when it is not a valid status.
	got, err := messages.DecodeRequest([]byte(`{"correlation_id":"abc","data":` + validData + `,"status":"Bogus"}`))
	if err != nil {
		t.Fatalf("DecodeRequest: %v", err)
	}
	if want := messages.NewRequest("abc", "ping", fixedTime); got != want {
		t.Errorf("DecodeRequest = %+v, want %+v", got, want)
	}
}

func TestDecodeAcceptsLongestCorrelationID(t *testing.T) {
	for _, id := range []string{strings.Repeat("a", 128), strings.Repeat("é", 128)} {
		got, err := messages.DecodeRequest([]byte(`{"correlation_id":"` + id + `","data":` + validData + `}`))
		if err != nil {
			t.Fatalf("DecodeRequest with a %d-byte id: %v", len(id), err)
		}
		if got.CorrelationID != id {
			t.Errorf("CorrelationID = %q, want %q", got.CorrelationID, id)
		}
	}
}

func TestDecodeAcceptsEmptyMessage(t *testing.T) {
	// pydantic's plain str accepts "", so we must too.
	got, err := messages.DecodeRequest([]byte(`{"correlation_id":"abc","data":{"message":"","timestamp":"2026-11-27T10:00:00Z"}}`))
	if err != nil {
		t.Fatalf("DecodeRequest: %v", err)
	}
	if got.Data.Message != "" {
		t.Errorf("Message = %q, want empty", got.Data.Message)
	}
}

// assertValidationError fails t unless err is a *ValidationError for field
// with reason.
func assertValidationError(t *testing.T, err error, field, reason string) {
	t.Helper()
	ve, ok := errors.AsType[*messages.ValidationError](err)
	if !ok {
		t.Fatalf("error = %v (%T), want a *messages.ValidationError", err, err)
	}
	if ve.Field != field || ve.Reason != reason {
		t.Errorf("ValidationError{Field: %q, Reason: %q}, want {Field: %q, Reason: %q}", ve.Field, ve.Reason, field, reason)
	}
	if errors.Is(err, messages.ErrInvalidJSON) {
		t.Errorf("error = %v matches ErrInvalidJSON, want a contract error only", err)
	}
}
