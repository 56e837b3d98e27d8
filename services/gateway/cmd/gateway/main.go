// Command gateway serves the HTTP API (GET /v1/ping, POST /v1/requests and their
// documents) and publishes each request to Kafka for the worker.
package main

import (
	_ "github.com/streamgate/streamgate/pkg/platform/profiling" // pprof in -tags pprof builds only
	"github.com/streamgate/streamgate/services/gateway/gatewayapp"
)

func main() {
	gatewayapp.Main(gatewayapp.SampleEndpoints)
}
