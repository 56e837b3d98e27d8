package workerapp

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/pkg/router"
)

// telemetry is the worker's metrics and tracing.
type telemetry struct {
	metrics *router.Metrics
	tracing *tracing.Tracing
}

func newTelemetry(ctx context.Context, cfg Config, getenv func(string) (string, bool), log *zap.Logger) (telemetry, error) {
	m, err := router.NewMetrics("worker", cfg.AppVersion)
	if err != nil {
		return telemetry{}, fmt.Errorf("worker: %w", err)
	}
	tr, err := tracing.Setup(ctx, tracing.Options{Service: "worker", Version: cfg.AppVersion, Getenv: getenv, Log: log})
	if err != nil {
		return telemetry{}, fmt.Errorf("worker: %w", err)
	}
	return telemetry{metrics: m, tracing: tr}, nil
}

// flush exports the spans still buffered, for at most timeout.
func (t telemetry) flush(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	return t.tracing.Shutdown(ctx)
}
