package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

var (
	requestTime = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	replyTime   = time.Date(2026, 11, 27, 10, 0, 1, 250_000_000, time.UTC)
)

// harness runs one ConsumeClaim against fakes, with Dispatch routing the fake
// producer's outcomes back, as the worker wires them.
type harness struct {
	t      *testing.T
	sess   *fakeSession
	claim  *fakeClaim
	prod   *fakeProducer
	logs   *observer.ObservedLogs
	cancel context.CancelFunc
	done   chan error
	// metrics are the router's.
	metrics *Metrics
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	return startClaim(t, cfg, func(c *fakeClaim) sarama.ConsumerGroupClaim { return c })
}

// pingRoute is the ping flow's route (services/worker/ping) as the engine tests need it:
// the pkg/messages codec, replies stamped replyTime, reply_to topics for the tests, and
// one call at a time (ByPartition), so that outputs come in offset order.
func pingRoute(r *Router) error {
	return Register(r, Route[messages.SampleReqMsg, messages.SampleResMsg]{
		Name: "ping", Topic: "in-topic", ReplyTopic: "out-topic", DeadLetterTopic: "in-topic.dlq",
		Request: CodecFuncs(messages.EncodeRequest, messages.DecodeRequest),
		Reply:   CodecFuncs(messages.EncodeResponse, messages.DecodeResponse),
		Handler: func(_ context.Context, m Message[messages.SampleReqMsg]) (messages.SampleResMsg, error) {
			return messages.NewResponse(m.Body.CorrelationID, "pong from subscriber", messages.StatusCompleted, replyTime), nil
		},
		ReplyTo:  ReplyToPolicy{Topics: []string{"in-topic.replies", "py-replies", "forbidden"}},
		Ordering: ByPartition,
	})
}

// startClaim is start with the claim ConsumeClaim gets made from the fake by wrap.
func startClaim(t *testing.T, cfg Config, wrap func(*fakeClaim) sarama.ConsumerGroupClaim) *harness {
	t.Helper()
	return startRoute(t, cfg, pingRoute, wrap)
}

// startRoute runs one ConsumeClaim of the route register adds, over the at-least-once
// delivery and the fake producer.
func startRoute(t *testing.T, cfg Config, register func(*Router) error, wrap func(*fakeClaim) sarama.ConsumerGroupClaim) *harness {
	t.Helper()
	return startOwning(t, cfg, 1, register, wrap)
}

// startOwning is startRoute in a session that owns partitions of in-topic; the claim
// handles partition 0.
func startOwning(t *testing.T, cfg Config, partitions int32, register func(*Router) error, wrap func(*fakeClaim) sarama.ConsumerGroupClaim) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	h := &harness{
		t:      t,
		sess:   newFakeSession(ctx),
		claim:  &fakeClaim{messages: make(chan *sarama.ConsumerMessage)},
		prod:   newFakeProducer(),
		logs:   logs,
		cancel: cancel,
		done:   make(chan error, 1),
	}
	h.sess.partitions = partitions
	cfg.Log = log
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = time.Second
	}
	if cfg.WriteRetryMin == 0 {
		cfg.WriteRetryMin, cfg.WriteRetryMax = 5*time.Millisecond, 20*time.Millisecond
	}
	r := New(cfg)
	if err := register(r); err != nil {
		t.Fatal(err)
	}
	h.metrics = r.Metrics()
	delivery := r.AtLeastOnce(h.prod)
	handler, err := r.Handler(delivery)
	if err != nil {
		t.Fatal(err)
	}

	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		delivery.Dispatch(h.prod, nil)
	}()
	go func() { h.done <- handler.ConsumeClaim(h.sess, wrap(h.claim)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(waitTimeout):
			t.Error("ConsumeClaim did not return after the session ended")
		}
		h.prod.close()
		<-dispatched
	})
	return h
}

// feed hands rec to the handler and returns once it took it.
func (h *harness) feed(rec *sarama.ConsumerMessage) {
	h.t.Helper()
	select {
	case h.claim.messages <- rec:
	case <-time.After(waitTimeout):
		h.t.Fatalf("handler did not take offset %d", rec.Offset)
	}
}

