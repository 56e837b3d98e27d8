package router

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

// The built-in middleware, which every router puts around its routes' calls (outermost
// first): TraceCalls, CountCalls, LogCalls, RecoverPanics. Config.Middleware and
// Route.Middleware come inside them.

// TraceCalls traces each call (each attempt). The first runs under the record's process
// span, which has the route and attempt 1 from its start; a failure of it becomes an
// exception event there. Each retry is an INTERNAL span "<route> handle", a child of the
// process span, with the route, the attempt and the correlation ID, ended with an error
// status when it fails. The handler's ctx carries the span of its attempt, so what the
// handler traces (an HTTP client's spans) nests under it. A span of its own for every
// first call cost the worker 6 µs of CPU per record at 100 % sampling
// (BenchmarkHandleRecordOTLP) to repeat what the process span says.
func TraceCalls() Middleware {
	return func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) error {
			process := trace.SpanFromContext(ctx)
			if !process.IsRecording() { // no span name or attributes built
				return next(ctx, c)
			}
			if c.Attempt <= 1 {
				fromHeader := c.CorrelationID != ""
				err := next(ctx, c)
				if !fromHeader && c.CorrelationID != "" { // known once the body is decoded
					process.SetAttributes(conversationID(c.CorrelationID))
				}
				if err != nil {
					process.RecordError(err, trace.WithAttributes(attribute.Int(attrAttempt, c.Attempt)))
				}
				return err
			}
			attrs := []attribute.KeyValue{attribute.String(attrRoute, c.Route), attribute.Int(attrAttempt, c.Attempt)}
			if c.CorrelationID != "" {
				attrs = append(attrs, conversationID(c.CorrelationID))
			}
			ctx, span, ok := tracing.StartChild(ctx, c.Route+" handle", attrs...)
			if !ok {
				return next(ctx, c)
			}
			err := next(ctx, c)
			tracing.End(span, err)
			return err
		}
	}
}

func conversationID(id string) attribute.KeyValue {
	return semconv.MessagingMessageConversationID(logging.Truncate(id, logging.MaxFieldBytes))
}

const (
	attrRoute   = "streamgate.route"
	attrAttempt = "streamgate.attempt"
)

// startProcess starts rec's process span with the route and the first attempt on it,
// in the one call that sets its attributes (each call grows them anew).
func startProcess(ctx context.Context, tr *tracing.Tracing, rec *sarama.ConsumerMessage, group, route string) context.Context {
	ctx, _ = tr.StartProcess(ctx, rec, group, attribute.String(attrRoute, route), attribute.Int(attrAttempt, 1))
	return ctx
}

// CountCalls counts each call by outcome and observes its duration, by route.
func CountCalls(m *Metrics) Middleware {
	return func(next CallFunc) CallFunc {
		// A chain serves one route: its series are looked up once, not per call.
		var series atomic.Pointer[callSeries]
		return func(ctx context.Context, c *Call) error {
			start := time.Now()
			err := next(ctx, c)
			s := series.Load()
			if s == nil || s.route != c.Route {
				s = newCallSeries(m, c.Route)
				series.Store(s)
			}
			s.duration.Observe(time.Since(start).Seconds())
			s.calls[outcome(ctx, err)].Inc()
			return err
		}
	}
}

// callSeries are one route's series of CountCalls.
type callSeries struct {
	route    string
	duration prometheus.Observer
	calls    [len(outcomes)]prometheus.Counter // by outcome index
}

func newCallSeries(m *Metrics, route string) *callSeries {
	s := &callSeries{route: route, duration: m.HandlerDuration.WithLabelValues(route)}
	for i, o := range outcomes {
		s.calls[i] = m.HandlerCalls.WithLabelValues(route, o)
	}
	return s
}

// outcome is a call's outcome, as an index of outcomes: no label hashed per call.
func outcome(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return outcomeOK
	case IsPermanent(err):
		return outcomePermanent
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return outcomeCanceled
	default:
		return outcomeRetryable
	}
}

// LogCalls logs each call at debug, and each failed one at warn (a permanent failure
// or the last attempt is logged again, at error, when the record is dead-lettered).
func LogCalls(log *zap.Logger) Middleware {
	return func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) error {
			err := next(ctx, c)
			if err == nil {
				if line := log.Check(zap.DebugLevel, "handled"); line != nil {
					line.Write(callFields(ctx, c, zap.Int("attempt", c.Attempt))...)
				}
				return err
			}
			log.Warn("handler failed", callFields(ctx, c, zap.Int("attempt", c.Attempt),
				zap.Bool("permanent", IsPermanent(err)), zap.Error(err))...)
			return err
		}
	}
}

// callFields describe c's record in a log line.
func callFields(ctx context.Context, c *Call, extra ...zap.Field) []zap.Field {
	return append([]zap.Field{
		logging.CorrelationID(c.CorrelationID),
		tracing.LogFields(ctx),
		zap.String("route", c.Route),
		logging.Topic(c.Record.Topic),
		zap.Int32("partition", c.Record.Partition),
		zap.Int64("offset", c.Record.Offset),
		logging.Operation(logging.OperationSubscribe),
	}, extra...)
}

// RecoverPanics turns a panicking call into a permanent error, so that one bad record
// cannot take the worker down; the stack goes into the error.
func RecoverPanics() Middleware {
	return func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = Permanent(fmt.Errorf("handler panicked: %v\n%s", p, truncateStack(debug.Stack())))
				}
			}()
			return next(ctx, c)
		}
	}
}

func truncateStack(b []byte) string {
	const limit = 4096
	if len(b) > limit {
		return string(b[:limit]) + "... (" + strconv.Itoa(len(b)-limit) + " more bytes)"
	}
	return string(b)
}
