package gatewaykit

import "context"

// Disabled stands in for Kafka when KAFKA_ENABLED=false: it accepts every record and
// sends nothing, as the Python original does without FastStream. Requests awaiting a
// reply are refused (ErrRepliesDisabled): there is no reply topic to read then.
type Disabled struct{}

// Send does nothing.
func (Disabled) Send(context.Context, Record) error { return nil }
