// Command worker answers the requests on the in-topic with replies on the out-topic and
// serves its health probes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/services/worker/config"
	"github.com/streamgate/streamgate/services/worker/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log, err := logging.New(logging.Options{
		Level: cfg.LogLevel, Format: cfg.LogFormat, Service: "worker", Version: cfg.AppVersion,
	})
	if err != nil {
		return err
	}
	// Sync on a terminal or pipe can fail harmlessly; there is nowhere to report it.
	defer func() { _ = log.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return worker.Run(ctx, cfg, log)
}
