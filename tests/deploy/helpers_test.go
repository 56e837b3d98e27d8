// Package deploy proves offline that what ships to Kubernetes is sound: the
// Helm charts lint and render, every rendered object and every Strimzi
// resource in k8s/ validates against the real schemas, the charts keep the
// invariants the services rely on, and skaffold.yaml matches its schema.
//
// The tests shell out to the pinned helm and kubectl-validate that
// `make deploy-test` builds into bin/. They never skip: a missing tool fails.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// kubeVersion is the Kubernetes version the charts are rendered for and
// validated against (kubectl-validate has its OpenAPI schemas built in).
const kubeVersion = "1.30"

// testNamespace is the namespace the charts are rendered into.
const testNamespace = "streamgate-test"

// chart is one Helm chart of charts/ and how the tests see it.
type chart struct {
	name        string // directory under charts/, also the release name
	container   string // the container the chart runs
	port        int    // the port the service listens on (HTTP_ADDR)
	portName    string // that container port's name
	metricsPort int    // the port of /metrics (METRICS_ADDR)
}

var charts = []chart{
	{name: "gateway", container: "gateway", port: 8080, portName: "http", metricsPort: 9090},
	{name: "worker", container: "worker", port: 8081, portName: "probes", metricsPort: 9091},
}

// valueSet is one set of values a chart is linted, rendered and validated with.
type valueSet struct {
	name  string
	files []string // relative to the chart directory
}

// plaintextValues is the values file both charts take for a plaintext,
// unauthenticated Kafka, relative to a chart's directory.
const plaintextValues = "../values-plaintext-kafka.yaml"

// valueSets returns the default values, the plaintext-Kafka values and every
// ci/*-values.yaml of the chart.
func valueSets(t *testing.T, c chart) []valueSet {
	t.Helper()
	sets := []valueSet{{name: "default"}, {name: "plaintext-kafka", files: []string{plaintextValues}}}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "charts", c.name, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("charts/%s/ci has no *-values.yaml: the production-like values are missing", c.name)
	}
	for _, f := range files {
		sets = append(sets, valueSet{
			name:  strings.TrimSuffix(filepath.Base(f), ".yaml"),
			files: []string{filepath.Join("ci", filepath.Base(f))},
		})
	}
	return sets
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// repoRoot is the repository root: the first parent with go.work and charts/.
func repoRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if fileExists(filepath.Join(dir, "go.work")) && fileExists(filepath.Join(dir, "charts")) {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("no parent directory holds go.work and charts/")
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatalf("repository root: %v", rootErr)
	}
	return rootDir
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tool returns the path of a pinned tool: $ENV if set, else bin/<name> under
// the repository root. A missing tool fails the test with what to run.
func tool(t testing.TB, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(repoRoot(t), "bin", name)
	}
	info, err := os.Stat(p)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("%s not found at %s (%s): run `make deploy-test`, or `make -f mk/deploy.mk deploy-tools` "+
			"to build the pinned tools into bin/, or point $%s at it", name, p, errText(err), env)
	}
	return p
}

func errText(err error) string {
	if err == nil {
		return "not an executable file"
	}
	return err.Error()
}

func helmBin(t testing.TB) string { return tool(t, "HELM", "helm") }

func kubectlValidateBin(t testing.TB) string {
	return tool(t, "KUBECTL_VALIDATE", "kubectl-validate")
}

// sharedDir is ../shared beside the repository (CI lays it out the same way),
// or $STREAMGATE_SHARED_DIR.
func sharedDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("STREAMGATE_SHARED_DIR")
	if d == "" {
		d = filepath.Join(repoRoot(t), "..", "shared")
	}
	return d
}

// strimziCRDs is the directory of the Strimzi 1.2.0 CRDs.
func strimziCRDs(t testing.TB) string {
	t.Helper()
	d := filepath.Join(sharedDir(t), "strimzi", "1.2.0", "crds")
	if !fileExists(filepath.Join(d, "040-Crd-kafka.yaml")) {
		t.Fatalf("Strimzi CRDs not found in %s: shared/ must sit beside the repository, or set $STREAMGATE_SHARED_DIR", d)
	}
	return d
}

// prometheusOperatorCRDs and kedaCRDs are the directories of the CRDs the
// optional ServiceMonitor, PrometheusRule, ScaledObject and
// TriggerAuthentication validate against.
func prometheusOperatorCRDs(t testing.TB) string {
	t.Helper()
	return sharedCRDs(t, "prometheus-operator", "v0.93.0", "monitoring.coreos.com_prometheusrules.yaml")
}

func kedaCRDs(t testing.TB) string {
	t.Helper()
	return sharedCRDs(t, "keda", "v2.20.2", "keda.sh_scaledobjects.yaml")
}

