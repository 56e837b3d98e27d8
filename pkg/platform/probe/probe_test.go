package probe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func readyz(t *testing.T, r *Readiness) (int, map[string]string) {
	t.Helper()
	return get(t, r.Reasons())
}

func get(t *testing.T, h http.Handler) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
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

// The public /readyz says ready or not ready and nothing else, whatever the reason.
func TestPublicReadyzHidesTheReason(t *testing.T) {
	var r Readiness
	r.Set(errors.New("kafka: SASL user gateway at broker-0.internal:9094 refused, CA /etc/kafka/ca.crt"))
	code, body := get(t, &r)
	if code != http.StatusServiceUnavailable || len(body) != 1 || body["status"] != "not ready" {
		t.Fatalf("public /readyz: %d %v, want 503 and only {status: not ready}", code, body)
	}
}

// Changed hears each new outcome once, not every check.
func TestChangedHearsEachNewOutcomeOnce(t *testing.T) {
	var heard []string
	r := Readiness{Changed: func(err error) { heard = append(heard, errText(err)) }}
	for _, err := range []error{errors.New("down"), errors.New("down"), nil, nil, errors.New("down")} {
		r.Set(err)
	}
	if got := strings.Join(heard, ","); got != "down,,down" {
		t.Fatalf("Changed heard %q, want \"down,,down\"", got)
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
