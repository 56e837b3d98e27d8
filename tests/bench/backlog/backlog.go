// Package backlog writes a backlog of valid requests for the worker benchmarks.
package backlog

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// Write writes n valid requests to topic as the gateway writes them, the i-th keyed
// and correlated by id(i), and waits until the broker has acknowledged all of them.
func Write(brokers []string, topic string, n int, id func(int) string) error {
	return WriteKeyed(brokers, topic, n, id, id)
}

// WriteKeyed is Write with the i-th request keyed by key(i) (several requests may share
// a key) and correlated by id(i).
func WriteKeyed(brokers []string, topic string, n int, id, key func(int) string) error {
	producer, err := sarama.NewAsyncProducer(brokers, kafka.ProducerConfig("streamgate-bench-backlog"))
	if err != nil {
		return fmt.Errorf("backlog producer: %w", err)
	}
	var failed error
	var wg sync.WaitGroup
	wg.Go(func() {
		for range producer.Successes() {
		}
	})
	wg.Go(func() {
		for perr := range producer.Errors() {
			failed = errors.Join(failed, perr.Err)
		}
	})
	now := time.Now()
	for i := range n {
		body, err := messages.EncodeRequest(messages.NewRequest(id(i), "Send for in-topic", now))
		if err != nil {
			failed = errors.Join(failed, err)
			break
		}
		producer.Input() <- &sarama.ProducerMessage{
			Topic: topic, Key: sarama.StringEncoder(key(i)), Value: sarama.ByteEncoder(body), Headers: kafka.Headers(id(i)),
		}
	}
	producer.AsyncClose()
	wg.Wait()
	if failed != nil {
		return fmt.Errorf("backlog of %s: %w", topic, failed)
	}
	return nil
}
