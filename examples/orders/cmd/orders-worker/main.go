// Command orders-worker handles the orders flow: each order reserves stock at the
// (simulated) inventory service and gets a Completed or Failed result.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/streamgate/streamgate/examples/orders"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/worker/workerapp"
)

// transientRate is the share of inventory calls that fail transiently, to show retries.
const transientRate = "ORDERS_TRANSIENT_FAILURE_RATE"

func main() {
	topics, err := orders.TopicsFromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders-worker:", err)
		os.Exit(1)
	}
	inventory, err := simulatedInventory()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders-worker:", err)
		os.Exit(1)
	}
	workerapp.Main(func(r *router.Router, _ workerapp.Config) error {
		return router.Register(r, orders.Route(topics, orders.Handler{Inventory: inventory}))
	})
}

// simulatedInventory is the stand-in for the stock service: 20 ms a call, failing
// transiently at ORDERS_TRANSIENT_FAILURE_RATE (default 0.1).
func simulatedInventory() (*orders.SimulatedInventory, error) {
	rate := 0.1
	if s, ok := os.LookupEnv(transientRate); ok {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("invalid configuration: %s=%q: want a number from 0 to 1", transientRate, s)
		}
		rate = r
	}
	return &orders.SimulatedInventory{Latency: 20 * time.Millisecond, TransientRate: rate}, nil
}
