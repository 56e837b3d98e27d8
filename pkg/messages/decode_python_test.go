package messages_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
)

// pythonUUID is the correlation id the Python samples share.
const pythonUUID = "6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a"

// pythonInstant is 2024-05-01 12:00:00.123456 UTC, the instant most Python
// samples carry in one form or another.
var pythonInstant = time.Date(2024, time.May, 1, 12, 0, 0, 123_456_000, time.UTC)

// TestDecodePythonSamples decodes the hand-written Python bodies under
// testdata/python and checks every field, including that each timestamp
// parses to the instant it was written from.
func TestDecodePythonSamples(t *testing.T) {
	tests := []struct {
		file    string
		want    messages.SampleResMsg // a Status of "" marks a request body
		instant time.Time
	}{
		{
			file:    "request_json_dumps_naive.json",
			want:    response(pythonUUID, "ping", "2024-05-01T12:00:00.123456", ""),
			instant: pythonInstant,
		},
		{
			file:    "request_model_dump_json.json",
			want:    response(pythonUUID, "ping", "2024-05-01T12:00:00.123456Z", ""),
			instant: pythonInstant,
		},
		{
			file:    "request_str_datetime.json",
			want:    response("abc", "ping", "2024-05-01 12:00:00", ""),
			instant: pythonInstant.Truncate(time.Second),
		},
		{
			file:    "request_ensure_ascii.json",
			want:    response("abc", "café 🚀 <ok> & done", "2024-05-01T12:00:00", ""),
			instant: pythonInstant.Truncate(time.Second),
		},
		{
			file:    "response_indent_offset.json",
			want:    response(pythonUUID, "pong from subscriber", "2024-05-01T14:00:00.123456+02:00", messages.StatusCompleted),
			instant: pythonInstant,
		},
		{
			file:    "response_no_status_extra_fields.json",
			want:    response("abc", "ping", "2024-05-01T12:00:00.123456", messages.StatusReceived),
			instant: pythonInstant,
		},
		{
			file:    "response_failed_utc_offset.json",
			want:    response("abc", "giving up", "2024-05-01T12:00:00.123456+00:00", messages.StatusFailed),
			instant: pythonInstant,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "python", tt.file))
			if err != nil {
				t.Fatal(err)
			}

			var content *messages.MessageContent
			if tt.want.Status == "" {
				got, err := messages.DecodeRequest(body)
				if err != nil {
					t.Fatalf("DecodeRequest: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want.Envelope) {
					t.Fatalf("DecodeRequest = %+v, want %+v", got, tt.want.Envelope)
				}
				content = got.Data
			} else {
				got, err := messages.DecodeResponse(body)
				if err != nil {
					t.Fatalf("DecodeResponse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("DecodeResponse = %+v, want %+v", got, tt.want)
				}
				content = got.Data
			}

			ts, err := messages.ParseTimestamp(*content.Timestamp)
			if err != nil {
				t.Fatalf("ParseTimestamp: %v", err)
			}
			if !ts.Equal(tt.instant) {
				t.Errorf("timestamp %q is %v, want %v", *content.Timestamp, ts, tt.instant)
			}
		})
	}
}

// response builds an expected body with the timestamp text as given.
func response(id, message, timestamp string, status messages.Status) messages.SampleResMsg {
	var r messages.SampleResMsg
	r.CorrelationID = id
	r.Data = &messages.MessageContent{Message: message, Timestamp: &timestamp}
	r.Status = status
	return r
}
