// Command gateway serves GET /v1/ping and publishes each call to Kafka for the worker.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/services/gateway/config"
	"github.com/streamgate/streamgate/services/gateway/internal/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	logger, err := logging.New(logging.Options{
		Level: cfg.LogLevel, Format: cfg.LogFormat, Service: "gateway", Version: cfg.AppVersion,
	})
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return app.Run(ctx, cfg, logger)
}