// waitPaused waits until the claim's fetching is paused (or resumed).
func (h *harness) waitPaused(paused bool) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for h.claim.paused.Load() != paused {
		if time.Now().After(deadline) {
			h.t.Fatalf("fetching paused = %v, want %v", !paused, paused)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) expectMark(offset int64) {
	h.t.Helper()
	select {
	case m := <-h.sess.marks:
		if want := (mark{"in-topic", 0, offset}); m != want {
			h.t.Fatalf("marked %+v, want %+v", m, want)
		}
	case <-time.After(waitTimeout):
		h.t.Fatalf("offset %d not marked", offset)
	}
}

func (h *harness) expectNoMark(wait time.Duration) {
	h.t.Helper()
	select {
	case m := <-h.sess.marks:
		h.t.Fatalf("unexpected mark %+v", m)
	case <-time.After(wait):
	}
}

// endSession ends the session and waits for ConsumeClaim to return.
func (h *harness) endSession() {
	h.t.Helper()
	h.cancel()
	h.returns(waitTimeout)
}

// returns waits at most within for ConsumeClaim to return. It must leave committing to
// sarama, which commits once for all the claims that ended.
func (h *harness) returns(within time.Duration) {
	h.t.Helper()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Fatalf("ConsumeClaim = %v", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(within):
		h.t.Fatalf("ConsumeClaim did not return within %v", within)
	}
	select {
	case <-h.sess.commits:
		h.t.Error("ConsumeClaim committed: one commit per claim instead of sarama's one for all")
	default:
	}
}

func request(t *testing.T, offset int64, id string) *sarama.ConsumerMessage {
	t.Helper()
	body, err := messages.EncodeRequest(messages.NewRequest(id, "Send for in-topic", requestTime))
	if err != nil {
		t.Fatal(err)
	}
	return record(offset, id, body, kafka.Headers(id))
}

func record(offset int64, key string, value []byte, headers []sarama.RecordHeader) *sarama.ConsumerMessage {
	rec := &sarama.ConsumerMessage{Topic: "in-topic", Partition: 0, Offset: offset, Value: value}
	if key != "" {
		rec.Key = []byte(key)
	}
	for i := range headers {
		rec.Headers = append(rec.Headers, &headers[i])
	}
	return rec
}

func encoded(t *testing.T, e sarama.Encoder) string {
	t.Helper()
	if e == nil {
		return "<nil>"
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func headerMap(hs []sarama.RecordHeader) map[string]string {
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[string(h.Key)] = string(h.Value)
	}
	return m
}

// logLine returns the one line with message msg, failing if there is not exactly one.
func (h *harness) logLine(msg string) map[string]any {
	h.t.Helper()
	lines := h.logs.FilterMessage(msg).AllUntimed()
	if len(lines) != 1 {
		h.t.Fatalf("%d log lines %q, want 1; all: %v", len(lines), msg, h.logs.AllUntimed())
	}
	return lines[0].ContextMap()
}

// waitLog waits until a line with message msg was logged.
func (h *harness) waitLog(msg string) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for h.logs.FilterMessage(msg).Len() == 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("no log line %q", msg)
		}
		time.Sleep(time.Millisecond)
	}
}

func checkFields(t *testing.T, line map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got := line[k]; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("log field %s = %v, want %v (line %v)", k, got, v, line)
		}
	}
}

func TestValidRecordIsAnsweredAndMarkedAfterAck(t *testing.T) {
	h := start(t, Config{})
	h.feed(request(t, 7, "abc-123"))

	msg := h.prod.next(t)
	if msg.Topic != "out-topic" {
		t.Errorf("Topic = %q, want out-topic", msg.Topic)
	}
	if got := encoded(t, msg.Key); got != "abc-123" {
		t.Errorf("Key = %q, want the correlation ID", got)
	}
	const want = `{"correlation_id":"abc-123","data":{"message":"pong from subscriber","timestamp":"2026-11-27T10:00:01.25Z"},"status":"Completed"}`
	if got := encoded(t, msg.Value); got != want {
		t.Errorf("Value = %s\nwant    %s", got, want)
	}
	if got := headerMap(msg.Headers); len(got) != 2 || got["correlation_id"] != "abc-123" || got["content-type"] != "application/json" {
		t.Errorf("Headers = %v, want correlation_id and content-type", got)
	}

	// Not before the broker acknowledged the reply.
	h.expectNoMark(50 * time.Millisecond)
	h.prod.succeed(msg, 99)
	h.expectMark(8)

	checkFields(t, h.logLine("received"), map[string]any{
		"correlation_id": "abc-123", "topic": "in-topic", "partition": 0, "offset": 7,
		"operation": "subscribe", "status": "Received",
	})
	checkFields(t, h.logLine("published reply"), map[string]any{
		"correlation_id": "abc-123", "topic": "out-topic", "offset": 99,
		"operation": "publish", "status": "Completed", "source_offset": 7,
	})
	h.endSession()
}

