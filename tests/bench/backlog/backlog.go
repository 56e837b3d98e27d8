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
	now := time.Now()
	return WriteRecords(brokers, n, func(i int) (*sarama.ProducerMessage, error) {
		key := id(i)
		body, err := messages.EncodeRequest(messages.NewRequest(key, "Send for in-topic", now))
		if err != nil {
			return nil, err
		}
		return &sarama.ProducerMessage{
			Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(body), Headers: kafka.Headers(key),
		}, nil
	})
}

// WriteRecords writes the n records record(i) returns and waits until the broker has
// acknowledged all of them.
func WriteRecords(brokers []string, n int, record func(i int) (*sarama.ProducerMessage, error)) error {
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
	for i := range n {
		msg, err := record(i)
		if err != nil {
			failed = errors.Join(failed, err)
			break
		}
		producer.Input() <- msg
	}
	producer.AsyncClose()
	wg.Wait()
	if failed != nil {
		return fmt.Errorf("backlog: %w", failed)
	}
	return nil
}
