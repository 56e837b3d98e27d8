package publisher

import (
	"context"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Disabled stands in for Kafka when KAFKA_ENABLED=false: it accepts every request and
// sends nothing, as the Python original does without FastStream.
type Disabled struct{}

// Publish does nothing.
func (Disabled) Publish(context.Context, messages.SampleReqMsg) error { return nil }
