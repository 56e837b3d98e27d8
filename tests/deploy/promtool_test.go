package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"

	"github.com/streamgate/streamgate/pkg/router"
	gatewaymetrics "github.com/streamgate/streamgate/services/gateway/metrics"
	"github.com/streamgate/streamgate/services/worker/ping"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"github.com/streamgate/streamgate/tests/internal/grafana"
)

// promtoolBin is the real promtool (scripts/observability/tools.sh promtool).
func promtoolBin(t testing.TB) string { return tool(t, "PROMTOOL", "promtool") }

// ruleGroups is a Prometheus rule file, as far as these tests read it.
type ruleGroups struct {
	Groups []struct {
		Name  string           `json:"name"`
		Rules []map[string]any `json:"rules"`
	} `json:"groups"`
}

// ruleFile renders the chart's PrometheusRule (production-like values) and returns its
// spec, which is exactly a Prometheus rule file: {groups: [...]}.
func ruleFile(t *testing.T, c chart) []byte {
	t.Helper()
	objs := parseObjects(t, mustRender(t, c, []string{"ci/production-values.yaml"}))
	var pr struct {
		Spec json.RawMessage `json:"spec"`
	}
	decode(t, ofKind(objs, "PrometheusRule")[0], &pr)
	file, err := yaml.JSONToYAML(pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// renderedRules writes the chart's rule file, and the same without the alerts'
// descriptions (long static text the unit tests would only repeat; TestAlertRules
// checks them).
func renderedRules(t *testing.T, c chart, dir string) (rules, withoutDescriptions string) {
	t.Helper()
	file := ruleFile(t, c)
	var groups ruleGroups
	if err := yaml.Unmarshal(file, &groups); err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if a, ok := r["annotations"].(map[string]any); ok {
				delete(a, "description")
			}
		}
	}
	short, err := yaml.Marshal(groups)
	if err != nil {
		t.Fatal(err)
	}
	rules = filepath.Join(dir, c.name+".full.rules.yaml")
	withoutDescriptions = filepath.Join(dir, c.name+".rules.yaml")
	for path, content := range map[string][]byte{rules: file, withoutDescriptions: short} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return rules, withoutDescriptions
}

// TestAlertRulesPromtool: `promtool check rules` accepts the rendered rules and
// `promtool test rules` passes tests/rules/<chart>.test.yaml against them: each alert
// fires (with namespace and job) on the series that should raise it and stays quiet
// otherwise.
func TestAlertRulesPromtool(t *testing.T) {
	promtool := promtoolBin(t)
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rules, _ := renderedRules(t, c, dir)
			if out, err := run(dir, promtool, "check", "rules", rules); err != nil {
				t.Fatalf("promtool check rules: %v\n%s", err, out)
			}
			// The unit test names its rule file relative to itself: copy it beside the rules.
			test := filepath.Join(dir, c.name+".test.yaml")
			if err := os.WriteFile(test, []byte(readFile(t, "tests/rules/"+c.name+".test.yaml")), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := run(dir, promtool, "test", "rules", test); err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, out)
			}
		})
	}
}

// operatorTarget are the target labels the Prometheus Operator gives a ServiceMonitor's
// target (job and service are the metrics Service's name); a metric's own label of the
// same name becomes exported_<name> (honor_labels: false).
func operatorTarget(c chart) map[string]string {
	return map[string]string{
		"job": c.name + "-metrics", "service": c.name + "-metrics", "namespace": testNamespace,
		"pod": c.name + "-7d9f8-abcde", "container": c.container, "endpoint": "metrics",
		"instance": fmt.Sprintf("10.0.0.7:%d", c.metricsPort),
	}
}

