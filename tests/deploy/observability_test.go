package deploy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/streamgate/streamgate/tests/internal/grafana"
)

// promQL parses PromQL as Prometheus 3 does by default.
var promQL = parser.NewParser(parser.Options{})

// metricNames returns the metric names an expression selects.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := promQL.ParseExpr(expr)
	if err != nil {
		t.Fatalf("not PromQL: %v\n%s", err, expr)
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// TestMetricsNeverBehindThePublicService: /metrics has a port of its own,
// reached through a headless Service of its own that the ServiceMonitor
// selects; the chart's public Service does not carry it.
func TestMetricsNeverBehindThePublicService(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, nil, "metrics.serviceMonitor.enabled=true"))
			type svcSpec struct {
				Metadata objectMeta `json:"metadata"`
				Spec     struct {
					ClusterIP string `json:"clusterIP"`
					Ports     []struct {
						Name       string `json:"name"`
						Port       int    `json:"port"`
						TargetPort any    `json:"targetPort"`
					} `json:"ports"`
				} `json:"spec"`
			}
			var public, metrics svcSpec
			decode(t, named(t, objs, "Service", c.name), &public)
			decode(t, named(t, objs, "Service", c.name+"-metrics"), &metrics)
			for _, p := range public.Spec.Ports {
				if p.Name == "metrics" || p.TargetPort == "metrics" || p.Port == c.metricsPort {
					t.Errorf("the public Service exposes the metrics port: %+v", p)
				}
			}
			if metrics.Spec.ClusterIP != "None" || len(metrics.Spec.Ports) != 1 ||
				metrics.Spec.Ports[0].TargetPort != "metrics" || metrics.Spec.Ports[0].Port != c.metricsPort {
				t.Errorf("metrics Service %+v, want headless, one port %d to the container port metrics", metrics.Spec, c.metricsPort)
			}
			var sm struct {
				Spec struct {
					Selector struct {
						MatchLabels map[string]string `json:"matchLabels"`
					} `json:"selector"`
					Endpoints []struct {
						Port string `json:"port"`
						Path string `json:"path"`
					} `json:"endpoints"`
				} `json:"spec"`
			}
			decode(t, ofKind(objs, "ServiceMonitor")[0], &sm)
			if !selects(sm.Spec.Selector.MatchLabels, metrics.Metadata.Labels) || selects(sm.Spec.Selector.MatchLabels, public.Metadata.Labels) {
				t.Errorf("ServiceMonitor selector %v must pick the metrics Service %v only, not %v",
					sm.Spec.Selector.MatchLabels, metrics.Metadata.Labels, public.Metadata.Labels)
			}
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor endpoints %+v", sm.Spec.Endpoints)
			}
			if out, err := helmTemplate(t, c, nil, "metrics.serviceMonitor.enabled=true", "metrics.service.enabled=false"); err == nil ||
				!strings.Contains(out, "metrics.serviceMonitor.enabled needs metrics.service.enabled") {
				t.Errorf("a ServiceMonitor without the metrics Service must be refused: %v\n%s", err, out)
			}
		})
	}
}

// TestAlertRules: the PrometheusRule's groups pass what `promtool check
// rules` checks (Prometheus's own rulefmt.Parse: YAML shape, every expr
// parses as PromQL, annotation templates parse, no duplicate rule), select
// only metrics the service registers (its metrics.Names) and this release's
// series, and every alert says how bad it is and what to do.
func TestAlertRules(t *testing.T) {
	wantAlerts := map[string][]string{
		"gateway": {"StreamgateGatewayPublishErrors", "StreamgateGatewayKafkaDisconnected", "StreamgateConsumerGroupLag", "StreamgateConsumerGroupLagUnknown"},
		"worker": {"StreamgateWorkerConsumerLagGrowing", "StreamgateWorkerPartitionStuck", "StreamgateWorkerDeadLetters",
			"StreamgateWorkerPublishRetries", "StreamgateWorkerNoConsumerSession", "StreamgateWorkerKafkaDisconnected",
			"StreamgateWorkerTransactionAborts"},
	}
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			file := ruleFile(t, c)
			groups, errs := rulefmt.Parse(file, false, model.UTF8Validation, promQL, nil)
			if len(errs) > 0 {
				t.Fatalf("rulefmt: %v\n%s", errs, file)
			}
			families := exportedMetrics(t, c.name)
			var alerts []string
			for _, g := range groups.Groups {
				for _, r := range g.Rules {
					alerts = append(alerts, r.Alert)
					for _, name := range metricNames(t, r.Expr) {
						if !exported(families, name) {
							t.Errorf("%s uses %s, which the %s does not export", r.Alert, name, c.name)
						}
					}
					sel := fmt.Sprintf(`namespace=%q, job="%s-metrics"`, testNamespace, c.name)
					if strings.Count(r.Expr, sel) != strings.Count(r.Expr, "streamgate_") {
						t.Errorf("%s: every selector must be scoped to the release (%s):\n%s", r.Alert, sel, r.Expr)
					}
					if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
						t.Errorf("%s: severity %q", r.Alert, sev)
					}
					if r.Annotations["summary"] == "" || len(r.Annotations["description"]) < 100 {
						t.Errorf("%s: needs a summary and a description that says what to check", r.Alert)
					}
				}
			}
			if !slices.Equal(alerts, wantAlerts[c.name]) {
				t.Errorf("alerts %v, want %v", alerts, wantAlerts[c.name])
			}
		})
	}
}

