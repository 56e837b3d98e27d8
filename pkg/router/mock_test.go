package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/IBM/sarama/mocks"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// The same pipeline against sarama's own AsyncProducer mock, configured as the worker
// configures its producer: reply, dead letter and a failed write, in one claim.
func TestWithSaramaMockProducer(t *testing.T) {
	producer := mocks.NewAsyncProducer(t, kafka.ProducerConfig("streamgate-worker-test"))
	check := func(topic, key, valuePart string) mocks.MessageChecker {
		return func(m *sarama.ProducerMessage) error {
			k, _ := m.Key.Encode()
			v, _ := m.Value.Encode()
			if m.Topic != topic || string(k) != key || !strings.Contains(string(v), valuePart) {
				return fmt.Errorf("got %s key %q value %s; want %s key %q value with %q", m.Topic, k, v, topic, key, valuePart)
			}
			return nil
		}
	}
	producer.
		ExpectInputWithMessageCheckerFunctionAndSucceed(check("out-topic", "id-0", `"status":"Completed"`)).
		ExpectInputWithMessageCheckerFunctionAndSucceed(check("in-topic.dlq", "junk-key", "garbage")).
		ExpectInputAndFail(sarama.ErrNotEnoughReplicas).
		ExpectInputWithMessageCheckerFunctionAndSucceed(check("out-topic", "id-2", `"correlation_id":"id-2"`))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess := newFakeSession(ctx)
	claim := &fakeClaim{messages: make(chan *sarama.ConsumerMessage, 3)}
	claim.messages <- request(t, 0, "id-0")
	claim.messages <- record(1, "junk-key", []byte("garbage"), nil)
	claim.messages <- request(t, 2, "id-2")

	r := New(Config{Log: zap.NewNop(), WriteRetryMin: time.Millisecond, WriteRetryMax: time.Millisecond})
	if err := pingRoute(r); err != nil {
		t.Fatal(err)
	}
	delivery := r.AtLeastOnce(producer)
	dispatched := make(chan struct{})
	var failures []error // Dispatch's own, read once it returned
	go func() {
		defer close(dispatched)
		delivery.Dispatch(producer, func(err error) { failures = append(failures, err) })
	}()
	handler, err := r.Handler(delivery)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- handler.ConsumeClaim(sess, claim) }()

	// The mock acknowledges in order; the claim marks what finished together at once,
	// so the marks rise to 3, after offset 2's retry.
	for last := int64(0); last < 3; {
		select {
		case m := <-sess.marks:
			if m.offset <= last || m.offset > 3 {
				t.Fatalf("marked %d after %d, want a rising mark up to 3", m.offset, last)
			}
			last = m.offset
		case <-time.After(waitTimeout):
			t.Fatalf("offset 3 not marked (last mark %d)", last)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	producer.AsyncClose() // reports unmet expectations
	<-dispatched
	if len(sess.commits) != 0 {
		t.Errorf("%d commits by the claim; sarama commits the marks once the session ends", len(sess.commits))
	}
	if len(failures) != 1 || !errors.Is(failures[0], sarama.ErrNotEnoughReplicas) {
		t.Errorf("Dispatch reported write errors %v, want the one failed write", failures)
	}
}
