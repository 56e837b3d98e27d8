// Package reply builds the worker's answer to a request.
package reply

import (
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// Text is the message every reply carries, as the Python subscriber writes it.
const Text = "pong from subscriber"

// Message returns the reply to req for topic: a Completed response stamped with now,
// keyed and headed with the request's correlation ID.
func Message(topic string, req messages.SampleReqMsg, now time.Time) (*sarama.ProducerMessage, error) {
	id := req.CorrelationID
	body, err := messages.EncodeResponse(messages.NewResponse(id, Text, messages.StatusCompleted, now))
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	return &sarama.ProducerMessage{
		Topic:   topic,
		Key:     sarama.StringEncoder(id),
		Value:   sarama.ByteEncoder(body),
		Headers: kafka.Headers(id),
	}, nil
}
