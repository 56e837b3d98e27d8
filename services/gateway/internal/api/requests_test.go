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

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/httpserver"
	"github.com/streamgate/streamgate/pkg/platform/probe"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	"github.com/streamgate/streamgate/services/gateway/internal/replies"
)

// fakeWorker answers a request through the waiters the way the reply consumer would,
// unless the request's body correlation ID says otherwise.
type fakeWorker struct {
	waiters *replies.Waiters
}

func (f fakeWorker) Request(_ context.Context, msg messages.SampleReqMsg, replyTo, requestID string) error {
	if replyTo != "in-topic.replies" {
		panic("reply_to = " + replyTo)
	}
	switch {
	case strings.HasPrefix(msg.CorrelationID, "silent"):
		return nil // the reply never comes
	case strings.HasPrefix(msg.CorrelationID, "garbled"):
		go f.waiters.Deliver(requestID, []byte(`{"status":"Done"}`))
		return nil
	}
	body, _ := messages.EncodeResponse(messages.NewResponse(msg.CorrelationID, "pong from subscriber", messages.StatusCompleted, fixedNow))
	go f.waiters.Deliver(requestID, body)
	return nil
}

func newRequestRouter(max int, ready error) (http.Handler, *replies.Waiters) {
	waiters := replies.NewWaiters(max)
	router := NewRouter(Deps{
		Logger: zap.NewNop(), Publisher: &recordingPublisher{}, Readiness: &probe.Readiness{}, Version: "1", Topic: "in-topic",
		Now: func() time.Time { return fixedNow }, Tracing: tracing.Disabled(),
		Replies: &ReplyRouting{Requester: fakeWorker{waiters}, Topic: "in-topic.replies", Waiters: waiters,
			Ready: func() error { return ready }},
	})
	return router, waiters
}

func post(router http.Handler, path, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, nil)
	req.Header.Set("X-Correlation-ID", id)
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	return rec
}

func TestRequestAnswersWithTheReplyOrTimesOut(t *testing.T) {
	router, waiters := newRequestRouter(10, nil)
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
	if n := waiters.Len(); n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

func TestRequestRefusedWhenFullNotReadingOrDisabled(t *testing.T) {
	router, waiters := newRequestRouter(1, nil)
	_, release, _ := waiters.Add("taken")
	if rec := post(router, "/v1/requests", "req-1"); rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("full: %d %s", rec.Code, rec.Body)
	}
	release()

	notReading, _ := newRequestRouter(1, replies.ErrNotReading)
	if rec := post(notReading, "/v1/requests", "req-1"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "Not reading replies yet") {
		t.Errorf("not reading: %d %s", rec.Code, rec.Body)
	}
	disabled, _, _ := newTestRouter(t, &recordingPublisher{})
	if rec := post(disabled, "/v1/requests", "req-1"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "KAFKA_ENABLED=false") {
		t.Errorf("disabled: %d %s", rec.Code, rec.Body)
	}
}

// Answered, timed out or abandoned by the client: no request leaves a waiter or a
// goroutine behind.
func TestRequestsLeakNothing(t *testing.T) {
	router, waiters := newRequestRouter(1000, nil)
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
	if n := waiters.Len(); n != 0 {
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
	if margin := httpserver.WriteTimeout - MaxReplyTimeout; margin < time.Second {
		t.Fatalf("MaxReplyTimeout %s leaves %s before the write timeout %s, want at least 1s", MaxReplyTimeout, margin, httpserver.WriteTimeout)
	}
}
