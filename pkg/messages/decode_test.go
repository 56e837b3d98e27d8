package messages_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

// The verdicts themselves are pydantic's (contract_test.go); these tests pin
// the errors: which field, and a reason a person can act on.

const validData = `{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}`

const statusReason = "must be one of Received, Processing, Completed, Failed, Retrying, Cancelled, Partially, got "

func TestDecodeValidationErrors(t *testing.T) {
	shared := []struct {
		name, body, field, reason string
	}{
		{"payload array", `[]`, "", "must be a JSON object, got an array"},
		{"payload null", `null`, "", "must be a JSON object, got null"},
		{"correlation_id missing", `{"data":` + validData + `}`, "correlation_id", "is required"},
		// Names match exactly, as in pydantic: this is an unknown field.
		{"correlation_id wrong case", `{"Correlation_ID":"abc"}`, "correlation_id", "is required"},
		{"correlation_id null", `{"correlation_id":null}`, "correlation_id", "must be a string, got null"},
		{"correlation_id number", `{"correlation_id":42}`, "correlation_id", "must be a string, got a number"},
		{"data string", `{"correlation_id":"abc","data":"ping"}`, "data", "must be an object or null, got a string"},
		{"data array", `{"correlation_id":"abc","data":[]}`, "data", "must be an object or null, got an array"},
		{"message missing", `{"correlation_id":"abc","data":{}}`, "data.message", "is required"},
		{"message null", `{"correlation_id":"abc","data":{"message":null}}`, "data.message", "must be a string, got null"},
		{"message bool", `{"correlation_id":"abc","data":{"message":true}}`, "data.message", "must be a string, got a boolean"},
		{"timestamp number", `{"correlation_id":"abc","data":{"message":"ping","timestamp":1764237600}}`,
			"data.timestamp", "must be a string or null, got a number"},
		{"timestamp object", `{"correlation_id":"abc","data":{"message":"ping","timestamp":{}}}`,
			"data.timestamp", "must be a string or null, got an object"},
	}
	for _, tt := range shared {
		t.Run(tt.name, func(t *testing.T) {
			_, err := messages.DecodeRequest([]byte(tt.body))
			assertValidationError(t, err, tt.field, tt.reason)
			_, err = messages.DecodeResponse([]byte(tt.body))
			assertValidationError(t, err, tt.field, tt.reason)
		})
	}
	for _, tt := range []struct{ name, status, reason string }{
		{"status null", `null`, statusReason + "null"},
		{"status number", `2`, statusReason + "a number"},
		{"status empty", `""`, statusReason + `""`},
		{"status wrong case", `"completed"`, statusReason + `"completed"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := messages.DecodeResponse([]byte(`{"correlation_id":"abc","status":` + tt.status + `}`))
			assertValidationError(t, err, "status", tt.reason)
		})
	}
}

func TestDecodeInvalidJSON(t *testing.T) {
	for _, body := range []string{``, `{`, `{"correlation_id":"abc",}`, `not json`, `{"a":1} trailing`,
		"{\"correlation_id\":\"ab\xff\"}", `{"correlation_id":"a","x":NaN}`} {
		for name, decode := range decoders {
			t.Run(name+"/"+body, func(t *testing.T) {
				err := decode([]byte(body))
				if !errors.Is(err, messages.ErrInvalidJSON) {
					t.Fatalf("error = %v, want one matching ErrInvalidJSON", err)
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

// decoders runs each decoder for its error alone.
var decoders = map[string]func([]byte) error{
	"request":  func(b []byte) error { _, err := messages.DecodeRequest(b); return err },
	"response": func(b []byte) error { _, err := messages.DecodeResponse(b); return err },
}

func TestDecodeOptionalFields(t *testing.T) {
	res, err := messages.DecodeResponse([]byte(`{"correlation_id":"","data":{"message":""}}`))
	if err != nil {
		t.Fatalf("DecodeResponse: %v", err)
	}
	if res.CorrelationID != "" || res.Data == nil || res.Data.Message != "" || res.Data.Timestamp != nil || res.Status != messages.StatusReceived {
		t.Errorf("DecodeResponse = %+v", res)
	}
	req, err := messages.DecodeRequest([]byte(`{"correlation_id":"abc"}`))
	if err != nil || req.Data != nil {
		t.Errorf("DecodeRequest = %+v, %v; want no data", req, err)
	}
}

func TestDecodeDuplicateNamesLastWins(t *testing.T) {
	body := `{"correlation_id":1,"data":{"message":"first","timestamp":"t"},"correlation_id":"second",` +
		`"data":{"message":"second"},"status":"Bogus","status":"Failed"}`
	res, err := messages.DecodeResponse([]byte(body))
	if err != nil {
		t.Fatalf("DecodeResponse: %v", err)
	}
	// The second data replaces the first whole: no timestamp is left over.
	if res.CorrelationID != "second" || res.Data.Message != "second" || res.Data.Timestamp != nil || res.Status != messages.StatusFailed {
		t.Errorf("DecodeResponse = %+v %+v", res, res.Data)
	}
}

func TestDecodeRequestIgnoresStatus(t *testing.T) {
	// A response body read as a request: status is just an unknown field.
	got, err := messages.DecodeRequest([]byte(`{"correlation_id":"abc","data":` + validData + `,"status":"Bogus"}`))
	if err != nil || got.Data == nil || got.Data.Message != "ping" {
		t.Errorf("DecodeRequest = %+v, %v", got, err)
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
