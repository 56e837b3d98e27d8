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

	"go.uber.org/zap"
)

// ErrShuttingDown is the readiness error once Drain was called.
var ErrShuttingDown = errors.New("shutting down")

// ErrNotChecked is the readiness error before the first check.
var ErrNotChecked = errors.New("not checked yet")

// Readiness records whether the service is ready. The zero value is not ready.
type Readiness struct {
	// Changed, if set, learns each new outcome (nil once ready again), so the reason the
	// public /readyz hides is logged once per change, not once per check.
	Changed func(err error)

	mu       sync.Mutex
	err      error
	checked  bool
	draining bool
}

// Set records the outcome of a dependency check: nil means ready.
func (r *Readiness) Set(err error) {
	r.mu.Lock()
	changed := !r.checked || errText(err) != errText(r.err)
	r.err, r.checked = err, true
	r.mu.Unlock()
	if changed && r.Changed != nil {
		r.Changed(err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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

// ServeHTTP answers 200 when ready and 503 otherwise, without the reason: on a public
// port a reason tells anyone broker addresses, user names and certificate paths. The
// reason is in the logs and on the private port (Reasons).
func (r *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if r.Err() != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// ReasonsPath is where a private server (the metrics port) mounts Reasons.
const ReasonsPath = "/readyz"

// Reasons answers as ServeHTTP does, with the reason when not ready; for private ports only.
func (r *Readiness) Reasons() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := r.Err(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
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

// LogChanges is a Readiness.Changed that logs each change: the reason at warn, the
// return to ready at info.
func LogChanges(log *zap.Logger) func(error) {
	return func(err error) {
		if err != nil {
			log.Warn("not ready", zap.Error(err))
			return
		}
		log.Info("ready")
	}
}
