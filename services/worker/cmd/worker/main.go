// Command worker answers the requests on the in-topic with replies on the out-topic
// (or their allowed reply_to topic), dead-letters what it cannot decode, and serves its
// probes and metrics.
package main

import (
	_ "github.com/streamgate/streamgate/pkg/platform/profiling" // pprof in -tags pprof builds only
	"github.com/streamgate/streamgate/services/worker/ping"
	"github.com/streamgate/streamgate/services/worker/workerapp"
)

func main() {
	workerapp.Main(ping.Register)
}
