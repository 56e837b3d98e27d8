package deadletter

import (
	"errors"
	"fmt"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestReasonClassifiesDecodeErrors(t *testing.T) {
	_, notJSON := messages.DecodeRequest([]byte("not json {"))
	_, badUTF8 := messages.DecodeRequest([]byte("\xff\xfe"))
	_, numericID := messages.DecodeRequest([]byte(`{"correlation_id":42,"data":{"message":"m","timestamp":"2026-11-27T10:00:00Z"}}`))
	_, notObject := messages.DecodeRequest([]byte(`[1]`))
	for _, tc := range []struct {
		err  error
		want string
	}{
		{notJSON, ReasonInvalidJSON},
		{badUTF8, ReasonInvalidJSON},
		{numericID, ReasonInvalidMessage},
		{notObject, ReasonInvalidMessage},
		{fmt.Errorf("reply: %w", numericID), ReasonInvalidMessage},
		{errors.New("something else"), ReasonOther},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
