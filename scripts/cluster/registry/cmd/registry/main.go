// Command registry is an in-memory OCI registry (go-containerregistry's) on
// the local test cluster's node: skaffold pushes there, containerd pulls from
// it over plain HTTP. Its images live as long as the cluster.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "listen address")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           registry.New(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("serving on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
