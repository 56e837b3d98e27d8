// Command etcd is etcd's own server main, pinned by this module's go.mod for
// the local test cluster (the etcd repository's main module cannot be
// installed with go install: its go.mod has replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
