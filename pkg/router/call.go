package router

import (
	"context"
	"fmt"

	"github.com/IBM/sarama"
)

// Call is one attempt at handling a record, as middleware sees it: untyped, like
// Watermill's router message.
type Call struct {
	// Route is the route's Name.
	Route  string
	Record *sarama.ConsumerMessage
	// CorrelationID is the record's correlation_id header; once the body is decoded,
	// the body's when the header has none.
	CorrelationID string
	// headerID is the header's bytes of CorrelationID, which the reply reuses.
	headerID []byte
	// Attempt is 1 on the first call of a record.
	Attempt int
	// Request is the decoded body once decoded (nil before, or when it could not be).
	Request any
	// Reply is the handler's result once the call succeeded.
	Reply any

	decoded   bool
	decodeErr error
	// replyValue and replyKey are the encoded reply; replyValue nil when none.
	replyValue []byte
	replyKey   string
}

// CallFunc handles one attempt; middleware wraps one.
type CallFunc func(ctx context.Context, call *Call) error

// Middleware wraps every call of the routes it applies to (Config.Middleware: all
// routes; Route.Middleware: one). It sees each attempt, retries included.
type Middleware func(next CallFunc) CallFunc

// chain wraps inner in mw, mw[0] outermost.
func chain(inner CallFunc, mw []Middleware) CallFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		inner = mw[i](inner)
	}
	return inner
}

// typedCall is the innermost CallFunc of a route: decode (once per record), call the
// handler, encode its reply.
func typedCall[Req, Res any](request Codec[Req], reply Codec[Res], h Handler[Req, Res]) CallFunc {
	return func(ctx context.Context, c *Call) error {
		req, err := decode(request, c)
		if err != nil {
			return err
		}
		res, err := h(ctx, message(c, req))
		if err != nil {
			return err
		}
		return encodeReply(reply, c, res)
	}
}

// typedExhausted runs a route's OnExhausted and encodes what it returns.
func typedExhausted[Req, Res any](request Codec[Req], reply Codec[Res],
	build func(context.Context, Message[Req], error) (Res, error),
) func(context.Context, *Call, error) error {
	return func(ctx context.Context, c *Call, cause error) error {
		req, err := decode(request, c)
		if err != nil {
			return err
		}
		res, err := build(ctx, message(c, req), cause)
		if err != nil {
			return err
		}
		return encodeReply(reply, c, res)
	}
}

// decode reads c's record with codec once; later attempts reuse the result.
func decode[Req any](codec Codec[Req], c *Call) (Req, error) {
	if !c.decoded {
		c.decoded = true
		req, err := codec.Decode(c.Record.Value)
		if err != nil {
			c.decodeErr = Permanent(&DecodeError{Err: err})
		} else {
			c.Request = req
			if c.CorrelationID == "" {
				c.CorrelationID = bodyCorrelationID(c.Request) // boxed once, above
			}
		}
	}
	if c.decodeErr != nil {
		var zero Req
		return zero, c.decodeErr
	}
	req, _ := c.Request.(Req) // the zero Req when the codec decoded a nil interface
	return req, nil
}

func message[Req any](c *Call, body Req) Message[Req] {
	r := c.Record
	return Message[Req]{
		Body: body, CorrelationID: c.CorrelationID, Key: r.Key, Headers: Headers(r.Headers),
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Attempt: c.Attempt,
	}
}

// EncodeError is what a call fails with when the route's Reply codec cannot encode the
// handler's result; it is permanent.
type EncodeError struct{ Err error }

func (e *EncodeError) Error() string { return "encode reply: " + e.Err.Error() }
func (e *EncodeError) Unwrap() error { return e.Err }

func encodeReply[Res any](codec Codec[Res], c *Call, res Res) error {
	b, err := codec.Encode(res)
	if err != nil {
		return Permanent(&EncodeError{Err: err})
	}
	if b == nil {
		b = []byte{} // a reply with an empty value is still a reply
	}
	c.Reply, c.replyValue = res, b
	c.replyKey = bodyCorrelationID(c.Reply) // boxed once, above
	if c.replyKey == "" {
		c.replyKey = c.CorrelationID
	}
	return nil
}

func bodyCorrelationID(body any) string {
	if b, ok := body.(Correlated); ok {
		return b.Correlation()
	}
	return ""
}

// String names the call in panics and errors.
func (c *Call) String() string {
	return fmt.Sprintf("%s %s/%d@%d attempt %d", c.Route, c.Record.Topic, c.Record.Partition, c.Record.Offset, c.Attempt)
}

// correlationIDBytes is CorrelationID as bytes: the record's header bytes when it is
// still the header's, so that a reply copies nothing.
func (c *Call) correlationIDBytes() []byte {
	if string(c.headerID) == c.CorrelationID {
		return c.headerID
	}
	return []byte(c.CorrelationID)
}
