package messages_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestValidationErrorText(t *testing.T) {
	tests := []struct {
		err  *messages.ValidationError
		want string
	}{
		{&messages.ValidationError{Field: "correlation_id", Reason: "must not be empty"},
			`messages: invalid field "correlation_id": must not be empty`},
		{&messages.ValidationError{Field: "data.timestamp", Reason: "is required"},
			`messages: invalid field "data.timestamp": is required`},
		{&messages.ValidationError{Reason: "must be a JSON object"},
			`messages: invalid payload: must be a JSON object`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestValidationErrorSurvivesWrapping(t *testing.T) {
	_, err := messages.DecodeRequest([]byte(`{"correlation_id":"","data":{}}`))
	wrapped := fmt.Errorf("worker: handle record: %w", err)

	var ve *messages.ValidationError
	if !errors.As(wrapped, &ve) {
		t.Fatalf("errors.As(%v) found no *ValidationError", wrapped)
	}
	if ve.Field != "data.message" {
		t.Errorf("Field = %q, want data.message", ve.Field)
	}
}
