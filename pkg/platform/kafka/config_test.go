package kafka

import (
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/platform/backoff"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"
)

// The producer's retries outlast a leader election in every draw of the jitter and end
// before the gateway's write deadline (the arithmetic is in config.go).
func TestProducerDeliveryWindow(t *testing.T) {
	const (
		fencing  = 9 * time.Second // broker.session.timeout.ms, Kafka's default
		election = time.Second     // generous for KRaft
	)
	cfg := ProducerConfig("test")
	var least, most time.Duration
	for retry := 1; retry <= cfg.Producer.Retry.Max; retry++ {
		step := backoff.Step(producerRetryMin, producerRetryMax, retry-1)
		least += step - step/2
		most += step
		for range 50 {
			if d := cfg.Producer.Retry.BackoffFunc(retry, cfg.Producer.Retry.Max); d < step-step/2 || d > step {
				t.Fatalf("retry %d waits %v, want within [%v, %v]", retry, d, step-step/2, step)
			}
		}
	}
	if least <= fencing+election {
		t.Errorf("retries may give up after %v, within a leader election (%v)", least, fencing+election)
	}
	deadline := httpserver.New(":0", nil).WriteTimeout
	if slowest := fencing + election + cfg.Producer.Timeout + producerRetryMax; most >= deadline || slowest >= deadline {
		t.Errorf("retries may last %v (or %v waiting for the ISR), past the gateway's %v write deadline", most, slowest, deadline)
	}
	if cfg.Net.ReadTimeout <= cfg.Producer.Timeout {
		t.Errorf("Net.ReadTimeout %v must exceed Producer.Timeout %v, or a waiting produce request is cut off", cfg.Net.ReadTimeout, cfg.Producer.Timeout)
	}
	t.Logf("delivery window: %v to %v of backoff over %d retries", least, most, cfg.Producer.Retry.Max)
}

// One fetch response holds at most a few partitions' full fetches, whatever a member
// owns: sarama's own response bound (50 MiB) let a worker alone on 12 partitions
// hold twelve 4 MiB fetches at once.
func TestGroupFetchResponseIsBounded(t *testing.T) {
	cfg := ConsumerGroupConfig("test")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fetch, response := int(cfg.Consumer.Fetch.Default), int(cfg.Consumer.Fetch.MaxBytes)
	if response > 4*fetch {
		t.Errorf("a fetch response may hold %d MiB, %d partitions' fetches of %d MiB", response>>20, response/fetch, fetch>>20)
	}
	if response < int(cfg.Consumer.Fetch.Max) {
		t.Errorf("Fetch.MaxBytes %d under Fetch.Max %d: a partition's grown fetch would not fit a response", response, cfg.Consumer.Fetch.Max)
	}
}