func sharedCRDs(t testing.TB, project, version, probe string) string {
	t.Helper()
	d := filepath.Join(sharedDir(t), project, version, "crds")
	if !fileExists(filepath.Join(d, probe)) {
		t.Fatalf("%s %s CRDs not found in %s: shared/ must sit beside the repository, or set $STREAMGATE_SHARED_DIR", project, version, d)
	}
	return d
}

// run runs a command in dir and returns its combined output and error.
func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// helm runs the pinned helm in the repository root.
func helm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return run(repoRoot(t), helmBin(t), args...)
}

// helmTemplate renders a chart with the given value files (relative to the
// chart) and --set flags, for the Kubernetes version under test.
func helmTemplate(t testing.TB, c chart, files []string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", c.name, filepath.Join("charts", c.name),
		"--namespace", testNamespace, "--kube-version", kubeVersion + ".0"}
	for _, f := range files {
		args = append(args, "-f", filepath.Join("charts", c.name, f))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return helm(t, args...)
}

// mustRender renders a chart and fails the test if helm fails.
func mustRender(t testing.TB, c chart, files []string, sets ...string) string {
	t.Helper()
	out, err := helmTemplate(t, c, files, sets...)
	if err != nil {
		t.Fatalf("helm template %s %v %v: %v\n%s", c.name, files, sets, err, out)
	}
	return out
}

// object is one Kubernetes object, as decoded JSON.
type object struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   objectMeta     `json:"metadata"`
	Raw        map[string]any `json:"-"`
	JSON       []byte         `json:"-"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// parseObjects splits a multi-document YAML stream into objects, skipping
// documents that are empty or only comments.
func parseObjects(t testing.TB, stream string) []object {
	t.Helper()
	var objs []object
	for i, doc := range docSeparator.Split(stream, -1) {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("document %d is not YAML: %v\n%s", i, err, doc)
		}
		if string(j) == "null" {
			continue
		}
		var o object
		if err := json.Unmarshal(j, &o); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		if err := json.Unmarshal(j, &o.Raw); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		o.JSON = j
		objs = append(objs, o)
	}
	return objs
}

// ofKind returns the objects of a kind.
func ofKind(objs []object, kind string) []object {
	var r []object
	for _, o := range objs {
		if o.Kind == kind {
			r = append(r, o)
		}
	}
	return r
}

// named returns the one object of a kind with a name, failing the test
// when there is none.
func named(t testing.TB, objs []object, kind, name string) object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	t.Fatalf("no %s named %s", kind, name)
	return object{}
}

// decode decodes an object's JSON into v.
func decode(t testing.TB, o object, v any) {
	t.Helper()
	if err := json.Unmarshal(o.JSON, v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Metadata.Name, err)
	}
}

// validation is kubectl-validate's JSON report: per file, one status per document.
type validation map[string][]struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// kubectlValidate validates files or directories against the Kubernetes
// schemas and the Strimzi, Prometheus Operator and KEDA CRDs. It returns the report, the raw output and
// whether every document passed.
func kubectlValidate(t testing.TB, paths ...string) (validation, string, bool) {
	t.Helper()
	args := append([]string{"--version", kubeVersion, "--local-crds", strimziCRDs(t),
		"--local-crds", prometheusOperatorCRDs(t), "--local-crds", kedaCRDs(t), "--output", "json"}, paths...)
	cmd := exec.Command(kubectlValidateBin(t), args...)
	cmd.Dir = repoRoot(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := stdout.String() + stderr.String()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("kubectl-validate did not run: %v\n%s", err, out)
	}
	// stdout is the JSON report; "Error: validation failed" goes to stderr.
	var v validation
	if jerr := json.Unmarshal(stdout.Bytes(), &v); jerr != nil {
		t.Fatalf("kubectl-validate output is not its JSON report (%v):\n%s", jerr, out)
	}
	ok := err == nil
	for _, docs := range v {
		for _, d := range docs {
			if d.Status != "Success" {
				ok = false
			}
		}
	}
	return v, out, ok
}

// failures lists the messages of the documents that did not pass.
func (v validation) failures() []string {
	var r []string
	for file, docs := range v {
		for _, d := range docs {
			if d.Status != "Success" {
				r = append(r, fmt.Sprintf("%s: %s", filepath.Base(file), d.Message))
			}
		}
	}
	slices.Sort(r)
	return r
}

// documents counts the documents kubectl-validate looked at.
func (v validation) documents() int {
	n := 0
	for _, docs := range v {
		n += len(docs)
	}
	return n
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readFile reads a file relative to the repository root.
func readFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
