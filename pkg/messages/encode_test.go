package messages_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestEncodeResponseValidationErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*messages.SampleResMsg)
		field  string
		reason string
	}{
		// encoding/json would silently send U+FFFD instead.
		{"invalid UTF-8 correlation_id", func(m *messages.SampleResMsg) { m.CorrelationID = "ab\xff" },
			"correlation_id", "must be valid UTF-8"},
		{"invalid UTF-8 message", func(m *messages.SampleResMsg) { m.Data.Message = "caf\xe9" },
			"data.message", "must be valid UTF-8"},
		{"invalid UTF-8 timestamp", func(m *messages.SampleResMsg) { bad := "2026\xff"; m.Data.Timestamp = &bad },
			"data.timestamp", "must be valid UTF-8"},
		// The decode-time default does not apply to values built in Go.
		{"empty status", func(m *messages.SampleResMsg) { m.Status = "" },
			"status", `must be one of Received, Processing, Completed, Failed, Retrying, Cancelled, Partially, got ""`},
		{"unknown status", func(m *messages.SampleResMsg) { m.Status = "Done" },
			"status", `must be one of Received, Processing, Completed, Failed, Retrying, Cancelled, Partially, got "Done"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := messages.NewResponse("abc", "pong", messages.StatusCompleted, fixedTime)
			tt.modify(&m)
			b, err := messages.EncodeResponse(m)
			if b != nil {
				t.Errorf("EncodeResponse returned %q alongside an error", b)
			}
			assertValidationError(t, err, tt.field, tt.reason)
		})
	}
}

// TestEncodeOptionalFields writes what pydantic's model_dump_json writes for
// the optional fields: null.
func TestEncodeOptionalFields(t *testing.T) {
	tests := []struct {
		msg  messages.SampleReqMsg
		want string
	}{
		{messages.SampleReqMsg{}, `{"correlation_id":"","data":null}`},
		{messages.SampleReqMsg{CorrelationID: "abc", Data: &messages.MessageContent{Message: "ping"}},
			`{"correlation_id":"abc","data":{"message":"ping","timestamp":null}}`},
	}
	for _, tt := range tests {
		b, err := messages.EncodeRequest(tt.msg)
		if err != nil || string(b) != tt.want {
			t.Errorf("EncodeRequest(%+v) = %s, %v; want %s", tt.msg, b, err, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 987_654_321, time.FixedZone("", -5*3600))
	ids := []string{"", "abc", "6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a", strings.Repeat("é", 300), `quote" back\slash <tag> & nl` + "\n"}
	texts := []string{"", "ping", "café 🚀", "line\nbreak\ttab \u2028 \x00"}

	for _, id := range ids {
		for _, text := range texts {
			req := messages.NewRequest(id, text, now)
			b, err := messages.EncodeRequest(req)
			if err != nil {
				t.Fatalf("EncodeRequest(%+v): %v", req, err)
			}
			gotReq, err := messages.DecodeRequest(b)
			if err != nil {
				t.Fatalf("DecodeRequest(%s): %v", b, err)
			}
			if !reflect.DeepEqual(gotReq, req) {
				t.Errorf("request round trip = %+v, want %+v", gotReq, req)
			}

			for _, status := range []messages.Status{messages.StatusReceived, messages.StatusRetrying, messages.StatusCancelled} {
				res := messages.NewResponse(id, text, status, now)
				b, err := messages.EncodeResponse(res)
				if err != nil {
					t.Fatalf("EncodeResponse(%+v): %v", res, err)
				}
				gotRes, err := messages.DecodeResponse(b)
				if err != nil {
					t.Fatalf("DecodeResponse(%s): %v", b, err)
				}
				if !reflect.DeepEqual(gotRes, res) {
					t.Errorf("response round trip = %+v, want %+v", gotRes, res)
				}
			}
		}
	}
}

func TestNewResponseStampsUTC(t *testing.T) {
	now := time.Date(2026, 11, 27, 11, 30, 0, 0, time.FixedZone("CET", 3600))
	res := messages.NewResponse("abc", "pong", messages.StatusCompleted, now)
	ts := "2026-11-27T10:30:00Z"
	want := messages.SampleResMsg{
		Envelope: messages.Envelope[messages.MessageContent]{
			CorrelationID: "abc",
			Data:          &messages.MessageContent{Message: "pong", Timestamp: &ts},
		},
		Status: messages.StatusCompleted,
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("NewResponse = %+v, want %+v", res, want)
	}
	if req := messages.NewRequest("abc", "pong", now); !reflect.DeepEqual(req, want.Envelope) {
		t.Errorf("NewRequest = %+v, want %+v", req, want.Envelope)
	}
}
