package worker

import (
	"encoding/json"
	"net/http"

	"github.com/streamgate/streamgate/pkg/platform/probe"
)

// probes routes the liveness and readiness endpoints; anything else is a JSON 404, as
// on the gateway.
func probes(ready *probe.Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", probe.Healthz)
	mux.Handle("/readyz", ready)
	mux.HandleFunc("/", notFound)
	return mux
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	// The client may have gone; there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": "Not Found"})
}
