package logging

import (
	"strconv"
	"unicode/utf8"

	"go.uber.org/zap"
)

// MaxFieldBytes bounds a string field built by String: a client-chosen value (a URL
// path, a correlation ID, a topic from a record) must not turn one line into megabytes.
const MaxFieldBytes = 1024

// String is zap.String with the value cut to MaxFieldBytes (on a rune boundary), saying
// how much was cut.
func String(key, value string) zap.Field { return zap.String(key, Truncate(value, MaxFieldBytes)) }

// Truncate returns s when it fits in limit bytes, and otherwise its first bytes (whole
// runes) followed by "...(N bytes cut)".
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "...(" + strconv.Itoa(len(s)-cut) + " bytes cut)"
}

// Operation values for Kafka work, named as in the Python original.
const (
	OperationPublish   = "publish"
	OperationSubscribe = "subscribe"
)

// CorrelationID is the field every line about a request or record carries.
func CorrelationID(id string) zap.Field { return String("correlation_id", id) }

// Topic names the Kafka topic a line is about.
func Topic(name string) zap.Field { return String("topic", name) }

// Operation says whether a line is about publishing or consuming.
func Operation(op string) zap.Field { return zap.String("operation", op) }

// Status is the message status (messages.Status) a line reports.
func Status[S ~string](status S) zap.Field { return zap.String("status", string(status)) }
