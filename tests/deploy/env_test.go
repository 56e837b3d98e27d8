package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/tracing"
	gatewayconfig "github.com/streamgate/streamgate/services/gateway/config"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"sigs.k8s.io/yaml"
)

// serviceEnvVars is what each service reads, straight from its config package,
// so the charts cannot drift from the code.
func serviceEnvVars(name string) []string {
	switch name {
	case "gateway":
		return gatewayconfig.EnvVars()
	case "worker":
		return workerapp.EnvVars()
	}
	panic("unknown service " + name)
}

// notSetByChart are variables a service reads that the chart leaves unset on
// purpose: APP_VERSION, so that /v1/ping reports the version baked into the
// image (extraEnv can still set it), and KAFKA_SASL_PASSWORD: the chart
// mounts the password as a file (KAFKA_SASL_PASSWORD_FILE), which the kubelet
// updates when the Secret is rotated.
var notSetByChart = []string{"APP_VERSION", config.KafkaSASLPassword.Name}

// chartLeavesToExtraEnv are optional variables of one service that its chart leaves to
// extraEnv: the worker's KAFKA_REPLY_TO_TOPICS (its default, derived from the in-topic,
// is what the charts deploy; FastStream peers with reply topics of their own set it).
var chartLeavesToExtraEnv = map[string][]string{"worker": {"KAFKA_REPLY_TO_TOPICS"}}

// securityVars are the Kafka security settings both services read, which the
// chart sets only when they have a value (kafka.tls.*, kafka.sasl.*).
func securityVars() []string { return config.Names(config.KafkaSecurityVars()...) }

// chartMustSet are variables every chart must set explicitly, whatever the
// service's defaults: where Kafka is, which topics, and how to log.
var chartMustSet = map[string][]string{
	"gateway": {"KAFKA_BROKERS", "KAFKA_ENABLED", "KAFKA_IN_TOPIC", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT", "HTTP_ADDR", "METRICS_ADDR"},
	"worker": {"KAFKA_BROKERS", "KAFKA_ENABLED", "KAFKA_IN_TOPIC", "KAFKA_OUT_TOPIC", "KAFKA_DLQ_TOPIC",
		"KAFKA_GROUP_ID", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT", "HTTP_ADDR", "METRICS_ADDR", "STUCK_PARTITION_THRESHOLD",
		"PARTITIONS_AT_FULL_BOUNDS"},
}

// TestChartEnvMatchesServiceConfig: the variables a chart sets itself are
// the ones its service reads, less APP_VERSION, plus the security settings
// that have a value. Variables the user adds through extraEnv are rendered
// as given, on top.
func TestChartEnvMatchesServiceConfig(t *testing.T) {
	for _, rc := range renderAll(t) {
		t.Run(rc.chart.name+"/"+rc.values.name, func(t *testing.T) {
			reads := serviceEnvVars(rc.chart.name)
			if len(reads) == 0 {
				t.Fatalf("%s config.EnvVars() is empty", rc.chart.name)
			}
			unset := append(slices.Clone(notSetByChart), chartLeavesToExtraEnv[rc.chart.name]...)
			for _, v := range append(slices.Clone(unset), chartMustSet[rc.chart.name]...) {
				if !slices.Contains(reads, v) && !slices.Contains(securityVars(), v) {
					t.Errorf("%s does not read %s (config.EnvVars() = %v): update the chart and this test together", rc.chart.name, v, reads)
				}
			}

			extra := extraEnvNames(t, rc.chart, rc.values)
			c := onlyDeployment(t, rc.objs).Spec.Template.Spec.Containers[0]
			var own []string
			for _, n := range envNames(t, c) {
				switch {
				case slices.Contains(extra, n):
				case strings.HasPrefix(n, "OTEL_"): // tracing.env, read by the OpenTelemetry SDK
				case n == tracing.EnvPodName || n == tracing.EnvPodNamespace: // the downward API, for the spans' resource
				case slices.Contains(securityVars(), n):
					if slices.Contains(notSetByChart, n) {
						t.Errorf("the chart sets %s", n)
					}
				default:
					own = append(own, n)
				}
			}
			var want []string
			for _, n := range reads {
				if !slices.Contains(unset, n) {
					want = append(want, n)
				}
			}
			sort.Strings(want)
			if !slices.Equal(own, want) {
				t.Fatalf("the %s chart sets %v\nthe service reads (less %v) %v\nunknown to the service: %v\nnot set by the chart: %v",
					rc.chart.name, own, unset, want, minus(own, want), minus(want, own))
			}
			for _, n := range extra {
				if !slices.ContainsFunc(c.Env, func(e envVar) bool { return e.Name == n }) {
					t.Errorf("extraEnv %s is not rendered", n)
				}
			}
		})
	}
}

// TestChartEnvDefaults: the default values point at the Strimzi cluster of
// k8s/ and the topics the services default to.
func TestChartEnvDefaults(t *testing.T) {
	k := strimziResources(t)
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			env := envMap(onlyDeployment(t, parseObjects(t, mustRender(t, c, nil))).Spec.Template.Spec.Containers[0])
			want := map[string]string{
				"KAFKA_BROKERS":  k.bootstrap,
				"KAFKA_ENABLED":  "true",
				"KAFKA_IN_TOPIC": messages.TopicIn,
				"LOG_LEVEL":      "info",
				"LOG_FORMAT":     "json",
				"HTTP_ADDR":      fmt.Sprintf(":%d", c.port),
				"METRICS_ADDR":   fmt.Sprintf(":%d", c.metricsPort),
			}
			if c.name == "worker" {
				want["KAFKA_OUT_TOPIC"] = messages.TopicOut
				want["KAFKA_DLQ_TOPIC"] = messages.TopicDeadLetter
				want["KAFKA_GROUP_ID"] = "streamgate-worker"
				want["STUCK_PARTITION_THRESHOLD"] = "60s"
				want["PARTITIONS_AT_FULL_BOUNDS"] = "3"
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s = %q, want %q", k, env[k], v)
				}
			}
			if _, ok := env["APP_VERSION"]; ok {
				t.Error("APP_VERSION is set by default: /v1/ping must report the version baked into the image")
			}
		})
	}
}

