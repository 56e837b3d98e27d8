// Package service is the body of a streamgate service's main: logger, signal handling
// and the process exit status.
package service

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// Run builds the logger from the common settings, sets the Go runtime's soft memory
// limit under the container's (memlimit.go) and runs fn until SIGINT or SIGTERM
// cancels its context; fn is expected to shut down gracefully then.
func Run(name string, common config.Common, fn func(ctx context.Context, log *zap.Logger) error) error {
	log, err := logging.New(logging.Options{
		Level: common.LogLevel, Format: common.LogFormat, Service: name, Version: common.AppVersion,
	})
	if err != nil {
		return err
	}
	// Sync on a terminal or pipe can fail harmlessly; there is nowhere to report it.
	defer func() { _ = log.Sync() }()
	if err := setSoftMemoryLimit(log, memlimit.FromCgroup); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one kills the process as usual: a way out of a
	// shutdown that hangs.
	context.AfterFunc(ctx, stop)
	return fn(ctx, log)
}

// Exit ends the process: status 0 when err is nil, otherwise "name: err" on standard
// error and status 1.
func Exit(name string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}
