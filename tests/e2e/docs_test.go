package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The documents the gateway serves pass the reference validators: openapi-spec-validator
// (PyPI) for OpenAPI 3.1, @asyncapi/parser (npm) for AsyncAPI 3.0. The AsyncAPI message
// schemas also accept exactly the JSON bodies the pydantic models accept.
func TestServedDocumentsAreValid(t *testing.T) {
	gateway := startService(t, "gateway", "KAFKA_ENABLED=false")
	waitReady(t, gateway, 30*time.Second)
	dir := t.TempDir()
	fetch := func(path string) string {
		status, body, err := gateway.get(path, nil)
		if err != nil || status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, err)
		}
		file := filepath.Join(dir, strings.TrimPrefix(path, "/"))
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}

	out := runPython(t, 2*time.Minute, "validate_openapi.py", fetch("/openapi.json"))
	t.Logf("%s", out)

	asyncAPI := fetch("/asyncapi.json")
	t.Logf("%s", runPython(t, 2*time.Minute, "check_asyncapi_schemas.py", asyncAPI))

	nodeModules, err := exec.Command(filepath.Join(suite.repoRoot, "tests", "node", "install.sh")).Output()
	if err != nil {
		t.Fatalf("tests/node/install.sh: %v", err)
	}
	cmd := exec.Command("node", filepath.Join(suite.repoRoot, "tests", "node", "validate-asyncapi.mjs"), asyncAPI)
	cmd.Env = append(os.Environ(), "NODE_PATH="+strings.TrimSpace(string(nodeModules)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("@asyncapi/parser: %v\n%s", err, out)
	} else {
		t.Logf("%s", out)
	}
}

// Swagger UI at /docs renders every operation of the OpenAPI document in a real browser
// (Debian's chromium, headless, loading only what the gateway serves).
func TestSwaggerUIRendersTheOperations(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: `make e2e-deps` installs Debian's")
	}
	gateway := startService(t, "gateway", "KAFKA_ENABLED=false")
	waitReady(t, gateway, 30*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", "http://"+gateway.addr+"/docs")
	var dom, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.Bytes())
	}

	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Tags        []string `json:"tags"`
		} `json:"paths"`
	}
	_, body, err := gateway.get("/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	page := dom.String()
	n := 0
	for path, ops := range doc.Paths {
		for _, op := range ops {
			// Swagger UI gives each rendered operation the id operations-TAG-OPERATIONID.
			if id := `id="operations-` + op.Tags[0] + "-" + op.OperationID + `"`; !strings.Contains(page, id) {
				t.Errorf("operation %s %s not rendered (no %s)", op.OperationID, path, id)
			}
			n++
		}
	}
	if !strings.Contains(page, "streamgate gateway") {
		t.Errorf("the page does not show the document's title")
	}
	if t.Failed() {
		t.Logf("DOM (%d bytes): %.3000s", dom.Len(), page)
	} else {
		t.Logf("%d operations rendered by Swagger UI (%d bytes of DOM)", n, dom.Len())
	}
}