func TestMalformedRecordIsDeadLetteredAndMarked(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		value   []byte
		headers []sarama.RecordHeader
		reason  string // in the dlq_error header
		logID   string // correlation ID the log lines carry
	}{
		{"not JSON", "key-1", []byte("hello {"), kafka.Headers("hdr-1"), "not valid JSON", "hdr-1"},
		{"no correlation_id", "key-2", []byte(`{"data":{"message":"m","timestamp":"2026-11-27T10:00:00Z"}}`), nil, `"correlation_id": is required`, "key-2"},
		{"timestamp not a string", "bad key!", []byte(`{"correlation_id":"c","data":{"message":"m","timestamp":1764237600}}`), nil, `"data.timestamp"`, ""},
		{"JSON array", "", []byte(`[1,2]`), nil, "must be a JSON object", ""},
		{"null value", "", nil, nil, "not valid JSON", ""},
		{"correlation_id not a string", "", []byte(`{"correlation_id":42,"data":{"message":"m"}}`), nil, `"correlation_id": must be a string`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, Config{})
			rec := record(3, tt.key, tt.value, tt.headers)
			rec.Partition = 0
			h.feed(rec)

			msg := h.prod.next(t)
			if msg.Topic != "in-topic.dlq" {
				t.Errorf("Topic = %q, want in-topic.dlq", msg.Topic)
			}
			if tt.key == "" && msg.Key != nil {
				t.Errorf("Key = %q, want null as in the record", encoded(t, msg.Key))
			} else if tt.key != "" && encoded(t, msg.Key) != tt.key {
				t.Errorf("Key = %q, want %q", encoded(t, msg.Key), tt.key)
			}
			if tt.value == nil && msg.Value != nil {
				t.Errorf("Value = %q, want null as in the record", encoded(t, msg.Value))
			} else if tt.value != nil && encoded(t, msg.Value) != string(tt.value) {
				t.Errorf("Value = %q, want the original %q", encoded(t, msg.Value), tt.value)
			}
			hs := headerMap(msg.Headers)
			for _, orig := range tt.headers {
				if hs[string(orig.Key)] != string(orig.Value) {
					t.Errorf("original header %s lost: %v", orig.Key, hs)
				}
			}
			if !strings.Contains(hs["dlq_error"], tt.reason) {
				t.Errorf("dlq_error = %q, want it to mention %q", hs["dlq_error"], tt.reason)
			}
			if hs["dlq_original_topic"] != "in-topic" || hs["dlq_original_partition"] != "0" || hs["dlq_original_offset"] != "3" {
				t.Errorf("origin headers = %v, want in-topic/0/3", hs)
			}

			h.expectNoMark(20 * time.Millisecond)
			h.prod.succeed(msg, 0)
			h.expectMark(4)

			warn := h.logLine("giving up on the record; sending it to the dead-letter topic")
			checkFields(t, warn, map[string]any{"correlation_id": tt.logID, "offset": 3, "dlq_topic": "in-topic.dlq"})
			if !strings.Contains(fmt.Sprint(warn["error"]), tt.reason) || warn["attempts"] != int64(1) {
				t.Errorf("error = %v, attempts %v; want it to mention %q after one attempt", warn["error"], warn["attempts"], tt.reason)
			}
			checkFields(t, h.logLine("published dead letter"), map[string]any{
				"correlation_id": tt.logID, "topic": "in-topic.dlq", "operation": "publish",
			})

			// The worker goes on with the next record.
			h.feed(request(t, 4, "next"))
			next := h.prod.next(t)
			h.prod.succeed(next, 1)
			h.expectMark(5)
		})
	}
}

