package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/metrics"
)

// recordingPublisher keeps the requests sent through it and fails with err when set.
type recordingPublisher struct {
	got       []messages.SampleReqMsg
	records   []gatewaykit.Record
	contextID string
	err       error
}

func (p *recordingPublisher) Send(ctx context.Context, rec gatewaykit.Record) error {
	msg, err := messages.DecodeRequest(rec.Value)
	if err != nil {
		return err
	}
	p.got = append(p.got, msg)
	p.records = append(p.records, rec)
	p.contextID = correlation.FromContext(ctx)
	return p.err
}

// sampleRouter is NewRouter serving the sample flow, whose records go to kit.
func sampleRouter(t testing.TB, deps Deps, sample Sample, kit *gatewaykit.Kit) *gin.Engine {
	t.Helper()
	sample.Logger, sample.InTopic = deps.Logger, "in-topic"
	deps.Endpoints = sample.Endpoints(kit)
	router, err := NewRouter(deps)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

var fixedNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func newTestRouter(t *testing.T, pub gatewaykit.Sender) (*gin.Engine, *observer.ObservedLogs, *probe.Readiness) {
	router, logs, readiness, _ := newObservedRouter(t, pub, tracing.Disabled())
	return router, logs, readiness
}

// newObservedRouter is newTestRouter with the metrics it records and the given tracing.
func newObservedRouter(t *testing.T, pub gatewaykit.Sender, tr *tracing.Tracing) (*gin.Engine, *observer.ObservedLogs, *probe.Readiness, *metrics.Metrics) {
	gin.SetMode(gin.TestMode)
	core, logs := observer.New(zap.DebugLevel)
	readiness := &probe.Readiness{}
	m, err := metrics.New("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	router := sampleRouter(t, Deps{
		Logger: zap.New(core), Readiness: readiness, Metrics: m, Tracing: tr,
		TrustIncomingTraceContext: true, // the tracing tests continue the client's trace; TestClientTraceContextIsDroppedUnlessTrusted checks the default
	}, Sample{Version: "1.2.3", Now: func() time.Time { return fixedNow }, AsyncAPI: []byte(`{"asyncapi":"3.0.0"}`)}, gatewaykit.NewKit(pub, nil))
	return router, logs, readiness, m
}

func get(router http.Handler, path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	return rec
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not a JSON object of strings: %v: %s", err, rec.Body)
	}
	return body
}

func TestPingPublishesAndAnswersPong(t *testing.T) {
	pub := &recordingPublisher{}
	router, logs, _ := newTestRouter(t, pub)

	rec := get(router, "/v1/ping", http.Header{"X-Correlation-Id": {"req-42"}})

	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := rec.Body.String(); got != `{"version":"1.2.3","message":"pong"}` {
		t.Errorf("body = %s", got)
	}
	if got := rec.Header().Get("X-Correlation-ID"); got != "req-42" {
		t.Errorf("echoed correlation ID = %q", got)
	}
	want := messages.NewRequest("req-42", "Send for in-topic", fixedNow)
	if len(pub.got) != 1 || !reflect.DeepEqual(pub.got[0], want) {
		t.Fatalf("published %+v, want %+v", pub.got, want)
	}
	if pub.contextID != "req-42" {
		t.Errorf("publisher's context carries %q", pub.contextID)
	}
	access := logs.FilterMessage("request").All()
	if len(access) != 1 {
		t.Fatalf("want one access log line, got %d", len(access))
	}
	fields := access[0].ContextMap()
	if fields["correlation_id"] != "req-42" || fields["path"] != "/v1/ping" || fields["status"] != int64(200) || fields["method"] != "GET" {
		t.Errorf("access log fields = %v", fields)
	}
	if _, ok := fields["duration_ms"].(float64); !ok {
		t.Errorf("access log lacks duration_ms: %v", fields)
	}
}

// TestAccessLogLevels: by default a successful request's line is at debug level (a
// gateway at info logs no line per pong) and an unsuccessful one's at info; with
// AccessLogAll every request is at info. Probes stay at debug.
func TestAccessLogLevels(t *testing.T) {
	for _, tt := range []struct {
		all                bool
		ok, notFound, fail zapcore.Level
	}{
		{false, zap.DebugLevel, zap.InfoLevel, zap.InfoLevel},
		{true, zap.InfoLevel, zap.InfoLevel, zap.InfoLevel},
	} {
		pub := &recordingPublisher{}
		core, logs := observer.New(zap.DebugLevel)
		readiness := &probe.Readiness{}
		readiness.Set(nil)
		router := sampleRouter(t, Deps{Logger: zap.New(core), Readiness: readiness, Tracing: tracing.Disabled(), AccessLogAll: tt.all},
			Sample{Version: "1", Now: time.Now}, gatewaykit.NewKit(pub, nil))
		get(router, "/v1/ping", http.Header{"X-Correlation-Id": {"ok"}})
		get(router, "/nothing", http.Header{"X-Correlation-Id": {"not-found"}})
		pub.err = errors.New("broker down")
		get(router, "/v1/ping", http.Header{"X-Correlation-Id": {"fail"}})
		get(router, "/readyz", http.Header{"X-Correlation-Id": {"probe"}})
		for id, want := range map[string]zapcore.Level{"ok": tt.ok, "not-found": tt.notFound, "fail": tt.fail, "probe": zap.DebugLevel} {
			lines := logs.FilterMessage("request").FilterField(zap.String("correlation_id", id)).All()
			if len(lines) != 1 || lines[0].Level != want {
				t.Errorf("all=%v: access log of %q = %v, want one line at %s", tt.all, id, lines, want)
			}
		}
	}
}

