package orders

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/router"
)

// stubInventory answers every Reserve with err.
type stubInventory struct{ err error }

func (s stubInventory) Reserve(context.Context, OrderReq) error { return s.err }

func message(order OrderReq, attempt int) router.Message[OrderReq] {
	return router.Message[OrderReq]{Body: order, Attempt: attempt, Topic: "orders"}
}

var validOrder = OrderReq{OrderID: "o-1", CustomerID: "c-1", SKU: "book", Quantity: 2}

func TestHandleClassifiesTheInventorysErrors(t *testing.T) {
	tests := []struct {
		name      string
		order     OrderReq
		inventory error
		want      OrderRes
		permanent bool
		fails     bool
	}{
		{"reserved", validOrder, nil, OrderRes{OrderID: "o-1", Status: StatusCompleted, Attempts: 3}, false, false},
		{"unavailable", validOrder, ErrInventoryUnavailable, OrderRes{}, false, true},
		{"other error", validOrder, errors.New("connection reset"), OrderRes{}, false, true},
		{"out of stock", validOrder, ErrOutOfStock, OrderRes{}, true, true},
		{"invalid", OrderReq{OrderID: "o-1", SKU: "book", Quantity: 0}, nil, OrderRes{}, true, true},
	}
	for _, tt := range tests {
		got, err := Handler{Inventory: stubInventory{tt.inventory}}.Handle(context.Background(), message(tt.order, 3))
		if (err != nil) != tt.fails || router.IsPermanent(err) != tt.permanent || got != tt.want {
			t.Errorf("%s: Handle = %+v, %v (permanent %v); want %+v, fails %v, permanent %v",
				tt.name, got, err, router.IsPermanent(err), tt.want, tt.fails, tt.permanent)
		}
	}
}

func TestFailedRepliesWithTheReason(t *testing.T) {
	got, err := Handler{}.Failed(context.Background(), message(validOrder, 4), ErrInventoryUnavailable)
	if err != nil || got != (OrderRes{OrderID: "o-1", Status: StatusFailed, Reason: ErrInventoryUnavailable.Error(), Attempts: 4}) {
		t.Fatalf("Failed = %+v, %v", got, err)
	}
}

func TestSimulatedInventory(t *testing.T) {
	inv := &SimulatedInventory{Latency: 5 * time.Millisecond}
	ctx := context.Background()
	start := time.Now()
	if err := inv.Reserve(ctx, validOrder); err != nil {
		t.Fatalf("plain SKU: %v", err)
	}
	if took := time.Since(start); took < 5*time.Millisecond {
		t.Errorf("Reserve took %v, want at least the latency", took)
	}
	if err := inv.Reserve(ctx, OrderReq{OrderID: "o-2", SKU: SoldOutPrefix + "x"}); !errors.Is(err, ErrOutOfStock) {
		t.Errorf("sold-out SKU: %v", err)
	}
	flaky := OrderReq{OrderID: "o-3", SKU: FlakyPrefix + "x"}
	if err := inv.Reserve(ctx, flaky); !errors.Is(err, ErrInventoryUnavailable) {
		t.Errorf("flaky SKU, first call: %v", err)
	}
	if err := inv.Reserve(ctx, flaky); err != nil {
		t.Errorf("flaky SKU, second call: %v", err)
	}
	always := &SimulatedInventory{TransientRate: 1}
	if err := always.Reserve(ctx, validOrder); !errors.Is(err, ErrInventoryUnavailable) {
		t.Errorf("rate 1: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := (&SimulatedInventory{Latency: time.Hour}).Reserve(cancelled, validOrder); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestTopicsFromEnv(t *testing.T) {
	env := map[string]string{"ORDERS_TOPIC": "shop.orders"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := TopicsFromEnv(lookup)
	if err != nil || got != (Topics{Orders: "shop.orders", Results: "orders.results", DeadLetter: "orders.dlq"}) {
		t.Fatalf("TopicsFromEnv = %+v, %v", got, err)
	}
	env["ORDERS_RESULTS_TOPIC"] = "bad topic"
	if _, err := TopicsFromEnv(lookup); err == nil || !strings.Contains(err.Error(), "ORDERS_RESULTS_TOPIC") {
		t.Fatalf("bad topic: %v, want an error naming ORDERS_RESULTS_TOPIC", err)
	}
}

func TestRouteRegisters(t *testing.T) {
	r := router.New(router.Config{})
	if err := router.Register(r, Route(DefaultTopics, Handler{Inventory: stubInventory{}})); err != nil {
		t.Fatal(err)
	}
	if got := r.Topics(); len(got) != 1 || got[0] != "orders" {
		t.Errorf("Topics = %v", got)
	}
}
