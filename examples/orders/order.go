// Package orders is a second flow on the streamgate engine, proving the template: an
// order (OrderReq) published by a gateway endpoint to the orders topic, handled by a
// worker route that reserves stock at another service, answered with an OrderRes on
// orders.results. Nothing in pkg/ or services/ knows about it. docs/make-it-yours.md
// walks through it.
package orders

import (
	"errors"
	"fmt"
)

// OrderReq asks for Quantity of SKU for a customer.
type OrderReq struct {
	OrderID    string `json:"order_id"` // set by the gateway
	CustomerID string `json:"customer_id"`
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
}

// Status is an order's outcome.
type Status string

// Values of Status.
const (
	StatusCompleted Status = "Completed"
	StatusFailed    Status = "Failed"
)

// OrderRes is an order's outcome, published on the results topic.
type OrderRes struct {
	OrderID string `json:"order_id"`
	Status  Status `json:"status"`
	// Reason says why an order Failed.
	Reason string `json:"reason,omitempty"`
	// Attempts is how many calls the handler needed (retries of transient failures).
	Attempts int `json:"attempts"`
}

// MaxQuantity bounds an order's quantity.
const MaxQuantity = 1000

// maxField bounds the text fields, so that no order can make a record huge.
const maxField = 128

// Validate checks what the gateway accepts and the worker trusts.
func (o OrderReq) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{{"order_id", o.OrderID}, {"customer_id", o.CustomerID}, {"sku", o.SKU}} {
		if f.value == "" || len(f.value) > maxField {
			errs = append(errs, fmt.Errorf("%s: want 1 to %d characters", f.name, maxField))
		}
	}
	if o.Quantity < 1 || o.Quantity > MaxQuantity {
		errs = append(errs, fmt.Errorf("quantity: want 1 to %d, got %d", MaxQuantity, o.Quantity))
	}
	return errors.Join(errs...)
}
