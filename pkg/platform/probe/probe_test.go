package probe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func readyz(t *testing.T, r *Readiness) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	return rec.Code, body
}

func TestReadinessStates(t *testing.T) {
	var r Readiness
	if code, body := readyz(t, &r); code != http.StatusServiceUnavailable || body["reason"] != ErrNotChecked.Error() {
		t.Fatalf("unchecked: %d %v", code, body)
	}
	r.Set(nil)
	if code, _ := readyz(t, &r); code != http.StatusOK {
		t.Fatalf("after a good check: %d", code)
	}
	r.Set(errors.New("broker down"))
	if code, body := readyz(t, &r); code != http.StatusServiceUnavailable || body["reason"] != "broker down" {
		t.Fatalf("after a failed check: %d %v", code, body)
	}
	r.Drain()
	r.Set(nil)
	if code, body := readyz(t, &r); code != http.StatusServiceUnavailable || body["reason"] != ErrShuttingDown.Error() {
		t.Fatalf("draining must win over a good check: %d %v", code, body)
	}
}

func TestPollRecordsUntilCancelled(t *testing.T) {
	var r Readiness
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Poll(ctx, time.Millisecond, func() error {
			if calls.Add(1) >= 3 {
				return nil
			}
			return errors.New("not yet")
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for r.Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("never became ready; last error %v", r.Err())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Poll did not return after cancel")
	}
}

func TestHealthz(t *testing.T) {
	rec := httptest.NewRecorder()
	Healthz(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("healthz: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
