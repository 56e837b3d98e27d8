package kafka

import (
	"fmt"

	"github.com/IBM/sarama"
)

// Ping reports whether client can fetch metadata for topic from the cluster now; it is
// what the readiness probes ask. How long it takes on a dead cluster is bounded by the
// client's dial timeout and metadata retries (see baseConfig).
func Ping(client sarama.Client, topic string) error {
	if err := client.RefreshMetadata(topic); err != nil {
		return fmt.Errorf("kafka: metadata for %q: %w", topic, err)
	}
	return nil
}
