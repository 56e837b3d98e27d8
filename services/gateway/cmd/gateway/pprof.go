//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// Only in the benchmark's profiling build (go build -tags pprof): net/http/pprof on
// PPROF_ADDR, for the life of the process. Release builds have no such listener.
func init() {
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
