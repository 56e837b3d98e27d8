// Command orders-gateway serves the orders flow's HTTP API: POST /v1/orders and
// POST /v1/orders/sync, with the gateway's probes, metrics and tracing.
package main

import (
	"fmt"
	"os"

	"github.com/streamgate/streamgate/examples/orders"
	"github.com/streamgate/streamgate/services/gateway/gatewayapp"
)

func main() {
	topics, err := orders.TopicsFromEnv(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "orders-gateway:", err)
		os.Exit(1)
	}
	gatewayapp.Main(orders.Endpoints(topics))
}
