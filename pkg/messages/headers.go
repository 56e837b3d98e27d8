package messages

// Kafka record headers. Header values are UTF-8 text.
const (
	// HeaderCorrelationID repeats the body's correlation_id so it can be
	// read (and logged) without decoding the body. The record key carries
	// it too, which keeps one conversation on one partition.
	HeaderCorrelationID = "correlation_id"
	// HeaderContentType names the body's media type; FastStream sets it.
	HeaderContentType = "content-type"
	// ContentTypeJSON is the only [HeaderContentType] value in use.
	ContentTypeJSON = "application/json"
	// HeaderReplyTo names the topic a requester waits on for the response, as
	// FastStream's publish(..., reply_to=...) sets it. The response carries the
	// request's [HeaderCorrelationID] header, which the requester matches on.
	HeaderReplyTo = "reply_to"
)

// Headers added to a record copied to [TopicDeadLetter], so that it can be
// inspected and replayed without the worker's logs.
const (
	// HeaderDLQError is the error that made the worker give up on the record.
	HeaderDLQError = "dlq_error"
	// HeaderDLQOriginalTopic is the topic the record was consumed from.
	HeaderDLQOriginalTopic = "dlq_original_topic"
	// HeaderDLQOriginalPartition is the record's partition, in decimal.
	HeaderDLQOriginalPartition = "dlq_original_partition"
	// HeaderDLQOriginalOffset is the record's offset, in decimal.
	HeaderDLQOriginalOffset = "dlq_original_offset"
)
