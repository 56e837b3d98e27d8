//go:build obs

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/streamgate/streamgate/tests/internal/grafana"
)

// The observability suite (make obs-e2e) runs a real Prometheus and a real Jaeger,
// built from the Go module proxy by scripts/observability/tools.sh; their paths come
// from PROMETHEUS and JAEGER, helm's from HELM.

// obsTool returns the executable $env names, failing the test with what to run.
func obsTool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if info, err := os.Stat(p); p == "" || err != nil || info.IsDir() {
		t.Fatalf("$%s=%q is not an executable: run `make obs-e2e`, which builds it", env, p)
	}
	return p
}

// background runs a helper process (Prometheus, Jaeger) until the test ends, its output
// in dir/<name>.log, shown when the test fails.
func background(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Logf("last lines of %s:\n%s", filepath.Base(name), strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
}

// getJSON GETs u and decodes its JSON answer into v.
func getJSON(u string, v any) error {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// jaeger is a Jaeger v2 all-in-one with in-memory storage on loopback.
type jaeger struct {
	otlpHTTP, query string // host:port
}

func startJaeger(t *testing.T, dir string) *jaeger {
	t.Helper()
	j := &jaeger{otlpHTTP: freeLoopbackAddr(t), query: freeLoopbackAddr(t)}
	config := fmt.Sprintf(`
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter]}
  telemetry: {metrics: {level: none}}
extensions:
  jaeger_query: {enable_tracing: false, storage: {traces: mem}, http: {endpoint: %q}, grpc: {endpoint: %q}}
  jaeger_storage: {backends: {mem: {memory: {max_traces: 100000}}}}
  healthcheckv2: {use_v2: true, http: {endpoint: %q}}
receivers:
  otlp: {protocols: {grpc: {endpoint: %q}, http: {endpoint: %q}}}
processors: {batch: {timeout: 200ms}}
exporters: {jaeger_storage_exporter: {trace_storage: mem}}
`, j.query, freeLoopbackAddr(t), freeLoopbackAddr(t), freeLoopbackAddr(t), j.otlpHTTP)
	path := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	background(t, dir, obsTool(t, "JAEGER"), "--config=file:"+path)
	waitFor(t, 60*time.Second, "Jaeger's query API", func() error {
		var services any
		return getJSON("http://"+j.query+"/api/services", &services)
	})
	return j
}

// env sends a service's spans to this Jaeger, every one sampled.
func (j *jaeger) env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + j.otlpHTTP, "OTEL_TRACES_SAMPLER=always_on", "OTEL_BSP_SCHEDULE_DELAY=200"}
}

// jaegerTrace is a trace as Jaeger's query API returns it.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		Tags          []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// traces finds the traces of service with a span carrying tag=value.
func (j *jaeger) traces(service, tag, value string) ([]jaegerTrace, error) {
	tags, _ := json.Marshal(map[string]string{tag: value})
	q := url.Values{"service": {service}, "tags": {string(tags)}, "lookback": {"1h"}, "limit": {"20"}}
	var answer struct {
		Data []jaegerTrace `json:"data"`
	}
	err := getJSON("http://"+j.query+"/api/traces?"+q.Encode(), &answer)
	return answer.Data, err
}

// prometheus is a Prometheus server on loopback scraping every second.
type prometheus struct{ addr string }

// scrapeTarget is a service as a ServiceMonitor target: the metrics Service's name as
// job and service, and the pod's namespace, name and container.
type scrapeTarget struct {
	addr, job, namespace, pod, container string
}