func TestFailedWriteIsRetriedAndNotMarkedUntilAcknowledged(t *testing.T) {
	h := start(t, Config{})
	h.feed(request(t, 0, "id-0"))

	first := h.prod.next(t)
	brokerDown := errors.New("kafka: client has run out of available brokers")
	h.prod.fail(first, brokerDown)
	h.expectNoMark(20 * time.Millisecond)

	second := h.prod.next(t) // retried after the backoff
	if second == first {
		t.Error("retry re-sent the message sarama already used; want a fresh copy")
	}
	if encoded(t, second.Value) != encoded(t, first.Value) || encoded(t, second.Key) != "id-0" || second.Topic != "out-topic" {
		t.Error("retry differs from the first attempt")
	}
	h.prod.fail(second, brokerDown)
	h.expectNoMark(20 * time.Millisecond)

	third := h.prod.next(t)
	h.prod.succeed(third, 5)
	h.expectMark(1)

	failures := h.logs.FilterMessage("publish failed; will retry").AllUntimed()
	if len(failures) != 2 {
		t.Fatalf("%d failure lines, want 2", len(failures))
	}
	checkFields(t, failures[1].ContextMap(), map[string]any{
		"correlation_id": "id-0", "topic": "out-topic", "attempt": 2, "error": brokerDown.Error(),
	})
}

// Behind a failing broker every write in flight fails at once: one warning per retry
// round, the others at debug, and every write is retried.
func TestOneRetryWarningPerRound(t *testing.T) {
	h := start(t, Config{WriteRetryMin: 50 * time.Millisecond, WriteRetryMax: 50 * time.Millisecond})
	var sent []*sarama.ProducerMessage
	for o := range int64(3) {
		h.feed(request(t, o, fmt.Sprintf("id-%d", o)))
		sent = append(sent, h.prod.next(t))
	}
	for _, m := range sent {
		h.prod.fail(m, errors.New("down"))
	}
	for range sent { // retried together after the backoff
		h.prod.succeed(h.prod.next(t), 0)
	}
	h.waitMark(3)
	lines := h.logs.FilterMessage("publish failed; will retry")
	if warns := lines.FilterLevelExact(zap.WarnLevel).Len(); warns != 1 {
		t.Errorf("%d warnings for one retry round, want 1", warns)
	}
	if debug := lines.FilterLevelExact(zap.DebugLevel).Len(); debug != 2 {
		t.Errorf("%d debug lines, want 2 (the round's other failures)", debug)
	}
}

// A dead letter the producer or broker refuses as too large would fail on every retry
// and hold the partition forever; it goes out stripped instead, and a record whose
// stripped dead letter is refused too is skipped, so the partition moves on.
func TestOversizedDeadLetterIsStrippedThenSkipped(t *testing.T) {
	h := start(t, Config{})
	h.feed(record(0, "big", []byte(strings.Repeat("x", 2000)), kafka.Headers("big")))

	whole := h.prod.next(t)
	if encoded(t, whole.Value) != strings.Repeat("x", 2000) {
		t.Fatal("first attempt is not the whole record")
	}
	h.prod.fail(whole, sarama.ErrMessageSizeTooLarge)

	slim := h.prod.next(t)
	if slim.Topic != "in-topic.dlq" || slim.Value != nil || slim.Key != nil {
		t.Errorf("second attempt: topic %s, value %v, key %v; want the DLQ without key and value",
			slim.Topic, slim.Value, slim.Key)
	}
	hs := headerMap(slim.Headers)
	if !strings.Contains(hs["dlq_error"], "value of 2000 bytes") || hs["correlation_id"] != "big" || hs["content-type"] != "" {
		t.Errorf("headers = %v, want the dlq_* ones and the correlation ID only", hs)
	}
	h.prod.succeed(slim, 0)
	h.expectMark(1)

	h.feed(record(1, "huge", []byte(strings.Repeat("y", 2000)), nil))
	h.prod.fail(h.prod.next(t), sarama.ErrMessageSizeTooLarge)
	h.prod.fail(h.prod.next(t), sarama.ErrMessageSizeTooLarge)
	h.expectMark(2)
	h.waitLog("dead letter refused even stripped; skipping the record")
}

func TestOutOfOrderAcksMarkOnlyContiguousPrefix(t *testing.T) {
	h := start(t, Config{})
	var sent []*sarama.ProducerMessage
	for o := int64(10); o < 14; o++ {
		h.feed(request(t, o, fmt.Sprintf("id-%d", o)))
		sent = append(sent, h.prod.next(t))
	}
	h.prod.succeed(sent[2], 0) // 12
	h.prod.succeed(sent[1], 0) // 11
	h.expectNoMark(30 * time.Millisecond)
	h.prod.succeed(sent[0], 0) // 10 completes 10..12
	h.expectMark(13)
	h.prod.succeed(sent[3], 0)
	h.expectMark(14)
}

