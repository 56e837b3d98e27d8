package kafka

import (
	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Headers returns the headers every streamgate record carries, as FastStream writes
// them: the correlation ID and the JSON content type.
func Headers(correlationID string) []sarama.RecordHeader {
	return []sarama.RecordHeader{
		{Key: []byte(messages.HeaderCorrelationID), Value: []byte(correlationID)},
		{Key: []byte(messages.HeaderContentType), Value: []byte(messages.ContentTypeJSON)},
	}
}

// Header returns the value of the first header named key, or "".
func Header(headers []*sarama.RecordHeader, key string) string {
	for _, h := range headers {
		if h != nil && string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}
