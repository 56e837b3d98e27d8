package workerapp

import (
	"net/http"

	"github.com/streamgate/streamgate/pkg/platform/probe"
)

// probes routes the liveness and readiness endpoints; anything else is a JSON 404, as
// on the gateway.
func probes(ready *probe.Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", probe.Healthz)
	mux.Handle("/readyz", ready)
	mux.HandleFunc("/", probe.NotFound)
	return mux
}