func TestStopsTakingAtInFlightCap(t *testing.T) {
	h := start(t, Config{MaxInFlight: 2, ReadAhead: 2})
	h.feed(request(t, 0, "a"))
	h.feed(request(t, 1, "b"))
	a, b := h.prod.next(t), h.prod.next(t)

	h.feed(request(t, 2, "c")) // read, not taken, and fetching goes on: ReadAhead is 2
	h.prod.none(t, 50*time.Millisecond)
	if h.claim.paused.Load() {
		t.Fatal("fetching paused while the claim holds fewer records than ReadAhead")
	}
	h.feed(request(t, 3, "d")) // now it holds ReadAhead records
	h.waitPaused(true)
	h.prod.none(t, 20*time.Millisecond)
	h.prod.succeed(b, 0) // a is still pending: the cap counts unmarked records
	h.expectNoMark(20 * time.Millisecond)
	h.prod.none(t, 30*time.Millisecond)
	h.prod.succeed(a, 0)
	h.expectMark(2)
	h.prod.succeed(h.nextKeyed("c"), 0)
	h.expectMark(3)
	h.prod.succeed(h.prod.next(t), 0) // d
	h.expectMark(4)
	h.waitPaused(false)
}

// nextKeyed returns the next message sent, which must be keyed key.
func (h *harness) nextKeyed(key string) *sarama.ProducerMessage {
	h.t.Helper()
	m := h.prod.next(h.t)
	if got := encoded(h.t, m.Key); got != key {
		h.t.Fatalf("sent %s, want %s", got, key)
	}
	return m
}

func TestStopsTakingAtInFlightBytes(t *testing.T) {
	size := recordBytes(request(t, 0, "a"))
	h := start(t, Config{MaxInFlightBytes: 2 * size})
	h.feed(request(t, 0, "a"))
	h.feed(request(t, 1, "b"))
	h.feed(request(t, 2, "c")) // a third would pass the bound
	a, b := h.prod.next(t), h.prod.next(t)
	h.prod.none(t, 50*time.Millisecond)
	h.prod.succeed(b, 0) // b is finished but still held behind a: its bytes count
	h.prod.none(t, 30*time.Millisecond)
	h.prod.succeed(a, 0)
	h.expectMark(2)
	h.prod.succeed(h.nextKeyed("c"), 0)
	h.expectMark(3)
}

// A session owning more partitions than PartitionsAtFullBounds gives each claim its
// share: here one partition's bounds over two, so the second record waits.
func TestSharesTheBoundsAmongThePartitionsOwned(t *testing.T) {
	size := recordBytes(request(t, 0, "a"))
	h := startOwning(t, Config{MaxInFlightBytes: 2 * size, PartitionsAtFullBounds: 1}, 2, pingRoute,
		func(c *fakeClaim) sarama.ConsumerGroupClaim { return c })
	h.takesOneAtATime() // two would fit the whole bound, not the half
}

func TestTakesARecordLargerThanTheByteBoundAlone(t *testing.T) {
	h := start(t, Config{MaxInFlightBytes: 1})
	h.takesOneAtATime() // nothing else in flight: each taken although larger than the bound
}

// takesOneAtATime feeds two records and checks that the second is taken only once the
// first is finished.
func (h *harness) takesOneAtATime() {
	h.t.Helper()
	h.feed(request(h.t, 0, "a"))
	h.feed(request(h.t, 1, "b"))
	a := h.prod.next(h.t)
	h.prod.none(h.t, 50*time.Millisecond)
	h.prod.succeed(a, 0)
	h.expectMark(1)
	h.prod.succeed(h.prod.next(h.t), 0)
	h.expectMark(2)
}

func TestPausesFetchingAtReadAheadBytes(t *testing.T) {
	size := recordBytes(request(t, 0, "a"))
	h := start(t, Config{MaxInFlight: 1, ReadAheadBytes: 2 * size})
	h.feed(request(t, 0, "a")) // taken
	a := h.prod.next(t)
	h.feed(request(t, 1, "b")) // read ahead: one record's bytes
	h.prod.none(t, 30*time.Millisecond)
	if h.claim.paused.Load() {
		t.Fatal("fetching paused while the read-ahead holds fewer bytes than ReadAheadBytes")
	}
	h.feed(request(t, 2, "c"))
	h.waitPaused(true)
	h.prod.succeed(a, 0)
	h.expectMark(1)
	h.waitPaused(false) // b taken: one record's bytes left
	h.prod.succeed(h.prod.next(t), 0)
	h.expectMark(2)
	h.prod.succeed(h.prod.next(t), 0)
	h.expectMark(3)
}

