package middleware

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestAccessLogLevels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		all    bool
		path   string
		status int
		want   zapcore.Level
	}{
		{"success is debug", false, "/ok", http.StatusOK, zap.DebugLevel},
		{"success is info with ACCESS_LOG=all", true, "/ok", http.StatusOK, zap.InfoLevel},
		{"a client error is info", false, "/fail", http.StatusBadRequest, zap.InfoLevel},
		{"a server error is info", false, "/fail", http.StatusInternalServerError, zap.InfoLevel},
		{"a probe is debug even failing and with all", true, "/healthz", http.StatusServiceUnavailable, zap.DebugLevel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			r := newRouter(Correlation(), AccessLog(zap.New(core), tc.all, "/healthz"))
			r.GET(tc.path, func(c *gin.Context) { c.Status(tc.status) })
			rec := serve(t, r, http.MethodGet, tc.path, HeaderCorrelationID, "log-1")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			lines := logs.FilterMessage("request").All()
			if len(lines) != 1 {
				t.Fatalf("%d request lines, want 1", len(lines))
			}
			if lines[0].Level != tc.want {
				t.Errorf("logged at %s, want %s", lines[0].Level, tc.want)
			}
			f := lines[0].ContextMap()
			if f["method"] != "GET" || f["path"] != tc.path || f["status"] != int64(tc.status) || f["correlation_id"] != "log-1" || f["client_ip"] != "192.0.2.1" {
				t.Errorf("fields %v", f)
			}
			if d, ok := f["duration_ms"].(float64); !ok || d < 0 {
				t.Errorf("duration_ms %v", f["duration_ms"])
			}
		})
	}
}

// At info level a successful request writes nothing; an error still does.
func TestAccessLogAtInfoDropsSuccess(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	r := newRouter(AccessLog(zap.New(core), false))
	r.GET("/ok", func(c *gin.Context) { c.Status(http.StatusOK) })
	serve(t, r, http.MethodGet, "/ok")
	if n := logs.Len(); n != 0 {
		t.Fatalf("%d lines for a success at info level, want 0", n)
	}
	serve(t, r, http.MethodGet, "/missing")
	if n := logs.FilterField(zap.Int("status", http.StatusNotFound)).Len(); n != 1 {
		t.Fatalf("%d lines for a 404, want 1", n)
	}
}
