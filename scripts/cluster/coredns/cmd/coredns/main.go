// Command coredns is CoreDNS with only the plugins the local test cluster's
// Corefile uses: the full plugin set doubles the build time and pulls in
// every cloud SDK.
package main

import (
	"github.com/coredns/coredns/coremain"

	// Plugins, each registering itself with the server.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
