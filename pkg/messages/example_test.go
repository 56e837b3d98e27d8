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
	fmt.Println(res.CorrelationID, res.Data.Message, *res.Data.Timestamp, res.Status)
	// Output:
	// abc ping 2024-05-01T12:00:00.123456 Received
}

func ExampleDecodeRequest_optionalFields() {
	// data and timestamp are optional, and correlation_id is any string.
	req, err := messages.DecodeRequest([]byte(`{"correlation_id":"","data":null}`))
	fmt.Printf("%q %v %v\n", req.CorrelationID, req.Data, err)
	// Output:
	// "" <nil> <nil>
}

func ExampleValidationError() {
	_, err := messages.DecodeRequest([]byte(`{"correlation_id":"abc","data":{"message":"ping","timestamp":1764237600}}`))

	var ve *messages.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Reason)
	}
	fmt.Println(err)
	// Output:
	// data.timestamp - must be a string or null, got a number
	// messages: invalid field "data.timestamp": must be a string or null, got a number
}
