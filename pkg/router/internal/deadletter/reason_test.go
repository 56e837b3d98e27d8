package deadletter

import (
	"errors"
	"fmt"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestDecodeReasonsAreRefinedForTheMessagesCodec(t *testing.T) {
	_, notJSON := messages.DecodeRequest([]byte("not json {"))
	_, badUTF8 := messages.DecodeRequest([]byte("\xff\xfe"))
	_, numericID := messages.DecodeRequest([]byte(`{"correlation_id":42,"data":{"message":"m","timestamp":"2026-11-27T10:00:00Z"}}`))
	_, notObject := messages.DecodeRequest([]byte(`[1]`))
	for _, tc := range []struct {
		reason string
		err    error
		want   string
	}{
		{ReasonDecode, notJSON, ReasonInvalidJSON},
		{ReasonDecode, badUTF8, ReasonInvalidJSON},
		{ReasonDecode, numericID, ReasonInvalidMessage},
		{ReasonDecode, notObject, ReasonInvalidMessage},
		{ReasonDecode, fmt.Errorf("codec: %w", numericID), ReasonInvalidMessage},
		{ReasonDecode, errors.New("yaml: bad"), ReasonDecode},
		{ReasonHandlerPermanent, notJSON, ReasonHandlerPermanent},
	} {
		if got := Reason(New(tc.reason, tc.err)); got != tc.want {
			t.Errorf("Reason(New(%s, %v)) = %q, want %q", tc.reason, tc.err, got, tc.want)
		}
	}
	if got := Reason(errors.New("plain")); got != ReasonRetriesExhausted {
		t.Errorf("Reason(plain) = %q", got)
	}
}