func startPrometheus(t *testing.T, dir string, ruleFiles []string, targets ...scrapeTarget) *prometheus {
	t.Helper()
	p := &prometheus{addr: freeLoopbackAddr(t)}
	type staticConfig struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	var static []staticConfig
	for _, tg := range targets {
		// What the Prometheus Operator's ServiceMonitor config gives each target
		// (honor_labels false: a metric's own job, service, pod... become exported_*).
		static = append(static, staticConfig{Targets: []string{tg.addr}, Labels: map[string]string{
			"job": tg.job, "service": tg.job, "namespace": tg.namespace, "pod": tg.pod,
			"container": tg.container, "endpoint": "metrics",
		}})
	}
	config, err := yaml.Marshal(map[string]any{
		"global":     map[string]string{"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
		"rule_files": ruleFiles,
		"scrape_configs": []any{map[string]any{
			"job_name": "serviceMonitor/streamgate", "honor_labels": false, "static_configs": static,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, config, 0o600); err != nil {
		t.Fatal(err)
	}
	// A counter's creation time becomes a 0 sample, so an increase that happened before
	// a new process's first scrape (its first consumer-group join) is counted
	// (docs/observability.md recommends it).
	background(t, dir, obsTool(t, "PROMETHEUS"), "--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+p.addr, "--enable-feature=created-timestamp-zero-ingestion")
	waitFor(t, 60*time.Second, "Prometheus ready", func() error {
		var v any
		return getJSON("http://"+p.addr+"/api/v1/status/buildinfo", &v)
	})
	return p
}

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query evaluates expr now.
func (p *prometheus) query(expr string) ([]sample, error) {
	var answer struct {
		Status string `json:"status"`
		Data   struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := getJSON("http://"+p.addr+"/api/v1/query?"+url.Values{"query": {expr}}.Encode(), &answer); err != nil {
		return nil, err
	}
	return answer.Data.Result, nil
}

// labelValues is Grafana's label_values(selector, label).
func (p *prometheus) labelValues(selector, label string) ([]string, error) {
	var answer struct {
		Data []string `json:"data"`
	}
	err := getJSON("http://"+p.addr+"/api/v1/label/"+label+"/values?"+url.Values{"match[]": {selector}}.Encode(), &answer)
	return answer.Data, err
}

// alert is one of Prometheus's active alerts.
type alert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"` // pending or firing
	ActiveAt time.Time         `json:"activeAt"`
}

func (p *prometheus) alerts() ([]alert, error) {
	var answer struct {
		Data struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	err := getJSON("http://"+p.addr+"/api/v1/alerts", &answer)
	return answer.Data.Alerts, err
}

// ruleHealth returns every loaded rule's name with its health ("ok", "err", "unknown")
// and last evaluation error.
func (p *prometheus) ruleHealth() (map[string]string, error) {
	var answer struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON("http://"+p.addr+"/api/v1/rules", &answer); err != nil {
		return nil, err
	}
	health := map[string]string{}
	for _, g := range answer.Data.Groups {
		for _, r := range g.Rules {
			health[r.Name] = strings.TrimSpace(r.Health + " " + r.LastError)
		}
	}
	return health, nil
}

// renderRules renders a chart's PrometheusRule with helm as release name in namespace
// and writes its groups as a rule file in dir.
func renderRules(t *testing.T, dir, chart, namespace string, sets ...string) string {
	t.Helper()
	args := []string{"template", chart, filepath.Join(suite.repoRoot, "charts", chart), "--namespace", namespace,
		"-f", filepath.Join(suite.repoRoot, "charts", chart, "ci", "production-values.yaml")}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := exec.Command(obsTool(t, "HELM"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm template %s: %v\n%s", chart, err, out)
	}
	for _, doc := range strings.Split(string(out), "\n---") {
		var obj struct {
			Kind string          `json:"kind"`
			Spec json.RawMessage `json:"spec"`
		}
		if yaml.Unmarshal([]byte(doc), &obj) != nil || obj.Kind != "PrometheusRule" {
			continue
		}
		rules, err := yaml.JSONToYAML(obj.Spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, chart+".rules.yaml")
		if err := os.WriteFile(path, rules, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Fatalf("helm template %s rendered no PrometheusRule", chart)
	return ""
}

// dashboard reads a chart's dashboard.
func dashboard(t *testing.T, chart string) grafana.Dashboard {
	t.Helper()
	d, _, err := grafana.Read(filepath.Join(suite.repoRoot, "charts", chart, "dashboards", chart+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// countRules counts the rules (alerting and recording) in a rule file renderRules wrote.
func countRules(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []map[string]any `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for _, g := range file.Groups {
		n += len(g.Rules)
	}
	return n
}
