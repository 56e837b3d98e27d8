package transactional

import (
	"errors"
	"sync"

	"github.com/IBM/sarama"
)

var errProducerClosed = errors.New("transactional: producer closed before every output's result")

// tally counts the producer's results while a transaction's outputs are being sent:
// reading them as they come keeps the producer from blocking on full result channels.
type tally struct {
	mu      sync.Mutex
	n       int
	failed  []*sarama.ProducerError
	changed chan struct{} // a result came; capacity 1
	closed  chan struct{} // the producer closed its result channels
}

func newTally() *tally {
	return &tally{changed: make(chan struct{}, 1), closed: make(chan struct{})}
}

// collect reads p's results until p is closed.
func (t *tally) collect(p sarama.AsyncProducer) {
	defer close(t.closed)
	successes, errs := p.Successes(), p.Errors()
	for successes != nil || errs != nil {
		var pe *sarama.ProducerError
		select {
		case _, ok := <-successes:
			if !ok {
				successes = nil
				continue
			}
		case e, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			pe = e
		}
		t.mu.Lock()
		t.n++
		if pe != nil {
			t.failed = append(t.failed, pe)
		}
		t.mu.Unlock()
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

// wait returns once n results came, with the refused outputs among them, and starts
// the count over.
func (t *tally) wait(n int) ([]*sarama.ProducerError, error) {
	for {
		if failed, ok := t.take(n); ok {
			return failed, nil
		}
		select {
		case <-t.changed:
		case <-t.closed: // collect counted everything it got before closing
			if failed, ok := t.take(n); ok {
				return failed, nil
			}
			return nil, errProducerClosed
		}
	}
}

func (t *tally) take(n int) ([]*sarama.ProducerError, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n < n {
		return nil, false
	}
	failed := t.failed
	t.n, t.failed = t.n-n, nil
	return failed, true
}
