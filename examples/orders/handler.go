package orders

import (
	"context"
	"errors"

	"github.com/streamgate/streamgate/pkg/router"
)

// Handler handles orders; it holds its dependency.
type Handler struct {
	Inventory Inventory
}

// Handle reserves the order's stock. The router retries what is not Permanent, and
// calls Failed for what is, or once the retries run out. Under at-least-once delivery
// an order may be handled twice (a crash before the commit): a real Reserve must be
// idempotent per OrderID.
func (h Handler) Handle(ctx context.Context, msg router.Message[OrderReq]) (OrderRes, error) {
	if err := msg.Body.Validate(); err != nil {
		return OrderRes{}, router.Permanent(err)
	}
	if err := h.Inventory.Reserve(ctx, msg.Body); err != nil {
		if errors.Is(err, ErrOutOfStock) {
			return OrderRes{}, router.Permanent(err)
		}
		return OrderRes{}, router.Retryable(err)
	}
	return OrderRes{OrderID: msg.Body.OrderID, Status: StatusCompleted, Attempts: msg.Attempt}, nil
}

// Failed is the reply to an order that cannot be completed: the route's OnExhausted.
func (h Handler) Failed(_ context.Context, msg router.Message[OrderReq], err error) (OrderRes, error) {
	return OrderRes{OrderID: msg.Body.OrderID, Status: StatusFailed, Reason: err.Error(), Attempts: msg.Attempt}, nil
}