// TestExtraEnv: extraEnv entries are rendered verbatim (valueFrom too), and
// one that repeats a variable the chart manages is refused with a message.
func TestExtraEnv(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			vals := writeFile(t, dir, "extra.yaml", `extraEnv:
  - name: APP_VERSION
    value: "9.9.9-test"
  - name: GOMEMLIMIT
    valueFrom:
      resourceFieldRef:
        resource: limits.memory
`)
			out, err := helm(t, "template", c.name, "charts/"+c.name, "--kube-version", kubeVersion+".0", "-f", vals)
			if err != nil {
				t.Fatalf("helm template with extraEnv: %v\n%s", err, out)
			}
			ctr := onlyDeployment(t, parseObjects(t, out)).Spec.Template.Spec.Containers[0]
			env := envMap(ctr)
			if env["APP_VERSION"] != "9.9.9-test" {
				t.Errorf("APP_VERSION from extraEnv = %q", env["APP_VERSION"])
			}
			i := slices.IndexFunc(ctr.Env, func(e envVar) bool { return e.Name == "GOMEMLIMIT" })
			if i < 0 || ctr.Env[i].ValueFrom == nil {
				t.Errorf("GOMEMLIMIT valueFrom not rendered: %+v", ctr.Env)
			}

			dup := writeFile(t, dir, "dup.yaml", "extraEnv:\n  - name: KAFKA_BROKERS\n    value: other:9092\n")
			out, err = helm(t, "template", c.name, "charts/"+c.name, "--kube-version", kubeVersion+".0", "-f", dup)
			if err == nil {
				t.Fatalf("extraEnv repeating KAFKA_BROKERS was accepted:\n%s", out)
			}
			if !strings.Contains(out, "extraEnv: KAFKA_BROKERS is set by the chart") {
				t.Errorf("the refusal does not say why:\n%s", out)
			}
		})
	}
}

// extraEnvNames returns the names a value set passes through extraEnv.
func extraEnvNames(t *testing.T, c chart, vs valueSet) []string {
	t.Helper()
	var names []string
	for _, f := range append([]string{"values.yaml"}, vs.files...) {
		var v struct {
			ExtraEnv []struct {
				Name string `json:"name"`
			} `json:"extraEnv"`
		}
		if err := yaml.Unmarshal([]byte(readFile(t, "charts/"+c.name+"/"+f)), &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range v.ExtraEnv {
			names = append(names, e.Name)
		}
	}
	return names
}

func minus(a, b []string) []string {
	var r []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			r = append(r, x)
		}
	}
	return r
}

// TestKafkaBrokers: several brokers as a list (values file or --set
// '{a,b}') or as one comma-separated string all render one KAFKA_BROKERS.
func TestKafkaBrokers(t *testing.T) {
	const want = "k1.example:9092,k2.example:9093"
	dir := t.TempDir()
	list := writeFile(t, dir, "brokers.yaml", "kafka:\n  brokers:\n    - k1.example:9092\n    - k2.example:9093\n")
	for _, c := range charts {
		for name, args := range map[string][]string{
			"values file list": {"-f", list},
			"--set list":       {"--set", "kafka.brokers={k1.example:9092,k2.example:9093}"},
			"--set-string":     {"--set-string", `kafka.brokers=k1.example:9092\,k2.example:9093`},
		} {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				out, err := helm(t, append([]string{"template", c.name, "charts/" + c.name, "--kube-version", kubeVersion + ".0"}, args...)...)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if got := envMap(onlyDeployment(t, parseObjects(t, out)).Spec.Template.Spec.Containers[0])["KAFKA_BROKERS"]; got != want {
					t.Errorf("KAFKA_BROKERS %q, want %q", got, want)
				}
			})
		}
	}
}
