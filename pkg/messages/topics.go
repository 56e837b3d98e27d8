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
