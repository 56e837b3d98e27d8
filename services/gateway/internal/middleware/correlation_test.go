package middleware

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/streamgate/streamgate/pkg/platform/correlation"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCorrelation(t *testing.T) {
	var seen string // the ID the handler finds in the request's context
	r := newRouter(Correlation())
	r.GET("/x", func(c *gin.Context) {
		seen = correlation.FromContext(c.Request.Context())
		c.Status(http.StatusNoContent)
	})

	t.Run("a valid incoming ID is adopted and echoed", func(t *testing.T) {
		rec := serve(t, r, http.MethodGet, "/x", HeaderCorrelationID, "order-42_a.b")
		if got := rec.Header().Get(HeaderCorrelationID); got != "order-42_a.b" || seen != got {
			t.Fatalf("echoed %q, handler saw %q; want order-42_a.b for both", got, seen)
		}
	})
	for name, bad := range map[string]string{
		"too long":          strings.Repeat("a", correlation.MaxLength+1),
		"forbidden chars":   "id with spaces",
		"header injection":  "a\tb",
		"missing (nothing)": "",
	} {
		t.Run(name+": a new UUID instead", func(t *testing.T) {
			rec := serve(t, r, http.MethodGet, "/x", HeaderCorrelationID, bad)
			got := rec.Header().Get(HeaderCorrelationID)
			if !uuidV4.MatchString(got) || seen != got {
				t.Fatalf("echoed %q, handler saw %q; want one fresh UUID for both", got, seen)
			}
		})
	}
	t.Run("every request without an ID gets its own", func(t *testing.T) {
		a := serve(t, r, http.MethodGet, "/x").Header().Get(HeaderCorrelationID)
		b := serve(t, r, http.MethodGet, "/x").Header().Get(HeaderCorrelationID)
		if a == "" || a == b {
			t.Fatalf("IDs %q and %q, want two different ones", a, b)
		}
	})
	t.Run("unmatched routes get an ID too", func(t *testing.T) {
		rec := serve(t, r, http.MethodGet, "/nowhere")
		if rec.Code != http.StatusNotFound || rec.Header().Get(HeaderCorrelationID) == "" {
			t.Fatalf("%d with ID %q, want a 404 carrying an ID", rec.Code, rec.Header().Get(HeaderCorrelationID))
		}
	})
}