func TestPingPublishFailure(t *testing.T) {
	pub := &recordingPublisher{err: errors.New("kafka: client has run out of available brokers")}
	router, logs, _ := newTestRouter(t, pub)

	rec := get(router, "/v1/ping", http.Header{"X-Correlation-Id": {"fail-1"}})

	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Body.String(); got != `{"detail":"Failed to process message"}` {
		t.Errorf("body = %s", got)
	}
	errs := logs.FilterLevelExact(zap.ErrorLevel).All()
	if len(errs) != 1 {
		t.Fatalf("want one error line, got %d", len(errs))
	}
	fields := errs[0].ContextMap()
	if fields["correlation_id"] != "fail-1" || fields["topic"] != "in-topic" || fields["operation"] != "publish" ||
		fields["status"] != "Failed" || !strings.Contains(fields["error"].(string), "run out of available brokers") {
		t.Errorf("error line = %q %v", errs[0].Message, fields)
	}
}

func TestCorrelationHeader(t *testing.T) {
	router, _, _ := newTestRouter(t, &recordingPublisher{})
	cases := []struct {
		name, incoming string
		kept           bool
	}{
		{"uuid accepted", "3f2b8c1e-9d4a-4e7b-8f1c-2a6d5e9b0c47", true},
		{"token accepted", "order_7.v2-a", true},
		{"too long replaced", strings.Repeat("x", 129), false},
		{"bad characters replaced", "<script>", false},
		{"absent generated", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{}
			if tc.incoming != "" {
				header.Set("X-Correlation-ID", tc.incoming)
			}
			got := get(router, "/v1/ping", header).Header().Get("X-Correlation-ID")
			if tc.kept && got != tc.incoming {
				t.Fatalf("echoed %q, want %q", got, tc.incoming)
			}
			if !tc.kept && (got == tc.incoming || !correlation.Valid(got)) {
				t.Fatalf("echoed %q for incoming %q, want a fresh valid ID", got, tc.incoming)
			}
		})
	}
}

func TestErrorsAreJSON(t *testing.T) {
	router, _, _ := newTestRouter(t, &recordingPublisher{})
	rec := get(router, "/v1/nope", nil)
	if rec.Code != http.StatusNotFound || decodeBody(t, rec)["detail"] != "Not Found" {
		t.Errorf("404: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Correlation-ID") == "" {
		t.Error("404 lacks X-Correlation-ID")
	}

	req := httptest.NewRequest(http.MethodPost, "/v1/ping", strings.NewReader("{"))
	rec = httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || decodeBody(t, rec)["detail"] != "Method Not Allowed" {
		t.Errorf("405: %d %s", rec.Code, rec.Body)
	}
}

func TestPanicBecomesJSON500(t *testing.T) {
	router, logs, _ := newTestRouter(t, &recordingPublisher{})
	router.GET("/boom", func(*gin.Context) { panic("boom") })

	rec := get(router, "/boom", http.Header{"X-Correlation-Id": {"panic-1"}})

	if rec.Code != http.StatusInternalServerError || decodeBody(t, rec)["detail"] != "Internal Server Error" {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
	lines := logs.FilterMessage("panic while handling request").All()
	if len(lines) != 1 || lines[0].ContextMap()["correlation_id"] != "panic-1" {
		t.Fatalf("panic log = %v", lines)
	}
}

func TestProbes(t *testing.T) {
	router, logs, readiness := newTestRouter(t, &recordingPublisher{})
	if rec := get(router, "/healthz", nil); rec.Code != http.StatusOK {
		t.Errorf("healthz: %d", rec.Code)
	}
	if rec := get(router, "/readyz", nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz before any check: %d", rec.Code)
	}
	readiness.Set(nil)
	if rec := get(router, "/readyz", nil); rec.Code != http.StatusOK {
		t.Errorf("readyz when ready: %d", rec.Code)
	}
	for _, line := range logs.FilterMessage("request").All() {
		if line.Level != zap.DebugLevel {
			t.Errorf("probe access logged at %s, want debug", line.Level)
		}
	}
}
