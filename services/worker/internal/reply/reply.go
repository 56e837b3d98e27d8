// Package reply builds the worker's answer to a request, addressed the way a FastStream
// subscriber addresses its return value.
package reply

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// Text is the message every reply carries, as the Python subscriber writes it.
const Text = "pong from subscriber"

// ErrBadReplyTo is matched by the error for a reply_to header that cannot name a topic.
var ErrBadReplyTo = errors.New("reply_to header is not a valid topic name")

// Kafka's rule for topic names (org.apache.kafka.common.internals.Topic).
var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Message returns the reply to req, which rec carried: a Completed response stamped with
// now, keyed with the body's correlation ID. Like a FastStream subscriber, it goes to the
// topic rec's reply_to header names, else to outTopic, and carries rec's correlation_id
// header, which FastStream requesters match replies on, else the body's ID.
func Message(outTopic string, rec *sarama.ConsumerMessage, req messages.SampleReqMsg, now time.Time) (*sarama.ProducerMessage, error) {
	topic := outTopic
	if to := kafka.Header(rec.Headers, messages.HeaderReplyTo); to != "" {
		if !topicName.MatchString(to) || to == "." || to == ".." {
			return nil, fmt.Errorf("reply: %w: %q", ErrBadReplyTo, truncate(to))
		}
		topic = to
	}
	headerID := kafka.Header(rec.Headers, messages.HeaderCorrelationID)
	if headerID == "" {
		headerID = req.CorrelationID
	}
	body, err := messages.EncodeResponse(messages.NewResponse(req.CorrelationID, Text, messages.StatusCompleted, now))
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	return &sarama.ProducerMessage{
		Topic:   topic,
		Key:     sarama.StringEncoder(req.CorrelationID),
		Value:   sarama.ByteEncoder(body),
		Headers: kafka.Headers(headerID),
	}, nil
}

func truncate(s string) string {
	const limit = 260
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}