// idleSeries are the series an idle service exposes (its registry as the process
// starts it), as Prometheus stores them after scraping it through a ServiceMonitor.
func idleSeries(t *testing.T, c chart) []string {
	t.Helper()
	gather := map[string]func() ([]*dto.MetricFamily, error){
		"gateway": func() ([]*dto.MetricFamily, error) {
			m, err := gatewaymetrics.New("1.0.0")
			if err != nil {
				return nil, err
			}
			return m.Registry.Gather()
		},
		"worker": func() ([]*dto.MetricFamily, error) {
			// The worker's registry once its ping route is registered: the route's
			// series start at 0.
			m, err := router.NewMetrics("worker", "1.0.0")
			if err != nil {
				return nil, err
			}
			cfg := workerapp.Config{OutTopic: "out-topic", DLQTopic: "in-topic.dlq"}
			cfg.InTopic = "in-topic"
			if err := ping.Register(router.New(router.Config{Metrics: m}), cfg); err != nil {
				return nil, err
			}
			return m.Registry.Gather()
		},
	}[c.name]
	families, err := gather()
	if err != nil {
		t.Fatal(err)
	}
	target := operatorTarget(c)
	var series []string
	add := func(name string, labels []*dto.LabelPair, extra ...string) {
		var pairs []string
		for _, l := range labels {
			n := l.GetName()
			if _, clash := target[n]; clash {
				n = "exported_" + n
			}
			pairs = append(pairs, fmt.Sprintf("%s=%q", n, l.GetValue()))
		}
		for k, v := range target {
			pairs = append(pairs, fmt.Sprintf("%s=%q", k, v))
		}
		pairs = append(pairs, extra...)
		slices.Sort(pairs)
		series = append(series, name+"{"+strings.Join(pairs, ", ")+"}")
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				for _, b := range h.GetBucket() {
					add(f.GetName()+"_bucket", m.GetLabel(), fmt.Sprintf("le=%q", fmt.Sprint(b.GetUpperBound())))
				}
				add(f.GetName()+"_bucket", m.GetLabel(), `le="+Inf"`)
				add(f.GetName()+"_sum", m.GetLabel())
				add(f.GetName()+"_count", m.GetLabel())
				continue
			}
			add(f.GetName(), m.GetLabel())
		}
	}
	return series
}

// statPanelsWithoutTraffic are the stat panels an idle service has nothing to show in:
// a latency needs requests, and a worker holding no partition knows no lag (the
// gateway's dashboard shows the broker's count). Every other stat panel shows a
// number, 0 if nothing happened, never "No data".
var statPanelsWithoutTraffic = []string{"p99 latency", "Consumer lag"}

// TestDashboardsUnderTheOperator: evaluated by promtool over the series of an idle
// service as a ServiceMonitor scrape stores them (target labels job, service,
// namespace, pod...; the metric's clashing labels renamed exported_*), each
// dashboard's variables find the release's namespace and job, and its stat panels show
// a number.
func TestDashboardsUnderTheOperator(t *testing.T) {
	promtool := promtoolBin(t)
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			target := operatorTarget(c)
			type sample struct {
				Labels string  `json:"labels"`
				Value  float64 `json:"value"`
			}
			type exprTest struct {
				Expr       string   `json:"expr"`
				EvalTime   string   `json:"eval_time"`
				ExpSamples []sample `json:"exp_samples"`
			}
			var tests []exprTest
			vars := strings.NewReplacer("$namespace", target["namespace"], "$job", target["job"], "$__rate_interval", "1m")
			d, _, err := grafana.Read(filepath.Join(repoRoot(t), "charts", c.name, "dashboards", c.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range d.Templating.List {
				sel, label, ok, err := v.LabelValues()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					continue
				}
				tests = append(tests, exprTest{
					Expr:     fmt.Sprintf("count by (%s) (%s)", label, vars.Replace(sel)),
					EvalTime: "5m", ExpSamples: []sample{{Labels: fmt.Sprintf("{%s=%q}", label, target[label]), Value: 1}},
				})
			}
			for _, p := range d.Panels {
				if p.Type != "stat" || slices.Contains(statPanelsWithoutTraffic, p.Title) {
					continue
				}
				for _, tg := range p.Targets {
					// One series, whatever its value: count() of the query is 1.
					tests = append(tests, exprTest{Expr: "count(" + vars.Replace(tg.Expr) + ")", EvalTime: "5m", ExpSamples: []sample{{Labels: "{}", Value: 1}}})
				}
			}
			type inputSeries struct {
				Series string `json:"series"`
				Values string `json:"values"`
			}
			var input []inputSeries
			for _, s := range idleSeries(t, c) {
				input = append(input, inputSeries{Series: s, Values: "0+0x40"})
			}
			file, err := yaml.Marshal(map[string]any{
				"evaluation_interval": "15s",
				"tests": []any{map[string]any{
					"interval": "15s", "input_series": input, "promql_expr_test": tests,
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "dashboard.test.yaml")
			if err := os.WriteFile(path, file, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := run(filepath.Dir(path), promtool, "test", "rules", path); err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, out)
			}
			t.Logf("%d dashboard queries evaluated over %d series", len(tests), len(input))
		})
	}
}