// At the end of a session the claim still waits for writes already sent and marks
// them, so a graceful stop or rebalance does not redeliver finished work.
func TestSessionEndWaitsForInFlightWritesThenCommits(t *testing.T) {
	h := start(t, Config{DrainTimeout: waitTimeout})
	h.feed(request(t, 0, "a"))
	h.feed(request(t, 1, "b"))
	a, b := h.prod.next(t), h.prod.next(t)

	h.cancel()
	h.expectNoMark(30 * time.Millisecond)
	h.prod.succeed(b, 0)
	h.prod.succeed(a, 0)
	h.expectMark(2)
	h.endSession()
	// Nothing is retried once the session is over.
	h.prod.none(t, 30*time.Millisecond)
}

func TestSessionEndGivesUpAfterDrainTimeout(t *testing.T) {
	h := start(t, Config{DrainTimeout: 50 * time.Millisecond})
	h.feed(request(t, 0, "a"))
	h.prod.next(t) // never acknowledged

	began := time.Now()
	h.endSession()
	if waited := time.Since(began); waited < 50*time.Millisecond {
		t.Errorf("ConsumeClaim returned after %v, before the drain timeout", waited)
	}
	h.expectNoMark(10 * time.Millisecond)
	h.logLine("stopped waiting for acknowledgements; unmarked records will be redelivered")
}

func TestFailureDuringDrainIsNotRetried(t *testing.T) {
	h := start(t, Config{DrainTimeout: waitTimeout})
	h.feed(request(t, 0, "a"))
	a := h.prod.next(t)
	h.cancel()
	h.prod.fail(a, errors.New("down"))
	h.endSession()
	h.expectNoMark(10 * time.Millisecond)
	h.prod.none(t, 30*time.Millisecond)
}

// A claim released by sarama closes its channel; ConsumeClaim must return.
func TestClaimChannelClosedEndsClaim(t *testing.T) {
	h := start(t, Config{})
	h.feed(request(t, 0, "a"))
	a := h.prod.next(t)
	close(h.claim.messages)
	h.prod.succeed(a, 0)
	h.expectMark(1)
	h.returns(waitTimeout)
}

func TestReplyToTopicIsAnsweredThere(t *testing.T) {
	h := start(t, Config{})
	h.feed(requestWithReplyTo(t, 4, "abc", "py-replies"))

	msg := h.prod.next(t)
	if msg.Topic != "py-replies" {
		t.Fatalf("Topic = %q, want the reply_to topic", msg.Topic)
	}
	h.prod.succeed(msg, 0)
	h.expectMark(5)
	h.endSession()
}

// A reply_to topic the worker cannot write to would otherwise be retried forever and
// hold the partition: the request goes to the dead-letter topic with the refusal.
func TestRefusedReplyToTopicDeadLettersTheRequest(t *testing.T) {
	h := start(t, Config{})
	h.feed(requestWithReplyTo(t, 4, "abc", "forbidden"))

	h.prod.fail(h.prod.next(t), sarama.ErrTopicAuthorizationFailed)
	dead := h.prod.next(t)
	if dead.Topic != "in-topic.dlq" {
		t.Fatalf("Topic = %q, want in-topic.dlq", dead.Topic)
	}
	if got := headerMap(dead.Headers)["dlq_error"]; !strings.Contains(got, `reply to topic "forbidden" refused`) {
		t.Errorf("dlq_error = %q", got)
	}
	h.expectNoMark(20 * time.Millisecond)
	h.prod.succeed(dead, 0)
	h.expectMark(5)
	h.endSession()
}

func TestInvalidReplyToIsDeadLettered(t *testing.T) {
	h := start(t, Config{})
	h.feed(requestWithReplyTo(t, 4, "abc", "no/such topic"))

	dead := h.prod.next(t)
	if got := headerMap(dead.Headers)["dlq_error"]; dead.Topic != "in-topic.dlq" || !strings.Contains(got, "reply_to topic not allowed") {
		t.Errorf("sent to %s with dlq_error %q", dead.Topic, got)
	}
	h.prod.succeed(dead, 0)
	h.expectMark(5)
	h.endSession()
}

// requestWithReplyTo is request with FastStream's reply_to header.
func requestWithReplyTo(t *testing.T, offset int64, id, replyTo string) *sarama.ConsumerMessage {
	t.Helper()
	rec := request(t, offset, id)
	rec.Headers = append(rec.Headers, &sarama.RecordHeader{Key: []byte("reply_to"), Value: []byte(replyTo)})
	return rec
}
