// Package probe serves the Kubernetes liveness and readiness endpoints.
//
// Liveness (/healthz) only says the process answers. Readiness (/readyz) says whether the
// service should get work now: its dependency check passed recently and it is not
// shutting down.
package probe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// ErrShuttingDown is the readiness error once Drain was called.
var ErrShuttingDown = errors.New("shutting down")

// ErrNotChecked is the readiness error before the first check.
var ErrNotChecked = errors.New("not checked yet")

// Readiness records whether the service is ready. The zero value is not ready.
type Readiness struct {
	mu       sync.Mutex
	err      error
	checked  bool
	draining bool
}

// Set records the outcome of a dependency check: nil means ready.
func (r *Readiness) Set(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err, r.checked = err, true
}

// Drain marks the service as shutting down; it stays not ready from then on, so load
// balancers stop sending work before the server stops.
func (r *Readiness) Drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining = true
}

// Err returns nil when ready and the reason otherwise.
func (r *Readiness) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.draining:
		return ErrShuttingDown
	case !r.checked:
		return ErrNotChecked
	default:
		return r.err
	}
}

// Poll runs check now and then every interval, recording each outcome, until ctx is done.
func (r *Readiness) Poll(ctx context.Context, interval time.Duration, check func() error) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		r.Set(check())
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Healthz answers 200 while the process can serve HTTP at all.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ServeHTTP answers 200 when ready and 503 with the reason otherwise.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if err := r.Err(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// NotFound answers 404 with FastAPI's error shape, for any other path on a probe server.
func NotFound(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The client may have gone; there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(body)
}
