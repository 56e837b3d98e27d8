package orders

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Errors of an Inventory: the handler retries the first kind and not the second.
var (
	ErrInventoryUnavailable = errors.New("inventory: service unavailable")
	ErrOutOfStock           = errors.New("inventory: out of stock")
)

// Inventory is the other service the orders handler depends on: a client of a stock
// service (an HTTP or gRPC client in a real system).
type Inventory interface {
	// Reserve reserves the order's quantity; ErrOutOfStock is final, any other error
	// may pass on a later try.
	Reserve(ctx context.Context, order OrderReq) error
}

// Prefixes of SKUs that make SimulatedInventory fail on purpose (tests, demos).
const (
	// SoldOutPrefix: always ErrOutOfStock.
	SoldOutPrefix = "sold-out-"
	// FlakyPrefix: ErrInventoryUnavailable on an order's first call, success after.
	FlakyPrefix = "flaky-"
)

// maxRemembered bounds the orders SimulatedInventory remembers for FlakyPrefix.
const maxRemembered = 10_000

// SimulatedInventory stands in for the stock service: each call takes Latency, fails
// with ErrInventoryUnavailable at TransientRate (0 to 1) and as the prefixes above say.
type SimulatedInventory struct {
	Latency       time.Duration
	TransientRate float64

	mu   sync.Mutex
	seen map[string]bool // orders of flaky SKUs called once
}

// Reserve waits Latency (or until ctx ends), then answers.
func (s *SimulatedInventory) Reserve(ctx context.Context, order OrderReq) error {
	timer := time.NewTimer(s.Latency)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("inventory: %w", ctx.Err())
	case <-timer.C:
	}
	switch {
	case strings.HasPrefix(order.SKU, SoldOutPrefix):
		return fmt.Errorf("%w: %s", ErrOutOfStock, order.SKU)
	case strings.HasPrefix(order.SKU, FlakyPrefix) && s.firstCall(order.OrderID):
		return ErrInventoryUnavailable
	case s.TransientRate > 0 && rand.Float64() < s.TransientRate:
		return ErrInventoryUnavailable
	}
	return nil
}

func (s *SimulatedInventory) firstCall(orderID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[orderID] {
		return false
	}
	if s.seen == nil || len(s.seen) >= maxRemembered {
		s.seen = make(map[string]bool)
	}
	s.seen[orderID] = true
	return true
}