// TestBrokenAlertRuleIsCaught: the rule check has teeth.
func TestBrokenAlertRuleIsCaught(t *testing.T) {
	for name, rule := range map[string]string{
		"bad PromQL":         "{alert: A, expr: 'sum(rate(x[5m])'}",
		"bad template":       "{alert: A, expr: 'up == 0', annotations: {summary: '{{ $labels.pod '}}",
		"unknown rule field": "{alert: A, expr: 'up == 0', severity: critical}",
	} {
		file := "groups: [{name: g, rules: [" + rule + "]}]"
		if _, errs := rulefmt.Parse([]byte(file), false, model.UTF8Validation, promQL, nil); len(errs) == 0 {
			t.Errorf("%s passed: %s", name, file)
		}
	}
}

// grafanaVariables are what Grafana replaces in a query before Prometheus
// sees it; the check replaces them the same way.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$namespace", "ns", "$job", "job")

// TestDashboards: each chart's dashboard is JSON Grafana can import (uid,
// title, panels with a Prometheus query each), every query parses as PromQL
// and selects only metrics the service exports, scoped by the dashboard's
// namespace and job variables; and the ConfigMap carries it for the sidecar.
func TestDashboards(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			d, raw, err := grafana.Read(filepath.Join(repoRoot(t), "charts", c.name, "dashboards", c.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if d.UID == "" || d.Title == "" || len(d.Panels) < 6 {
				t.Fatalf("uid %q title %q, %d panels", d.UID, d.Title, len(d.Panels))
			}
			var exprs []string
			for _, p := range d.Panels {
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				for _, tg := range p.Targets {
					if !strings.Contains(tg.Expr, `namespace="$namespace", job="$job"`) {
						t.Errorf("panel %q: query not scoped by $namespace and $job: %s", p.Title, tg.Expr)
					}
					exprs = append(exprs, tg.Expr)
				}
			}
			for _, v := range d.Templating.List {
				// label_values(selector, label) is Grafana's; its selector is PromQL.
				if selector, _, ok, err := v.LabelValues(); err != nil {
					t.Error(err)
				} else if ok {
					exprs = append(exprs, selector)
				}
			}
			families := exportedMetrics(t, c.name)
			seen := map[string]bool{}
			for _, e := range exprs {
				for _, name := range metricNames(t, grafanaVariables.Replace(e)) {
					seen[name] = true
					if !exported(families, name) {
						t.Errorf("the dashboard queries %s, which the %s does not export", name, c.name)
					}
				}
			}
			t.Logf("%d panels, %d queries over %d metrics", len(d.Panels), len(exprs), len(seen))

			cm := ofKind(parseObjects(t, mustRender(t, c, nil, "metrics.dashboard.enabled=true")), "ConfigMap")
			if len(cm) != 1 || cm[0].Metadata.Labels["grafana_dashboard"] != "1" {
				t.Fatalf("dashboard ConfigMaps %+v, want one with the sidecar label grafana_dashboard=1", cm)
			}
			var data struct {
				Data map[string]string `json:"data"`
			}
			decode(t, cm[0], &data)
			if got := data.Data["streamgate-"+c.name+".json"]; strings.TrimSpace(got) != strings.TrimSpace(raw) {
				t.Errorf("the ConfigMap does not carry dashboards/%s.json unchanged", c.name)
			}
		})
	}
}

// TestTracingEnv: tracing is off by default (no OTEL_* variable); the
// tracing.env values reach the container as they are, and only OTEL_*
// variables with a value are accepted.
func TestTracingEnv(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			container := onlyDeployment(t, parseObjects(t, mustRender(t, c, nil))).Spec.Template.Spec.Containers[0]
			for name := range envMap(container) {
				if strings.HasPrefix(name, "OTEL_") {
					t.Errorf("the defaults set %s: tracing must be off", name)
				}
			}
			// The spans' pod and namespace come from the downward API.
			for name, field := range map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"} {
				i := slices.IndexFunc(container.Env, func(e envVar) bool { return e.Name == name })
				if i < 0 || fmt.Sprint(container.Env[i].ValueFrom) != fmt.Sprintf("map[fieldRef:map[fieldPath:%s]]", field) {
					t.Errorf("%s must come from the downward API's %s: %+v", name, field, container.Env)
				}
			}
			env := envMap(onlyDeployment(t, parseObjects(t, mustRender(t, c, nil,
				"tracing.env.OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318", "tracing.env.OTEL_TRACES_SAMPLER_ARG=0.5"))).Spec.Template.Spec.Containers[0])
			if env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "http://collector:4318" || env["OTEL_TRACES_SAMPLER_ARG"] != "0.5" {
				t.Errorf("OTEL_* not passed through: %v", env)
			}
			for _, bad := range []string{"tracing.env.LOG_LEVEL=debug", "tracing.env.OTEL_SERVICE_NAME="} {
				if out, err := helmTemplate(t, c, nil, bad); err == nil || !strings.Contains(out, "does not match pattern") && !strings.Contains(out, "minLength") {
					t.Errorf("--set %s: want a schema refusal, got %v\n%s", bad, err, out)
				}
			}
		})
	}
}

// TestLagGroupIsTheWorkersGroup: by default the gateway reads the lag of the group the
// worker chart's default values consume in.
func TestLagGroupIsTheWorkersGroup(t *testing.T) {
	gateway := envMap(onlyDeployment(t, parseObjects(t, mustRender(t, charts[0], nil))).Spec.Template.Spec.Containers[0])
	worker := envMap(onlyDeployment(t, parseObjects(t, mustRender(t, charts[1], nil))).Spec.Template.Spec.Containers[0])
	if gateway["LAG_GROUP_ID"] == "" || gateway["LAG_GROUP_ID"] != worker["KAFKA_GROUP_ID"] {
		t.Errorf("gateway LAG_GROUP_ID %q, worker KAFKA_GROUP_ID %q: want the same group", gateway["LAG_GROUP_ID"], worker["KAFKA_GROUP_ID"])
	}
}
