package router

import "errors"

// Error classes. A handler's error decides what happens next:
//   - Permanent(err): no retry; the route's OnExhausted builds the reply, else the
//     record is dead-lettered with reason "handler_permanent".
//   - Retryable(err) and unclassified errors: retried with backoff up to
//     Retry.MaxAttempts, then OnExhausted, else dead-lettered with reason
//     "retries_exhausted". Unclassified errors retry because a transient failure
//     (a timeout, a refused connection) is the common case and a retry is cheap; mark
//     what can never succeed Permanent.
//   - A context deadline from Route.Timeout is retryable; the router's own
//     cancellation (shutdown, revocation) ends the call without a retry or an output,
//     and the record is redelivered to whoever owns the partition next.

// Retryable marks err as worth another attempt. Retryable(nil) is nil.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, permanent: false}
}

// Permanent marks err as one no retry can fix. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, permanent: true}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent (and not
// re-marked Retryable further out).
func IsPermanent(err error) bool {
	var c *classified
	return errors.As(err, &c) && c.permanent
}

type classified struct {
	err       error
	permanent bool
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// DecodeError is what a handler call fails with when the route's Request codec cannot
// read the record; it is permanent.
type DecodeError struct{ Err error }

func (e *DecodeError) Error() string { return "decode: " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

var (
	errNoRoutes      = errors.New("router: no routes registered")
	errUnroutedTopic = errors.New("router: claim of a topic without a route")
)
