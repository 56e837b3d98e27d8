package kafka

import (
	"testing"

	"github.com/IBM/sarama"
)

func TestHeadersRoundTrip(t *testing.T) {
	sent := Headers("abc-123")
	received := make([]*sarama.RecordHeader, len(sent))
	for i := range sent {
		received[i] = &sent[i]
	}
	if got := Header(received, "correlation_id"); got != "abc-123" {
		t.Errorf("correlation_id = %q", got)
	}
	if got := Header(received, "content-type"); got != "application/json" {
		t.Errorf("content-type = %q", got)
	}
	if got := Header(append(received, nil), "missing"); got != "" {
		t.Errorf("missing header = %q", got)
	}
}

func TestProducerConfigIsValidAndSafe(t *testing.T) {
	cfg := ProducerConfig("test")
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sarama rejects the producer config: %v", err)
	}
	if !cfg.Producer.Idempotent || cfg.Producer.RequiredAcks != sarama.WaitForAll {
		t.Fatal("producer must be idempotent and wait for all in-sync replicas")
	}
	if !cfg.Version.IsAtLeast(sarama.V2_1_0_0) {
		t.Fatalf("version %s: Kafka 4 needs at least 2.1", cfg.Version)
	}
}

func TestConsumerGroupConfigIsValid(t *testing.T) {
	if err := ConsumerGroupConfig("test").Validate(); err != nil {
		t.Fatalf("sarama rejects the consumer config: %v", err)
	}
}
