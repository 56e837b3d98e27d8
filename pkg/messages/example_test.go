package messages_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
)

func ExampleEncodeResponse() {
	now := time.Date(2026, time.November, 27, 10, 0, 0, 0, time.UTC)
	b, err := messages.EncodeResponse(messages.NewResponse("abc", "pong from subscriber", messages.StatusCompleted, now))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output:
	// {"correlation_id":"abc","data":{"message":"pong from subscriber","timestamp":"2026-11-27T10:00:00Z"},"status":"Completed"}
}

func ExampleDecodeResponse() {
	// As a Python service writes it: naive timestamp, no status.
	body := []byte(`{"correlation_id": "abc", "data": {"message": "ping", "timestamp": "2024-05-01T12:00:00.123456"}}`)
	res, err := messages.DecodeResponse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.CorrelationID, res.Data.Message, res.Status)
	// Output:
	// abc ping Received
}

func ExampleValidationError() {
	_, err := messages.DecodeRequest([]byte(`{"correlation_id":"","data":{"message":"ping","timestamp":"2024-05-01T12:00:00Z"}}`))

	var ve *messages.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Reason)
	}
	fmt.Println(err)
	// Output:
	// correlation_id - must not be empty
	// messages: invalid field "correlation_id": must not be empty
}

func ExampleValidateCorrelationID() {
	// An id from somewhere other than a body, such as a record header.
	for _, id := range []string{"6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a", "", "ab\xff"} {
		fmt.Println(messages.ValidateCorrelationID(id))
	}
	// Output:
	// <nil>
	// messages: invalid field "correlation_id": must not be empty
	// messages: invalid field "correlation_id": must be valid UTF-8
}
