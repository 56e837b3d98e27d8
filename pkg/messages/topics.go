package messages

// Kafka topics shared with the Python services.
const (
	// TopicIn carries requests ([SampleReqMsg]) to the worker.
	TopicIn = "in-topic"
	// TopicOut carries the worker's responses ([SampleResMsg]).
	TopicOut = "out-topic"
	// TopicDeadLetter receives records from [TopicIn] that the worker could
	// not process, unchanged, with the HeaderDLQ* headers describing why.
	TopicDeadLetter = "in-topic.dlq"
)

// ReplyTopic is where the worker answers the requests a gateway publishing to inTopic
// awaits (POST /v1/requests names it in their reply_to header): "in-topic.replies" by
// default. Every gateway instance reads all of it and keeps its own replies.
func ReplyTopic(inTopic string) string {
	return inTopic + ".replies"
}
