package gatewaykit

import (
	"context"
	"errors"
	"fmt"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
)

// Errors of Request, beside ErrNotReadingReplies and ErrTooManyWaiting.
var (
	// ErrRepliesDisabled: Kafka is disabled (KAFKA_ENABLED=false), so no reply comes.
	ErrRepliesDisabled = errors.New("gatewaykit: request/reply needs Kafka")
	// ErrPublish wraps the reason a request was not published.
	ErrPublish = errors.New("gatewaykit: publish failed")
	// ErrMalformedReply: the reply's body does not decode.
	ErrMalformedReply = errors.New("gatewaykit: malformed reply")
)

// RequestRoute says where a request goes and where its reply comes back.
type RequestRoute[Req, Res any] struct {
	Topic      string // requests are published here
	ReplyTopic string // replies are read here
	Request    Codec[Req]
	Reply      Codec[Res]
	// ReplyToHeader names ReplyTopic in each request's reply_to header, for a worker
	// that answers where the request says (FastStream's request/reply, the ping flow).
	// Leave it false for a worker that always answers on its own reply topic.
	ReplyToHeader bool
}

// Reply is a request's answer.
type Reply[Res any] struct {
	Body Res
	Raw  []byte // the body as the worker wrote it
}

// Requester publishes requests and waits for their replies.
type Requester[Req, Res any] struct {
	publisher *Publisher[Req]
	route     RequestRoute[Req, Res]
	reader    *replyReader // nil: Kafka is disabled
}

// NewRequester returns a requester for route through kit; it fails once kit's reply
// readers run (make requesters while registering endpoints).
func NewRequester[Req, Res any](kit *Kit, route RequestRoute[Req, Res]) (*Requester[Req, Res], error) {
	q := &Requester[Req, Res]{publisher: NewPublisher(kit, route.Topic, route.Request), route: route}
	if kit.replyReaders != nil {
		reader, err := kit.replyReaders.reader(route.ReplyTopic)
		if err != nil {
			return nil, err
		}
		q.reader = reader
	}
	return q, nil
}

// Ready reports whether a request made now can get its reply: ErrRepliesDisabled or
// ErrNotReadingReplies when not.
func (q *Requester[Req, Res]) Ready() error {
	if q.reader == nil {
		return ErrRepliesDisabled
	}
	return q.reader.Ready()
}

// Request publishes msg with a correlation_id header of its own, a fresh ID returned
// as requestID, and waits until its reply arrives or ctx ends (then the error wraps
// ctx's). meta.CorrelationID is not sent as a header but keys the record unless
// meta.Key is set: the request's own ID must be unique among those waiting.
func (q *Requester[Req, Res]) Request(ctx context.Context, msg Req, meta Meta) (reply Reply[Res], requestID string, err error) {
	if err := q.Ready(); err != nil {
		return reply, "", err
	}
	requestID = correlation.New()
	replies, release, err := q.reader.waiters.Add(requestID)
	if err != nil {
		return reply, requestID, err
	}
	defer release()
	rec := Record{Topic: q.route.Topic, Key: meta.key(), CorrelationID: requestID}
	if q.route.ReplyToHeader {
		rec.ReplyTo = q.route.ReplyTopic
	}
	if err := q.publisher.send(ctx, msg, rec); err != nil {
		return reply, requestID, fmt.Errorf("%w: %w", ErrPublish, err)
	}
	select {
	case raw := <-replies:
		body, err := q.route.Reply.Decode(raw)
		if err != nil {
			return reply, requestID, fmt.Errorf("%w on %s: %w", ErrMalformedReply, q.route.ReplyTopic, err)
		}
		return Reply[Res]{Body: body, Raw: raw}, requestID, nil
	case <-ctx.Done():
		return reply, requestID, fmt.Errorf("gatewaykit: no reply on %s: %w", q.route.ReplyTopic, ctx.Err())
	}
}
