//go:build pprof

package profiling

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// The listener lives as long as the process: it is a benchmark's probe, not part of
// the service, so it has no shutdown.
func init() {
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
