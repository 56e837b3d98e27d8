package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/services/gateway/internal/docs"
)

// The OpenAPI document describes exactly the routes the router serves: a route added
// without documenting it, or a documented one removed, fails here.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	router, _, _ := newTestRouter(t, &recordingPublisher{})
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range router.Routes() {
		// Swagger UI's own assets are not part of the API.
		if !strings.HasPrefix(r.Path, "/docs/") {
			served = append(served, r.Method+" "+r.Path)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented %v\nserved     %v", documented, served)
	}
}

// /docs and everything it loads come from the gateway itself: no CDN.
func TestDocsServeSwaggerUIFromTheGateway(t *testing.T) {
	router, _, _ := newTestRouter(t, &recordingPublisher{})
	page := get(router, "/docs", nil)
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) < 3 {
		t.Fatalf("/docs loads %v", refs)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref[1], "/docs/") {
			t.Errorf("/docs loads %q from elsewhere", ref[1])
			continue
		}
		if rec := get(router, ref[1], nil); rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("%s: %d, %d bytes", ref[1], rec.Code, rec.Body.Len())
		}
	}
	if rec := get(router, "/docs/init.js", nil); !strings.Contains(rec.Body.String(), `url: "/openapi.json"`) {
		t.Errorf("init.js does not load /openapi.json: %s", rec.Body)
	}
	for path, want := range map[string]string{"/openapi.json": string(docs.OpenAPI), "/asyncapi.json": `{"asyncapi":"3.0.0"}`} {
		if rec := get(router, path, nil); rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Errorf("%s: %d %.60s", path, rec.Code, rec.Body)
		}
	}
}
