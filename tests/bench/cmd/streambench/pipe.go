package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/tests/bench/proc"
)

// drainPipe measures the floor of any worker built on sarama: a consumer group member
// and an async producer with the worker's settings (kafka.ConsumerGroupConfig,
// kafka.ProducerConfig) that copy each record of in to a fresh out-topic and do
// nothing else: no decoding, encoding, tracking, marking or logging. It runs in this
// process (its children are not counted), which does nothing else meanwhile, and
// returns its steady records/s and CPU µs per record.
func (b *bench) drainPipe(ctx context.Context, in string, round int) (steady, cpu float64, err error) {
	out, group := b.topic(fmt.Sprintf("drain-out-pipe-%d", round)), b.topic(fmt.Sprintf("drain-pipe-%d", round))
	if err := b.c.createTopics(out); err != nil {
		return 0, 0, err
	}
	logf("drain, %s: sarama pipe", b.roundName(round))
	before, err := proc.CPU(os.Getpid())
	if err != nil {
		return 0, 0, err
	}
	producer, err := sarama.NewAsyncProducer(b.c.brokers, kafka.ProducerConfig("streambench-pipe"))
	if err != nil {
		return 0, 0, fmt.Errorf("pipe producer: %w", err)
	}
	consumer, err := sarama.NewConsumerGroup(b.c.brokers, group, kafka.ConsumerGroupConfig("streambench-pipe"))
	if err != nil {
		return 0, 0, errors.Join(fmt.Errorf("pipe consumer group: %w", err), producer.Close())
	}

	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		failed = errors.Join(failed, err)
	}
	wg.Go(func() {
		for range producer.Successes() {
		}
	})
	wg.Go(func() {
		for perr := range producer.Errors() {
			fail(perr.Err)
		}
	})
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := consumer.Consume(ctx, []string{in}, pipe{producer: producer, out: out}); err != nil && ctx.Err() == nil {
				fail(err)
				return
			}
		}
	})
	w, err := b.c.waitWritten(ctx, out, until{n: b.o.backlog, timeout: b.o.drainWait, alive: func() error {
		mu.Lock()
		defer mu.Unlock()
		return failed
	}})
	after, cpuErr := proc.CPU(os.Getpid())
	stop()
	err = errors.Join(err, cpuErr, consumer.Close())
	producer.AsyncClose()
	wg.Wait()
	if err != nil {
		return 0, 0, fmt.Errorf("sarama pipe: %w", err)
	}
	return w.steady(b.o.backlog), perRequest(after-before, b.o.backlog), nil
}

// pipe is the consumer group handler of drainPipe.
type pipe struct {
	producer sarama.AsyncProducer
	out      string
}

func (pipe) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (pipe) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (p pipe) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for rec := range claim.Messages() {
		headers := make([]sarama.RecordHeader, len(rec.Headers))
		for i, h := range rec.Headers {
			headers[i] = *h
		}
		select {
		case p.producer.Input() <- &sarama.ProducerMessage{
			Topic: p.out, Key: sarama.ByteEncoder(rec.Key), Value: sarama.ByteEncoder(rec.Value), Headers: headers,
		}:
		case <-sess.Context().Done():
			return nil
		}
	}
	return nil
}
