package logging

import "go.uber.org/zap"

// Operation values for Kafka work, named as in the Python original.
const (
	OperationPublish   = "publish"
	OperationSubscribe = "subscribe"
)

// CorrelationID is the field every line about a request or record carries.
func CorrelationID(id string) zap.Field { return zap.String("correlation_id", id) }

// Topic names the Kafka topic a line is about.
func Topic(name string) zap.Field { return zap.String("topic", name) }

// Operation says whether a line is about publishing or consuming.
func Operation(op string) zap.Field { return zap.String("operation", op) }

// Status is the message status (messages.Status) a line reports.
func Status[S ~string](status S) zap.Field { return zap.String("status", string(status)) }
