package httpserver

import (
	"context"
	"net/http"
	"time"
)

type arrivalKey struct{}

// stampArrival records when each request reached the server, so waits are measured from
// there and not from wherever a handler happens to start its timer.
func stampArrival(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), arrivalKey{}, time.Now())))
	})
}

// Started returns when the request with ctx reached a server built by New, or now when
// it did not come through one (tests calling a handler directly).
func Started(ctx context.Context) time.Time {
	if t, ok := ctx.Value(arrivalKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}
