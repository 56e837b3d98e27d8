package messages_test

import (
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestStatusValid(t *testing.T) {
	// The wire values are the Python enum's; they must not drift.
	valid := map[messages.Status]string{
		messages.StatusReceived:   "Received",
		messages.StatusProcessing: "Processing",
		messages.StatusCompleted:  "Completed",
		messages.StatusFailed:     "Failed",
		messages.StatusRetrying:   "Retrying",
		messages.StatusCancelled:  "Cancelled",
		messages.StatusPartially:  "Partially",
	}
	for s, text := range valid {
		if string(s) != text {
			t.Errorf("status %q, want wire text %q", s, text)
		}
		if !s.Valid() {
			t.Errorf("%q.Valid() = false, want true", s)
		}
	}
	for _, s := range []messages.Status{"", "completed", "COMPLETED", " Completed", "Done", "Canceled"} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true, want false", s)
		}
	}
	if messages.DefaultStatus != messages.StatusReceived {
		t.Errorf("DefaultStatus = %q, want %q", messages.DefaultStatus, messages.StatusReceived)
	}
}
