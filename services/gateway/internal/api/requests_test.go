package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
)

const replyTopic = "in-topic.replies"

// fakeWorker answers a request through the replies the way the reply reader would,
// unless the request's body correlation ID says otherwise.
type fakeWorker struct {
	replyReaders *gatewaykit.ReplyReaders
}

func (f fakeWorker) Send(_ context.Context, rec gatewaykit.Record) error {
	if rec.ReplyTo != replyTopic {
		panic("reply_to = " + rec.ReplyTo)
	}
	msg, err := messages.DecodeRequest(rec.Value)
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(msg.CorrelationID, "silent"):
		return nil // the reply never comes
	case strings.HasPrefix(msg.CorrelationID, "garbled"):
		go f.replyReaders.Deliver(replyTopic, rec.CorrelationID, []byte(`{"status":"Done"}`))
		return nil
	}
	body, _ := messages.EncodeResponse(messages.NewResponse(msg.CorrelationID, "pong from subscriber", messages.StatusCompleted, fixedNow))
	go f.replyReaders.Deliver(replyTopic, rec.CorrelationID, body)
	return nil
}

func newRequestRouter(t *testing.T, max int) (http.Handler, *gatewaykit.ReplyReaders) {
	replyReaders := gatewaykit.NewLoopbackReplyReaders(max)
	router := sampleRouter(t, Deps{Logger: zap.NewNop(), Readiness: &probe.Readiness{}, Tracing: tracing.Disabled()},
		Sample{Version: "1", Now: func() time.Time { return fixedNow }}, gatewaykit.NewKit(fakeWorker{replyReaders}, replyReaders))
	return router, replyReaders
}

func post(router http.Handler, path, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, nil)
	req.Header.Set("X-Correlation-ID", id)
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	return rec
}

func TestRequestAnswersWithTheReplyOrTimesOut(t *testing.T) {
	router, replyReaders := newRequestRouter(t, 10)
	tests := []struct {
		path, id string
		status   int
		body     string
	}{
		{"/v1/requests", "req-1", 200, `{"correlation_id":"req-1","data":{"message":"pong from subscriber","timestamp":"2026-11-27T10:00:00Z"},"status":"Completed"}`},
		{"/v1/requests?timeout=50ms", "silent-1", 504, `{"detail":"No reply within 50ms"}`},
		{"/v1/requests", "garbled-1", 502, `{"detail":"The worker's reply is malformed"}`},
		{"/v1/requests?timeout=forever", "req-2", 400, `{"detail":"timeout: want a duration such as 2s or 500ms, at most 30s; got \"forever\""}`},
		{"/v1/requests?timeout=31s", "req-3", 400, `{"detail":"timeout: want a duration such as 2s or 500ms, at most 30s; got \"31s\""}`},
	}
	for _, tt := range tests {
		rec := post(router, tt.path, tt.id)
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("POST %s (%s) = %d %s, want %d %s", tt.path, tt.id, rec.Code, rec.Body, tt.status, tt.body)
		}
	}
	if n := replyReaders.Waiting(replyTopic); n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

func TestRequestRefusedWhenFullOrDisabled(t *testing.T) {
	router, replyReaders := newRequestRouter(t, 1)
	waiting := make(chan struct{})
	go func() {
		defer close(waiting)
		post(router, "/v1/requests?timeout=2s", "silent-taking-the-only-place")
	}()
	for replyReaders.Waiting(replyTopic) == 0 {
		time.Sleep(time.Millisecond)
	}
	if rec := post(router, "/v1/requests", "req-1"); rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("full: %d %s", rec.Code, rec.Body)
	}
	<-waiting

	disabled, _, _ := newTestRouter(t, &recordingPublisher{})
	if rec := post(disabled, "/v1/requests", "req-1"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "KAFKA_ENABLED=false") {
		t.Errorf("disabled: %d %s", rec.Code, rec.Body)
	}
}

// Answered, timed out or abandoned by the client: no request leaves a waiter or a
// goroutine behind.
func TestRequestsLeakNothing(t *testing.T) {
	router, replyReaders := newRequestRouter(t, 1000)
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			switch i % 3 {
			case 0:
				post(router, "/v1/requests", "req")
			case 1:
				post(router, "/v1/requests?timeout=10ms", "silent")
			case 2: // the client gives up before the timeout
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
				defer cancel()
				req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/requests?timeout=10s", nil)
				req.Header.Set("X-Correlation-ID", "silent-abandoned")
				router.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
	wg.Wait()
	if n := replyReaders.Waiting(replyTopic); n != 0 {
		t.Errorf("%d waiters left", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}

// The longest reply wait a client may ask for ends, with a margin for the answer, before
// the server's write timeout: equal values gave an empty reply at ?timeout=30s.
func TestMaxReplyTimeoutEndsBeforeTheWriteTimeout(t *testing.T) {
	if margin := httpserver.WriteTimeout - gatewaykit.MaxReplyTimeout; margin < time.Second {
		t.Fatalf("MaxReplyTimeout %s leaves %s before the write timeout %s, want at least 1s", gatewaykit.MaxReplyTimeout, margin, httpserver.WriteTimeout)
	}
}
