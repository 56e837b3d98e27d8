package router

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Ordering says which records of a partition may be handled at the same time.
type Ordering int

const (
	// ByKey (the default): one call at a time per record key, up to Concurrency keys
	// at once. Records without a key (nil or empty) count as one key: they are handled
	// one at a time, in offset order, beside the keyed ones.
	ByKey Ordering = iota
	// ByPartition: one call at a time per partition, in offset order (Concurrency is 1).
	ByPartition
	// Unordered: up to Concurrency calls at once, in any order.
	Unordered
)

func (o Ordering) String() string {
	switch o {
	case ByKey:
		return "by-key"
	case ByPartition:
		return "by-partition"
	case Unordered:
		return "unordered"
	}
	return fmt.Sprintf("Ordering(%d)", int(o))
}

// Retry bounds a handler's attempts. Zero fields take the Default* values; MaxAttempts
// 1 means no retry.
type Retry struct {
	MaxAttempts            int
	MinBackoff, MaxBackoff time.Duration
}

// Route defaults.
const (
	DefaultConcurrency = 16
	DefaultMaxAttempts = 3
	DefaultMinBackoff  = 100 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	// DefaultTimeout bounds one call, so that no single record can hold its key (and,
	// once everything behind it waits, its partition) forever. A negative
	// Route.Timeout turns the bound off.
	DefaultTimeout = 30 * time.Second
)

// Handler handles one record and returns its reply. Handlers may be methods on a
// struct that holds their dependencies (an HTTP client, a database pool).
type Handler[Req, Res any] func(ctx context.Context, msg Message[Req]) (Res, error)

// Route is one subscription: FastStream's `@router.subscriber(topic)` in Go.
type Route[Req, Res any] struct {
	// Name labels the route's metrics, spans and log lines; the Topic by default.
	Name string
	// Topic is consumed.
	Topic string
	// ReplyTopic receives the handler's results; "" publishes none (unless the record
	// names an allowed reply_to topic).
	ReplyTopic string
	// DeadLetterTopic receives the records the route gives up on, with dlq_* headers
	// saying why. Required.
	DeadLetterTopic string
	// Request and Reply are the codecs; JSON by default.
	Request Codec[Req]
	Reply   Codec[Res]
	Handler Handler[Req, Res]
	// Concurrency bounds the calls in flight per partition; DefaultConcurrency when 0.
	Concurrency int
	Ordering    Ordering
	Retry       Retry
	// Timeout bounds each call, on its ctx; DefaultTimeout when 0, none when negative.
	Timeout time.Duration
	// OnExhausted builds the reply when the handler's error is permanent or its retries
	// ran out (e.g. a reply with status Failed); nil dead-letters the record with the
	// reason. An error from OnExhausted dead-letters the record too.
	OnExhausted func(ctx context.Context, msg Message[Req], err error) (Res, error)
	// ReplyTo decides which topics a record's reply_to header may send the reply to.
	ReplyTo ReplyToPolicy
	// Middleware wraps this route's calls, inside the router's.
	Middleware []Middleware
}

// route is a registered Route with its types erased: what the engine runs.
type route struct {
	name, topic, replyTopic, dlqTopic string
	concurrency                       int
	ordering                          Ordering
	retry                             Retry
	timeout                           time.Duration
	replyTo                           replyToCheck
	// call runs one attempt through the middleware chain.
	call CallFunc
	// exhausted builds the reply for a call that failed for good; nil dead-letters.
	exhausted func(ctx context.Context, c *Call, err error) error
}

// Register adds route to r. It checks the route (names, topics, a handler) and fails on
// a second route for the same topic. Register before the router runs.
func Register[Req, Res any](r *Router, rt Route[Req, Res]) error {
	if rt.Handler == nil {
		return fmt.Errorf("router: route %q: Handler is required", rt.Topic)
	}
	if rt.Request == nil {
		rt.Request = JSON[Req]()
	}
	if rt.Reply == nil {
		rt.Reply = JSON[Res]()
	}
	in, err := compile(rt.Name, rt.Topic, rt.ReplyTopic, rt.DeadLetterTopic, rt.ReplyTo)
	if err != nil {
		return err
	}
	in.concurrency, in.ordering, in.retry, in.timeout = routeDefaults(rt.Concurrency, rt.Ordering, rt.Retry, rt.Timeout)
	if in.ordering < ByKey || in.ordering > Unordered {
		return fmt.Errorf("router: route %q: unknown Ordering %d", in.name, int(rt.Ordering))
	}
	in.call = chain(typedCall(rt.Request, rt.Reply, rt.Handler), append(r.middleware(), rt.Middleware...))
	if rt.OnExhausted != nil {
		in.exhausted = typedExhausted(rt.Request, rt.Reply, rt.OnExhausted)
	}
	return r.add(in)
}

// compile checks a route's names and compiles its reply_to policy.
func compile(name, topic, replyTopic, dlqTopic string, policy ReplyToPolicy) (*route, error) {
	if name == "" {
		name = topic
	}
	for _, t := range []struct{ what, name string }{{"Topic", topic}, {"DeadLetterTopic", dlqTopic}} {
		if err := ValidTopic(t.name); err != nil {
			return nil, fmt.Errorf("router: route %q: %s: %w", name, t.what, err)
		}
	}
	if replyTopic != "" {
		if err := ValidTopic(replyTopic); err != nil {
			return nil, fmt.Errorf("router: route %q: ReplyTopic: %w", name, err)
		}
	}
	// A reply or dead letter on the consumed topic would be consumed again, forever.
	if replyTopic == topic || dlqTopic == topic {
		return nil, fmt.Errorf("router: route %q: ReplyTopic and DeadLetterTopic must differ from Topic %q", name, topic)
	}
	check, err := policy.compile(topic, replyTopic, dlqTopic)
	if err != nil {
		return nil, fmt.Errorf("router: route %q: ReplyTo: %w", name, err)
	}
	return &route{name: name, topic: topic, replyTopic: replyTopic, dlqTopic: dlqTopic, replyTo: check}, nil
}

func routeDefaults(concurrency int, ordering Ordering, retry Retry, timeout time.Duration) (int, Ordering, Retry, time.Duration) {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if ordering == ByPartition {
		concurrency = 1
	}
	if retry.MaxAttempts <= 0 {
		retry.MaxAttempts = DefaultMaxAttempts
	}
	if retry.MinBackoff <= 0 {
		retry.MinBackoff = DefaultMinBackoff
	}
	if retry.MaxBackoff < retry.MinBackoff {
		retry.MaxBackoff = max(DefaultMaxBackoff, retry.MinBackoff)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return concurrency, ordering, retry, timeout
}

// errDuplicateRoute is matched by Register's error for a topic routed twice.
var errDuplicateRoute = errors.New("topic already routed")
