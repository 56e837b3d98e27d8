package service

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/config"
)

func TestRunPassesLoggerAndResult(t *testing.T) {
	want := errors.New("done")
	got := Run("svc", config.Common{LogLevel: "info", LogFormat: "json", AppVersion: "1"},
		func(ctx context.Context, log *zap.Logger) error {
			if log == nil || ctx.Err() != nil {
				t.Fatal("fn got no logger or a cancelled context")
			}
			return want
		})
	if !errors.Is(got, want) {
		t.Fatalf("Run = %v, want fn's error", got)
	}
}

func TestRunRejectsBadLogSettings(t *testing.T) {
	called := false
	err := Run("svc", config.Common{LogLevel: "loud", LogFormat: "json"}, func(context.Context, *zap.Logger) error {
		called = true
		return nil
	})
	if err == nil || called {
		t.Fatalf("Run = %v, called = %v; want an error before fn runs", err, called)
	}
}
