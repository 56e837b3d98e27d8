package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/tests/bench/loadgen"
)

// hopWarmup records are sent before the measured ones: the connections and the
// broker's code paths for a new topic warm up on them.
const hopWarmup = 100

// saramaHop measures one broker hop with the services' own client: a producer with
// the worker's settings (acks=all, idempotent, no linger) writes one record of the size
// of a request, a partition consumer with the gateway's reply-reader settings reads it,
// and only then is the next one written, as Kafka's EndToEndLatency does. Latencies are
// exact (both ends are in this process).
func (b *bench) saramaHop(ctx context.Context, round, records int) (hopRun, error) {
	logf("one broker hop, round %d/%d: sarama", round+1, b.o.rounds)
	topic := b.topic(fmt.Sprintf("hop-sarama-%d", round))
	if err := b.c.createTopics(topic); err != nil {
		return hopRun{}, err
	}
	cfg := kafka.ProducerConfig("streambench-hop")
	cfg.Producer.Partitioner = sarama.NewManualPartitioner // every record to the partition read
	producer, err := sarama.NewSyncProducer(b.c.brokers, cfg)
	if err != nil {
		return hopRun{}, fmt.Errorf("hop producer: %w", err)
	}
	defer producer.Close()
	consumer, err := sarama.NewConsumer(b.c.brokers, kafka.ConsumerConfig("streambench-hop"))
	if err != nil {
		return hopRun{}, fmt.Errorf("hop consumer: %w", err)
	}
	defer consumer.Close()
	const partition = 0
	pc, err := consumePartition(consumer, topic, partition)
	if err != nil {
		return hopRun{}, fmt.Errorf("hop consumer of %s/%d: %w", topic, partition, err)
	}
	defer pc.Close()

	value := make([]byte, requestBytes)
	latencies := make([]time.Duration, 0, records)
	for i := range hopWarmup + records {
		sent := time.Now()
		msg := &sarama.ProducerMessage{Topic: topic, Partition: partition, Value: sarama.ByteEncoder(value)}
		if _, _, err := producer.SendMessage(msg); err != nil {
			return hopRun{}, fmt.Errorf("hop send: %w", err)
		}
		select {
		case <-pc.Messages():
		case err := <-pc.Errors():
			return hopRun{}, fmt.Errorf("hop consume: %w", err)
		case <-time.After(10 * time.Second):
			return hopRun{}, errors.New("hop: a record was not consumed within 10s")
		case <-ctx.Done():
			return hopRun{}, errors.Join(errStopped, ctx.Err())
		}
		if i >= hopWarmup {
			latencies = append(latencies, time.Since(sent))
		}
	}
	var sum time.Duration
	for _, l := range latencies {
		sum += l
	}
	return hopRun{
		Round: round, Records: records, Client: "sarama",
		Avg: ms(sum / time.Duration(len(latencies))),
		P50: ms(loadgen.Percentile(latencies, 50)), P99: ms(loadgen.Percentile(latencies, 99)), P999: ms(loadgen.Percentile(latencies, 99.9)),
	}, nil
}
