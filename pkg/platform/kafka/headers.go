package kafka

import (
	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Headers returns the headers every streamgate record carries, as FastStream writes
// them: the correlation ID and the JSON content type.
// The constant bytes are shared by every record (nothing writes to a header's bytes:
// sarama only reads them), which saves three allocations per record.
func Headers(correlationID string) []sarama.RecordHeader {
	return []sarama.RecordHeader{
		{Key: correlationIDKey, Value: []byte(correlationID)},
		{Key: contentTypeKey, Value: contentTypeJSON},
	}
}

var (
	correlationIDKey = []byte(messages.HeaderCorrelationID)
	contentTypeKey   = []byte(messages.HeaderContentType)
	contentTypeJSON  = []byte(messages.ContentTypeJSON)
)

// Header returns the value of the first header named key, or "".
func Header(headers []*sarama.RecordHeader, key string) string {
	for _, h := range headers {
		if h != nil && string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}
