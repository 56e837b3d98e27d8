package deploy

import (
	"strings"
	"testing"
)

// runOnKubernetes returns the "Run on Kubernetes" section of a document.
func runOnKubernetes(t *testing.T, rel string) string {
	t.Helper()
	s := readFile(t, rel)
	const start, end = "<!-- run-on-kubernetes:start -->", "<!-- run-on-kubernetes:end -->"
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s ... %s section", rel, start, end)
	}
	return s[i : j+len(end)]
}

// TestRunOnKubernetesDocs: the walk-through in README.md names what the
// repository really deploys, so a rename elsewhere shows up here.
func TestRunOnKubernetesDocs(t *testing.T) {
	doc := runOnKubernetes(t, "README.md")
	s := strimziResources(t)
	for _, want := range []string{
		"skaffold dev",
		"skaffold dev -p existing-kafka",
		"oci://quay.io/strimzi-helm/strimzi-kafka-operator",
		"--version 1.2.0",
		"kubectl apply -f k8s/",
		"kubectl wait kafka/" + s.kafkaName + " --for=condition=Ready",
		s.bootstrap,
		"helm install gateway charts/gateway",
		"helm install worker charts/worker",
		"kubectl port-forward svc/gateway 8080:8080",
		"curl -i -H 'X-Correlation-ID: hello-k8s-1' localhost:8080/v1/ping",
		"kubectl logs deploy/gateway",
		"kubectl logs deploy/worker",
		"correlation_id",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the Run on Kubernetes section does not mention %q", want)
		}
	}
}
