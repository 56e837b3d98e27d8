package consumer

import (
	"github.com/IBM/sarama"
	"go.uber.org/zap"
)

// Results is the outcome side of a sarama.AsyncProducer.
type Results interface {
	Successes() <-chan *sarama.ProducerMessage
	Errors() <-chan *sarama.ProducerError
}

// Dispatch hands every producer outcome back to the claim that sent the message. It
// returns once the producer is closed and both channels are drained; the caller owns
// the goroutine that runs it. failed, when not nil, sees every write error first (the
// runner watches them for credentials the cluster refuses).
func Dispatch(producer Results, log *zap.Logger, failed func(error)) {
	successes, errs := producer.Successes(), producer.Errors()
	for successes != nil || errs != nil {
		select {
		case msg, ok := <-successes:
			if !ok {
				successes = nil
				continue
			}
			deliver(msg, nil, log)
		case perr, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if failed != nil {
				failed(perr.Err)
			}
			deliver(perr.Msg, perr.Err, log)
		}
	}
}

func deliver(msg *sarama.ProducerMessage, err error, log *zap.Logger) {
	p, ok := msg.Metadata.(*pending)
	if !ok {
		log.Error("producer result for a message the worker did not send",
			zap.String("topic", msg.Topic), zap.Error(err))
		return
	}
	p.err, p.sent = err, msg
	// Never blocks: a claim sends at most one message per pending record and sizes
	// results for all of them, even after it stopped reading.
	p.results <- p
}
