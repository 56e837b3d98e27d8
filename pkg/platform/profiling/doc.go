// Package profiling serves net/http/pprof on PPROF_ADDR, but only in a build with
// -tags pprof (the benchmark's profiling build). Services import it for its side
// effect; a release build links nothing of it and opens no listener.
package profiling
