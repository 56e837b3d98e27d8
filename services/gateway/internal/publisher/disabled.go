package publisher

import (
	"context"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Disabled stands in for Kafka when KAFKA_ENABLED=false: it accepts every request and
// sends nothing, as the Python original does without FastStream. Requests awaiting a
// reply are refused by the API, which has no reply topic to read then.
type Disabled struct{}

// Publish does nothing.
func (Disabled) Publish(context.Context, messages.SampleReqMsg) error { return nil }
