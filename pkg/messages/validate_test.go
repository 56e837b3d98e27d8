package messages_test

import (
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestValidateCorrelationID(t *testing.T) {
	for _, id := range []string{"a", "6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a", strings.Repeat("é", messages.MaxCorrelationIDLength), "a b\n\x00"} {
		if err := messages.ValidateCorrelationID(id); err != nil {
			t.Errorf("ValidateCorrelationID(%q) = %v, want nil", id, err)
		}
	}
	tests := []struct {
		id     string
		reason string
	}{
		{"", "must not be empty"},
		{strings.Repeat("a", 129), "must be at most 128 characters, got 129"},
		{strings.Repeat("é", 129), "must be at most 128 characters, got 129"},
		{"ab\xff", "must be valid UTF-8"},
	}
	for _, tt := range tests {
		err := messages.ValidateCorrelationID(tt.id)
		assertValidationError(t, err, "correlation_id", tt.reason)

		// The same error as decoding a body with that id.
		body := `{"correlation_id":"` + tt.id + `","data":` + validData + `}`
		if _, decErr := messages.DecodeRequest([]byte(body)); tt.id != "ab\xff" && decErr.Error() != err.Error() {
			t.Errorf("ValidateCorrelationID(%q) = %v, DecodeRequest says %v", tt.id, err, decErr)
		}
	}
}
