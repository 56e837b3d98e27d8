package router

import (
	"errors"
	"fmt"
	"sync"

	"github.com/IBM/sarama"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/router/internal/deadletter"
)

// RefusedOutputs remembers the records whose output the broker refused for good inside
// a transaction (too large, a reply_to topic that does not exist or may not be
// written). One refused write aborts the whole transaction, so without it such a
// record would be consumed, refused and aborted again forever. When the record comes
// again its output is replaced, one step further each time: the reply by a dead letter,
// the dead letter by one without the record's key, value and headers, and that by
// nothing (the record is committed without output). It outlives the Kafka clients
// a worker builds after each abort; at most maxRefused records are remembered.
type RefusedOutputs struct {
	mu    sync.Mutex
	steps map[recordID]refusal
}

type recordID struct {
	topic     string
	partition int32
	offset    int64
}

type refusal struct {
	step  int // 1: dead letter, 2: stripped dead letter, 3: no output
	cause error
}

// maxRefused bounds what RefusedOutputs holds; an entry is dropped once used, and only
// a record redelivered elsewhere leaves one behind.
const maxRefused = 1024

// NewRefusedOutputs returns an empty memo.
func NewRefusedOutputs() *RefusedOutputs {
	return &RefusedOutputs{steps: map[recordID]refusal{}}
}

func idOf(rec *sarama.ConsumerMessage) recordID {
	return recordID{rec.Topic, rec.Partition, rec.Offset}
}

// note remembers the permanent refusals among a failed transaction's outputs.
func (m *RefusedOutputs) note(err error) {
	var sendErr *transactional.SendError
	if !errors.As(err, &sendErr) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, pe := range sendErr.Failed {
		r, ok := pe.Msg.Metadata.(*txnRecord)
		if !ok || !refusedForGood(r.f, pe.Err) {
			continue
		}
		next := r.step + 1
		if r.step == 0 && r.f.DeadLetter() {
			next = 2 // the handler's own dead letter: strip it
		}
		if len(m.steps) >= maxRefused {
			clear(m.steps)
		}
		m.steps[idOf(r.f.Record)] = refusal{step: next, cause: pe.Err}
	}
}

// refusedForGood reports whether retrying f's output could never succeed.
func refusedForGood(f *Finished, err error) bool {
	return deadletter.TooLarge(err) || (f.ReplyTo && !f.DeadLetter() && unwritable(err))
}

// apply replaces f's output if an earlier transaction's refusal of it is remembered,
// and returns the step applied (0: none).
func (m *RefusedOutputs) apply(f *Finished, log *zap.Logger) int {
	m.mu.Lock()
	r, ok := m.steps[idOf(f.Record)]
	delete(m.steps, idOf(f.Record))
	m.mu.Unlock()
	if !ok || f.Output == nil {
		return 0
	}
	fields := []zap.Field{
		logging.CorrelationID(f.CorrelationID), zap.String("route", f.Route), logging.Status(messages.StatusFailed),
		zap.Int32("source_partition", f.Record.Partition), zap.Int64("source_offset", f.Record.Offset), zap.NamedError("refusal", r.cause),
	}
	if r.step >= 1 && !f.DeadLetter() {
		f.Reason = deadletter.New(deadletter.ReasonReplyUnwritable, fmt.Errorf("reply to topic %q refused: %w", f.Output.Topic, r.cause))
		f.Output = deadletter.Message(f.DeadLetterTopic, f.Record, f.Reason)
	}
	switch r.step {
	case 1:
		log.Error("the broker refused the reply for good; sending the request to the dead-letter topic",
			append(fields, zap.String("dlq_topic", f.DeadLetterTopic))...)
	case 2:
		log.Error("dead letter too large; sending it without the record's key, value and headers", fields...)
		f.Output = deadletter.Stripped(f.DeadLetterTopic, f.Record, f.Reason, f.CorrelationID)
	default:
		log.Error("dead letter refused even stripped; skipping the record", fields...)
		f.Output = nil
	}
	return r.step
}
