// Command worker answers the requests on the in-topic with replies on the out-topic
// (or their reply_to topic), dead-letters what it cannot decode, and serves its probes
// and metrics.
package main

import (
	"context"

	"go.uber.org/zap"

	_ "github.com/streamgate/streamgate/pkg/platform/profiling" // pprof in -tags pprof builds only
	"github.com/streamgate/streamgate/pkg/platform/service"
	"github.com/streamgate/streamgate/services/worker/config"
	"github.com/streamgate/streamgate/services/worker/worker"
)

func main() {
	cfg, err := config.Load()
	if err == nil {
		err = service.Run("worker", cfg.Common, func(ctx context.Context, log *zap.Logger) error {
			return worker.Run(ctx, cfg, log)
		})
	}
	service.Exit("worker", err)
}
