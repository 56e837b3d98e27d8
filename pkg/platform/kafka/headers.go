package kafka

import (
	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Headers returns the headers every streamgate record carries, as FastStream writes
// them: the correlation ID and the JSON content type.
func Headers(correlationID string) []sarama.RecordHeader {
	return AppendHeaders(make([]sarama.RecordHeader, 0, 2), []byte(correlationID))
}

// AppendHeaders appends Headers' two headers to dst, sharing correlationID's bytes.
// The constant bytes are shared by every record too (nothing writes to a header's
// bytes: sarama only reads them). The worker's reply passes the request's own header
// bytes and an array it holds: no allocation per reply.
func AppendHeaders(dst []sarama.RecordHeader, correlationID []byte) []sarama.RecordHeader {
	return append(dst,
		sarama.RecordHeader{Key: correlationIDKey, Value: correlationID},
		sarama.RecordHeader{Key: contentTypeKey, Value: contentTypeJSON},
	)
}

var (
	correlationIDKey = []byte(messages.HeaderCorrelationID)
	contentTypeKey   = []byte(messages.HeaderContentType)
	contentTypeJSON  = []byte(messages.ContentTypeJSON)
)

// Header returns the value of the first header named key, or "".
func Header(headers []*sarama.RecordHeader, key string) string {
	return string(HeaderBytes(headers, key))
}

// HeaderBytes returns the value of the first header named key, or nil: the record's
// own bytes, not a copy.
func HeaderBytes(headers []*sarama.RecordHeader, key string) []byte {
	for _, h := range headers {
		if h != nil && string(h.Key) == key {
			return h.Value
		}
	}
	return nil
}
