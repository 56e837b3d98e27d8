// Package httpserver runs an http.Server for the life of a context and stops it
// gracefully.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Limits of every server New builds.
const (
	// MaxHeaderBytes bounds a request's headers: Go's default (1 MiB) times the
	// requests a gateway holds while they wait for replies exceeds the chart's memory
	// limit; 32 KiB is more than any browser or proxy sends.
	MaxHeaderBytes = 32 << 10
	// WriteTimeout bounds a request from its headers' arrival to the last byte of the
	// answer. Handlers that wait (a reply) must answer before it, or the client gets an
	// empty reply: see Deadline.
	WriteTimeout = 35 * time.Second
)

// New returns a server with timeouts that protect it from slow clients and a bound on
// header size. Handlers can read when a request arrived with Started.
func New(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           stampArrival(handler),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// Option changes how Run serves.
type Option func(*runOptions)

type runOptions struct{ maxConnections int }

// MaxConnections bounds the connections open at once (0: no bound). One more is answered
// 503 with Retry-After (GET /healthz: 200) and closed. Kept-alive connections keep their
// slot until IdleTimeout: closing them when full only trades requests for reconnections
// (measured: throughput fell by two thirds).
func MaxConnections(n int) Option { return func(o *runOptions) { o.maxConnections = n } }

// Run listens on srv.Addr and serves until ctx is done, then lets in-flight requests
// finish for at most shutdownTimeout. started, if not nil, is called with the bound
// address once the listener is open.
func Run(ctx context.Context, srv *http.Server, shutdownTimeout time.Duration, started func(net.Addr), opts ...Option) error {
	var o runOptions
	for _, opt := range opts {
		opt(&o)
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("httpserver: listen on %s: %w", srv.Addr, err)
	}
	if o.maxConnections > 0 {
		ln = newLimitListener(ln, o.maxConnections)
	}
	if started != nil {
		started(ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("httpserver: serve on %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Closing the connections left cancels their requests' contexts, so handlers
		// still waiting (a POST /v1/requests for its reply) stop too.
		return errors.Join(fmt.Errorf("httpserver: graceful shutdown: %w", err), srv.Close())
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpserver: serve on %s: %w", srv.Addr, err)
	}
	return nil
}
