// Command devbroker runs an in-memory Kafka broker (franz-go's kfake) on a
// TCP port, with streamgate's topics created, so that `make run` can demo
// the services without a real Kafka. The services reach it like any broker.
//
// It is a development tool only: nothing is persisted, and tests run
// against real Kafka, never against this.
//
// Usage:
//
//	devbroker [-addr 127.0.0.1:9092] [-topics in-topic,out-topic,...] [-partitions 3] [-log-level none]
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// Usage has been printed; asking for it is not a failure.
	case err != nil:
		fmt.Fprintf(os.Stderr, "devbroker: %v\n", err)
		os.Exit(1)
	}
}

// run serves a broker configured by args until ctx is done. It writes one
// line to stdout once clients can connect, and kfake's log, if enabled, to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	b, err := startBroker(cfg, stderr)
	if err != nil {
		return err
	}
	defer b.Close()

	fmt.Fprintf(stdout, "devbroker: Kafka (kfake, in-memory) listening on %s, topics %s\n", b.Addr(), cfg.topicList())
	<-ctx.Done()
	return nil
}
