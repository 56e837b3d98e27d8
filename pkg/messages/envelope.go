package messages

import "time"

// Envelope is the shape every body shares: a correlation id that ties a
// response to its request, and an optional payload. It mirrors the Python
// MsgBaseModel[T]: correlation_id is any string, data may be absent or null
// (nil here).
type Envelope[T any] struct {
	CorrelationID string `json:"correlation_id"`
	Data          *T     `json:"data"`
}

// MessageContent is the payload of requests and responses.
type MessageContent struct {
	Message string `json:"message"`
	// Timestamp is when the message was made. The contract allows any text or
	// none (nil); streamgate writes RFC 3339, see [FormatTimestamp], and
	// [ParseTimestamp] reads the forms Python writes.
	Timestamp *string `json:"timestamp"`
}

// SampleReqMsg is a request, published to [TopicIn].
type SampleReqMsg = Envelope[MessageContent]

// SampleResMsg is a response, published to [TopicOut]. The embedded
// envelope's fields are flattened into the same JSON object, beside status.
type SampleResMsg struct {
	Envelope[MessageContent]
	Status Status `json:"status"`
}

// NewRequest returns a request stamped with now.
func NewRequest(correlationID, message string, now time.Time) SampleReqMsg {
	return SampleReqMsg{
		CorrelationID: correlationID,
		Data:          newContent(message, now),
	}
}

// NewResponse returns a response stamped with now. It does not validate its
// arguments; [EncodeResponse] does.
func NewResponse(correlationID, message string, status Status, now time.Time) SampleResMsg {
	return SampleResMsg{
		Envelope: Envelope[MessageContent]{
			CorrelationID: correlationID,
			Data:          newContent(message, now),
		},
		Status: status,
	}
}

func newContent(message string, now time.Time) *MessageContent {
	return contentWithTimestamp(message, FormatTimestamp(now))
}

// contentWithTimestamp allocates the content and its timestamp at once.
func contentWithTimestamp(message, timestamp string) *MessageContent {
	c := &struct {
		MessageContent
		timestamp string
	}{MessageContent{Message: message}, timestamp}
	c.Timestamp = &c.timestamp
	return &c.MessageContent
}

// Correlation returns the correlation ID, so that the worker's router can name and key
// a message by it (router.Correlated).
func (e Envelope[T]) Correlation() string { return e.CorrelationID }
