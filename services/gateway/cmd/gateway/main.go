// Command gateway serves the HTTP API (GET /v1/ping, POST /v1/requests and their
// documents) and publishes each request to Kafka for the worker.
package main

import (
	"context"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	_ "github.com/streamgate/streamgate/pkg/platform/profiling" // pprof in -tags pprof builds only
	"github.com/streamgate/streamgate/pkg/platform/service"
	"github.com/streamgate/streamgate/services/gateway/config"
	"github.com/streamgate/streamgate/services/gateway/internal/app"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	cfg, err := config.Load()
	if err == nil {
		err = service.Run("gateway", cfg.Common, func(ctx context.Context, log *zap.Logger) error {
			return app.Run(ctx, cfg, log)
		})
	}
	service.Exit("gateway", err)
}
