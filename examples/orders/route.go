package orders

import (
	"time"

	"github.com/streamgate/streamgate/pkg/router"
)

// Route is the flow's subscription: orders in, results out, each customer's orders
// handled in order (the key), 64 at a time per partition.
func Route(topics Topics, h Handler) router.Route[OrderReq, OrderRes] {
	return router.Route[OrderReq, OrderRes]{
		Name:            "orders",
		Topic:           topics.Orders,
		ReplyTopic:      topics.Results,
		DeadLetterTopic: topics.DeadLetter,
		Handler:         h.Handle,
		OnExhausted:     h.Failed,
		Concurrency:     64,
		Retry:           router.Retry{MaxAttempts: 4, MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second},
		Timeout:         2 * time.Second,
		// Results always go to the results topic, whatever a record's reply_to says.
		ReplyTo: router.ReplyToPolicy{Ignore: true},
	}
}
