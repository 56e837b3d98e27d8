package router

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// Engine defaults for the zero values of Config.
const (
	// 4,096 in flight (not 1,024): each claim's replies wait for the producer's one
	// request in flight, and the ping flow's drain ran 10 to 30 % faster
	// (streambench -drain-only). The byte bounds keep large records from taking that
	// much memory.
	DefaultMaxInFlight      = 4096
	DefaultMaxInFlightBytes = 4 << 20
	DefaultReadAhead        = 4096
	DefaultReadAheadBytes   = 4 << 20
	DefaultDrainTimeout     = 5 * time.Second
	// DefaultWriteRetryMin and DefaultWriteRetryMax bound the backoff between attempts
	// to write a reply or dead letter the producer failed to deliver.
	DefaultWriteRetryMin = 100 * time.Millisecond
	DefaultWriteRetryMax = 5 * time.Second
	// DefaultStuckThreshold is how long the oldest unfinished record of a partition
	// may wait before the partition counts as stuck.
	DefaultStuckThreshold = 60 * time.Second
	// DefaultObserveInterval is how often a claim refreshes its lag, age and stuck
	// state between records.
	DefaultObserveInterval = time.Second
)

// Readiness records whether the router is in a consumer group session; probe.Readiness
// is one.
type Readiness interface {
	Set(err error)
}

// ErrNoSession is the readiness error while the router is not in a consumer group
// session, so gets no records.
var ErrNoSession = errors.New("no consumer group session")

// Config configures a Router. Every field is optional.
type Config struct {
	// Log receives the router's lines; zap.NewNop() by default.
	Log *zap.Logger
	// Metrics records what the router does; a registry of its own by default.
	Metrics *Metrics
	// Tracing continues each record's trace; tracing.Disabled() by default.
	Tracing *tracing.Tracing
	// GroupID names the consumer group on spans.
	GroupID string
	// Ready is told when a session starts and ends.
	Ready Readiness
	// Middleware wraps every route's calls, inside the built-in TraceCalls, CountCalls,
	// LogCalls and RecoverPanics middleware and outside each route's own.
	Middleware []Middleware

	// MaxInFlight and MaxInFlightBytes bound the records of one partition taken but not
	// yet finished (handled and delivered), and their bytes (key, value and headers);
	// the claim stops taking records while either is reached. A record larger than
	// MaxInFlightBytes is still taken when nothing else is in flight.
	MaxInFlight      int
	MaxInFlightBytes int
	// ReadAhead and ReadAheadBytes bound the records of one partition read but not yet
	// taken; the claim pauses the partition's fetching while it holds that many, or
	// that many bytes. What a claim holds stays bounded: the read-ahead plus one fetch
	// (sarama's Consumer.Fetch.Default), plus what is in flight.
	ReadAhead      int
	ReadAheadBytes int
	// PartitionsAtFullBounds is how many partitions a session may own with each at
	// the four bounds above; owning more, each partition gets its share (the bounds
	// times PartitionsAtFullBounds over the partitions owned, at least one record), so
	// that what the worker holds does not grow with the partitions it owns.
	PartitionsAtFullBounds int
	// DrainTimeout bounds how long a claim that ends (revocation, shutdown) waits for
	// running handler calls, then for the outputs already handed to the delivery; the
	// calls' ctx is cancelled after it.
	DrainTimeout time.Duration
	// WriteRetryMin and WriteRetryMax bound the backoff between write attempts.
	WriteRetryMin, WriteRetryMax time.Duration
	// StuckThreshold: a partition whose oldest unfinished record is older is stuck (a
	// metric and a warning).
	StuckThreshold time.Duration
	// ObserveInterval is how often each claim refreshes lag, age and stuck state.
	ObserveInterval time.Duration
}

// Router routes the records of its topics to their handlers. Register routes, then
// run it with a consumer group: Handler returns the sarama.ConsumerGroupHandler.
type Router struct {
	cfg    Config
	routes map[string]*route // by topic
	topics []string          // in registration order
	err    error             // from New, returned by Handler
}

// New returns a Router without routes; zero Config fields take their defaults.
func New(cfg Config) *Router {
	r := &Router{routes: map[string]*route{}}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Tracing == nil {
		cfg.Tracing = tracing.Disabled()
	}
	if cfg.Ready == nil {
		cfg.Ready = noReadiness{}
	}
	if cfg.Metrics == nil {
		cfg.Metrics, r.err = NewMetrics("worker", "")
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxInFlightBytes <= 0 {
		cfg.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if cfg.ReadAhead <= 0 {
		cfg.ReadAhead = DefaultReadAhead
	}
	if cfg.ReadAheadBytes <= 0 {
		cfg.ReadAheadBytes = DefaultReadAheadBytes
	}
	if cfg.PartitionsAtFullBounds <= 0 {
		cfg.PartitionsAtFullBounds = DefaultPartitionsAtFullBounds
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.WriteRetryMin <= 0 {
		cfg.WriteRetryMin = DefaultWriteRetryMin
	}
	if cfg.WriteRetryMax < cfg.WriteRetryMin {
		cfg.WriteRetryMax = max(DefaultWriteRetryMax, cfg.WriteRetryMin)
	}
	if cfg.StuckThreshold <= 0 {
		cfg.StuckThreshold = DefaultStuckThreshold
	}
	if cfg.ObserveInterval <= 0 {
		cfg.ObserveInterval = DefaultObserveInterval
	}
	r.cfg = cfg
	return r
}

// Topics returns the routed topics, what the consumer group subscribes to.
func (r *Router) Topics() []string { return slices.Clone(r.topics) }

// Metrics returns the router's metrics (Config.Metrics or its own).
func (r *Router) Metrics() *Metrics { return r.cfg.Metrics }

// OutputTopics returns every topic the routes write to (reply and dead-letter topics,
// not reply_to ones), each once.
func (r *Router) OutputTopics() []string {
	var out []string
	for _, t := range r.topics {
		rt := r.routes[t]
		for _, o := range []string{rt.replyTopic, rt.dlqTopic} {
			if o != "" && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// middleware is the router-level chain every route's calls go through.
func (r *Router) middleware() []Middleware {
	return append([]Middleware{
		TraceCalls(),
		CountCalls(r.cfg.Metrics),
		LogCalls(r.cfg.Log),
		RecoverPanics(),
	}, r.cfg.Middleware...)
}

func (r *Router) add(rt *route) error {
	if _, dup := r.routes[rt.topic]; dup {
		return fmt.Errorf("router: route %q: %w: %q", rt.name, errDuplicateRoute, rt.topic)
	}
	for _, other := range r.routes {
		if other.replyTopic == rt.topic || other.dlqTopic == rt.topic {
			return fmt.Errorf("router: route %q consumes %q, which route %q writes to", rt.name, rt.topic, other.name)
		}
		if rt.replyTopic == other.topic || rt.dlqTopic == other.topic {
			return fmt.Errorf("router: route %q writes to %q, which route %q consumes", rt.name, other.topic, other.name)
		}
	}
	r.routes[rt.topic] = rt
	r.topics = append(r.topics, rt.topic)
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.route(rt)
	}
	return nil
}

type noReadiness struct{}

func (noReadiness) Set(error) {}
