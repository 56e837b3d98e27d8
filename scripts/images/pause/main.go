// Command pause is the pod sandbox process of the local test cluster (the
// upstream registry.k8s.io/pause cannot be pulled there): it holds the pod's
// namespaces, reaps nothing and exits on SIGINT or SIGTERM.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
