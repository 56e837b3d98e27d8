package middleware

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A panicking handler answers a JSON 500 without internals and is logged with
// its correlation ID and stack; the process carries on.
func TestRecoveryAnswers500(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	r := newRouter(Correlation(), Recovery(zap.New(core)))
	r.GET("/boom", func(*gin.Context) { panic("secret internal state") })
	r.GET("/ok", func(c *gin.Context) { c.Status(http.StatusOK) })

	rec := serve(t, r, http.MethodGet, "/boom", HeaderCorrelationID, "panic-1")
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != `{"detail":"Internal Server Error"}` {
		t.Fatalf("%d %s, want 500 {\"detail\":\"Internal Server Error\"}", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Fatal("the panic value reached the client")
	}
	lines := logs.FilterMessage("panic while handling request").All()
	if len(lines) != 1 || lines[0].Level != zap.ErrorLevel {
		t.Fatalf("%d panic lines, want one at error level", len(lines))
	}
	f := lines[0].ContextMap()
	if f["correlation_id"] != "panic-1" || f["panic"] != "secret internal state" || !strings.Contains(f["stack"].(string), "recovery_test.go") {
		t.Errorf("panic line fields %v, want the correlation ID, the value and a stack through the handler", f)
	}
	if rec := serve(t, r, http.MethodGet, "/ok"); rec.Code != http.StatusOK {
		t.Fatalf("the next request: %d", rec.Code)
	}
}

// A handler that panics after writing keeps what it wrote: no JSON is
// appended to a body already on its way.
func TestRecoveryAfterWriteKeepsTheAnswer(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	r := newRouter(Recovery(zap.New(core)))
	r.GET("/half", func(c *gin.Context) {
		c.String(http.StatusOK, "partial")
		panic(errors.New("late"))
	})
	rec := serve(t, r, http.MethodGet, "/half")
	if rec.Code != http.StatusOK || rec.Body.String() != "partial" {
		t.Fatalf("%d %q, want the 200 partial already written", rec.Code, rec.Body)
	}
	if logs.FilterMessage("panic while handling request").Len() != 1 {
		t.Fatal("the late panic was not logged")
	}
}

// http.ErrAbortHandler is net/http's way to drop a connection: it passes
// through, unlogged.
func TestRecoveryLetsErrAbortHandlerThrough(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	r := newRouter(Recovery(zap.New(core)))
	r.GET("/abort", func(*gin.Context) { panic(http.ErrAbortHandler) })
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler to reach net/http", v)
		}
		if logs.Len() != 0 {
			t.Fatalf("%d lines logged for an abort, want 0", logs.Len())
		}
	}()
	serve(t, r, http.MethodGet, "/abort")
	t.Fatal("ServeHTTP returned: the abort was swallowed")
}
