package messages_test

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/streamgate/streamgate/pkg/messages"
)

// The hand-written encoders write what json.Marshal writes for the same
// value, byte for byte: the bytes the golden and contract tests pin down.
func assertSameAsMarshal(t *testing.T, req messages.SampleReqMsg, status messages.Status) {
	t.Helper()
	if b, err := messages.EncodeRequest(req); err == nil {
		want, merr := json.Marshal(req)
		if merr != nil || !bytes.Equal(b, want) {
			t.Fatalf("EncodeRequest(%+v) = %s\njson.Marshal gives %s (%v)", req, b, want, merr)
		}
	}
	res := messages.SampleResMsg{Envelope: req, Status: status}
	if b, err := messages.EncodeResponse(res); err == nil {
		want, merr := json.Marshal(res)
		if merr != nil || !bytes.Equal(b, want) {
			t.Fatalf("EncodeResponse(%+v) = %s\njson.Marshal gives %s (%v)", res, b, want, merr)
		}
	}
}

var awkwardStrings = []string{
	"", "abc-123", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\r\x00\x01\x1f\x7f",
	"\u00e9t\u00e9 \u65e5\u672c \U0001F600", "line\u2028para\u2029", "\ufeffbom", "/slash/",
}

func TestEncodeMatchesMarshal(t *testing.T) {
	for _, s := range awkwardStrings {
		ts := s
		assertSameAsMarshal(t, messages.SampleReqMsg{CorrelationID: s}, messages.StatusCompleted)
		assertSameAsMarshal(t, messages.SampleReqMsg{CorrelationID: s, Data: &messages.MessageContent{Message: s}}, messages.StatusFailed)
		assertSameAsMarshal(t, messages.SampleReqMsg{CorrelationID: "id", Data: &messages.MessageContent{Message: "m", Timestamp: &ts}}, messages.DefaultStatus)
	}
	for name, body := range messages.TestdataBodies(t) {
		if req, err := messages.DecodeRequest(body); err == nil {
			t.Run(name, func(t *testing.T) { assertSameAsMarshal(t, req, messages.StatusPartially) })
		}
	}
}

func FuzzEncodeMatchesMarshal(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s, s, s, true)
	}
	f.Fuzz(func(t *testing.T, id, message, timestamp string, withData bool) {
		req := messages.SampleReqMsg{CorrelationID: id}
		if withData {
			req.Data = &messages.MessageContent{Message: message, Timestamp: &timestamp}
		}
		assertSameAsMarshal(t, req, messages.StatusRetrying)
	})
}
