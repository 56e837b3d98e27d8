//go:build skaffold

package cluster

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSkaffoldRun: `skaffold run` with the local-cluster profile builds both
// images with buildah, pushes them to the cluster's registry, deploys both
// charts; the gateway then answers through port-forward. Heavy (skaffold is
// built from source), so only `make cluster-skaffold` runs it.
func TestSkaffoldRun(t *testing.T) {
	skaffold := os.Getenv("SKAFFOLD")
	if skaffold == "" {
		t.Fatal("SKAFFOLD (the skaffold binary) is not set: run make cluster-skaffold")
	}
	e := startEnv(t)
	e.createTopics(t)
	e.createNamespace(t)

	version := "skaffold-" + uuid.NewString()[:8]
	run := []string{"env", "KAFKA_BROKERS=" + e.kafka, "VERSION=" + version,
		skaffold, "--namespace", e.ns, "--update-check=false",
		"-p", "existing-kafka,local-cluster", "--default-repo", e.cluster["REGISTRY"]}
	start := time.Now()
	out, stderr, err := e.inNamespaceAt(e.repo, 10*time.Minute, append(run[:len(run):len(run)], "run", "--status-check=true")...)
	if err != nil {
		t.Fatalf("skaffold run: %v\n%s%s", err, out, stderr)
	}
	t.Logf("skaffold run in %s:\n%s", time.Since(start).Round(time.Second), lastLines(out+stderr, 25))
	t.Cleanup(func() {
		if _, stderr, err := e.inNamespaceAt(e.repo, 3*time.Minute, append(run, "delete")...); err != nil {
			t.Errorf("skaffold delete: %v\n%s", err, stderr)
		}
	})
	t.Logf("\n%s", e.kubectl(t, "get", "pods", "-o", "custom-columns=NAME:.metadata.name,READY:.status.containerStatuses[0].ready,IMAGE:.spec.containers[0].image"))
	for _, deploy := range []string{"gateway", "worker"} {
		image := e.kubectl(t, "get", "deployment", deploy, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
		if !strings.HasPrefix(image, e.cluster["REGISTRY"]+"/streamgate-"+deploy+":") || !strings.Contains(image, "@sha256:") {
			t.Errorf("%s runs %q, want the image skaffold pushed to %s, by digest", deploy, image, e.cluster["REGISTRY"])
		}
	}

	gw := e.portForward(t, "18080")
	id := "skaffold-" + uuid.NewString()
	res, body, err := gw.ping(id)
	if err != nil {
		t.Fatalf("GET /v1/ping: %v", err)
	}
	t.Logf("GET /v1/ping X-Correlation-ID: %s\n%s %s\n%s\n%s", id, res.Proto, res.Status, headerLines(res.Header), body)
	var pong struct{ Message, Version string }
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &pong) != nil || pong.Message != "pong" || pong.Version != version {
		t.Errorf("answered %s %s, want 200 pong with the version skaffold built (%s)", res.Status, body, version)
	}
}

// inNamespaceAt is inNamespace from the directory dir.
func (e *env) inNamespaceAt(dir string, timeout time.Duration, args ...string) (string, string, error) {
	return e.commandAt(dir, timeout, filepath.Join(e.repo, "scripts/cluster/exec.sh"), args...)
}
