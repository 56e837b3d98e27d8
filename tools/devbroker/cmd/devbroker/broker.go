package main

import (
	"fmt"
	"io"
	"net"

	"github.com/twmb/franz-go/pkg/kfake"
)

// broker is a running single-node kfake cluster.
type broker struct {
	cluster *kfake.Cluster
}

// startBroker starts a one-broker cluster on cfg's address with cfg's
// topics created. kfake coordinates consumer groups (JoinGroup, SyncGroup,
// offset commits), so sarama's ConsumerGroup works against it.
func startBroker(cfg config, logOutput io.Writer) (*broker, error) {
	c, err := kfake.NewCluster(
		kfake.Ports(cfg.port), // one port, so one broker
		kfake.ListenFn(listenOn(cfg.host)),
		kfake.SeedTopics(cfg.partitions, cfg.topics...),
		kfake.ClusterID("streamgate-devbroker"),
		kfake.WithLogger(kfake.BasicLogger(logOutput, cfg.logLevel)),
	)
	if err != nil {
		return nil, fmt.Errorf("start kfake on %s: %w", net.JoinHostPort(cfg.host, fmt.Sprint(cfg.port)), err)
	}
	return &broker{cluster: c}, nil
}

// listenOn returns a kfake.ListenFn that binds host instead of the
// 127.0.0.1 kfake always asks for, keeping the port it chose.
func listenOn(host string) func(network, address string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("kfake listen address %q: %w", address, err)
		}
		return net.Listen(network, net.JoinHostPort(host, port))
	}
}

// Addr is the host:port clients connect to.
func (b *broker) Addr() string {
	return b.cluster.ListenAddrs()[0]
}

// Close stops the broker and drops its data.
func (b *broker) Close() {
	b.cluster.Close()
}
