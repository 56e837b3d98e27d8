package worker

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/worker/config"
	"github.com/streamgate/streamgate/services/worker/metrics"
)

// telemetry is the worker's metrics and tracing.
type telemetry struct {
	metrics *metrics.Metrics
	tracing *tracing.Tracing
}

func newTelemetry(ctx context.Context, cfg config.Config, getenv func(string) (string, bool), log *zap.Logger) (telemetry, error) {
	m, err := metrics.New(cfg.AppVersion)
	if err != nil {
		return telemetry{}, fmt.Errorf("worker: %w", err)
	}
	m.Topics(cfg.InTopic, cfg.OutTopic, cfg.DLQTopic)
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
