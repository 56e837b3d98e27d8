package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

// config is what the command line asks for.
type config struct {
	host       string // literal address clients dial; kfake advertises it
	port       int    // 0 picks a free port
	topics     []string
	partitions int32
	logLevel   kfake.LogLevel
}

// defaultTopics are the topics the services and examples/orders use with their default
// settings, so that `make run` needs none created by hand: the ping flow's requests,
// replies, dead letters and request/reply answers (read by the gateway for
// POST /v1/requests), and the orders flow's requests, results and dead letters.
var defaultTopics = []string{
	"in-topic", "out-topic", "in-topic.dlq", "in-topic.replies",
	"orders", "orders.results", "orders.dlq",
}

// maxPartitions keeps a typo from allocating a huge in-memory cluster.
const maxPartitions = 1000

// topicName is Kafka's rule for legal topic names.
var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

var logLevels = map[string]kfake.LogLevel{
	"none":  kfake.LogLevelNone,
	"error": kfake.LogLevelError,
	"warn":  kfake.LogLevelWarn,
	"info":  kfake.LogLevelInfo,
	"debug": kfake.LogLevelDebug,
}

// parseConfig parses and checks the command line. Usage and flag errors go
// to output; -h yields flag.ErrHelp.
func parseConfig(args []string, output io.Writer) (config, error) {
	fs := flag.NewFlagSet("devbroker", flag.ContinueOnError)
	fs.SetOutput(output)
	addr := fs.String("addr", "127.0.0.1:9092", "`host:port` to listen on and advertise to clients; port 0 picks a free one")
	topics := fs.String("topics", strings.Join(defaultTopics, ","), "comma-separated `topics` to create at start")
	partitions := fs.Int("partitions", 3, "partitions per created topic")
	logLevel := fs.String("log-level", "none", "kfake log `level` on stderr: none, error, warn, info or debug")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var cfg config
	var err error
	if cfg.host, cfg.port, err = parseAddr(*addr); err != nil {
		return config{}, err
	}
	if cfg.topics, err = parseTopics(*topics); err != nil {
		return config{}, err
	}
	if *partitions < 1 || *partitions > maxPartitions {
		return config{}, fmt.Errorf("-partitions must be between 1 and %d, got %d", maxPartitions, *partitions)
	}
	cfg.partitions = int32(*partitions)
	var ok bool
	if cfg.logLevel, ok = logLevels[strings.ToLower(*logLevel)]; !ok {
		return config{}, fmt.Errorf("-log-level must be none, error, warn, info or debug, got %q", *logLevel)
	}
	return cfg, nil
}

// parseAddr splits addr into a host clients can dial and a port.
func parseAddr(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("-addr: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("-addr: port %q is not a number from 0 to 65535", portText)
	}
	// Clients learn the broker's address from metadata, and kfake
	// advertises the address it listens on: a wildcard would send them
	// to 0.0.0.0.
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "", 0, fmt.Errorf("-addr: host must be one clients can dial, such as 127.0.0.1, not %q", host)
	}
	return host, port, nil
}

// parseTopics splits a comma-separated list of topic names.
func parseTopics(list string) ([]string, error) {
	var topics []string
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if !topicName.MatchString(t) || t == "." || t == ".." {
			return nil, fmt.Errorf("-topics: %q is not a valid Kafka topic name", t)
		}
		topics = append(topics, t)
	}
	return topics, nil
}

// topicList is the topics as given, for the startup line.
func (c config) topicList() string {
	return strings.Join(c.topics, ",")
}
