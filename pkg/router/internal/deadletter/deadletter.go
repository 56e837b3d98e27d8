// Package deadletter builds the copy of a record the worker could not process, for the
// dead-letter topic.
package deadletter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Message returns rec for topic unchanged (same key, value and headers) plus headers
// that say why it is there and where it came from, so it can be inspected and replayed
// without the worker's logs. The record's own dlq_* headers are dropped: a sender must
// not be able to forge the provenance of a dead letter.
func Message(topic string, rec *sarama.ConsumerMessage, reason error) *sarama.ProducerMessage {
	headers := make([]sarama.RecordHeader, 0, len(rec.Headers)+4)
	for _, h := range rec.Headers {
		if h != nil && !strings.HasPrefix(string(h.Key), provenancePrefix) {
			headers = append(headers, *h)
		}
	}
	headers = append(headers,
		header(messages.HeaderDLQError, reason.Error()),
		header(messages.HeaderDLQOriginalTopic, rec.Topic),
		header(messages.HeaderDLQOriginalPartition, strconv.FormatInt(int64(rec.Partition), 10)),
		header(messages.HeaderDLQOriginalOffset, strconv.FormatInt(rec.Offset, 10)),
	)
	msg := &sarama.ProducerMessage{Topic: topic, Headers: headers}
	// A nil Encoder writes a null key or value; a nil key also leaves the partition to
	// chance rather than hashing an empty key onto one partition.
	if rec.Key != nil {
		msg.Key = sarama.ByteEncoder(rec.Key)
	}
	if rec.Value != nil {
		msg.Value = sarama.ByteEncoder(rec.Value)
	}
	return msg
}

// Stripped returns the dead letter for rec without its key, value and headers, for a
// record the dead-letter topic refuses whole (the added headers can push a record that
// was just within the size limit over it). It keeps the dlq_* headers and correlationID;
// dlq_error says what was dropped.
func Stripped(topic string, rec *sarama.ConsumerMessage, reason error, correlationID string) *sarama.ProducerMessage {
	reason = fmt.Errorf("%w (key of %d bytes, value of %d bytes and %d headers dropped: too large for the dead-letter topic)",
		reason, len(rec.Key), len(rec.Value), len(rec.Headers))
	bare := *rec
	bare.Key, bare.Value, bare.Headers = nil, nil, nil
	if correlationID != "" {
		bare.Headers = []*sarama.RecordHeader{{Key: []byte(messages.HeaderCorrelationID), Value: []byte(correlationID)}}
	}
	return Message(topic, &bare, reason)
}

// TooLarge reports whether a producer error means the record can never be written as
// it is: the producer's own size check or the broker's refused it.
func TooLarge(err error) bool {
	// The async producer's only per-message ConfigurationError is its size check.
	var local sarama.ConfigurationError
	return errors.Is(err, sarama.ErrMessageSizeTooLarge) || errors.As(err, &local)
}

// provenancePrefix starts every header the worker adds to a dead letter.
const provenancePrefix = "dlq_"

func header(key, value string) sarama.RecordHeader {
	return sarama.RecordHeader{Key: []byte(key), Value: []byte(value)}
}
