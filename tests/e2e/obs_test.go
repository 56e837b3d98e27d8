//go:build obs

package e2e

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// obsNamespace is the namespace the suite's scrape targets and rules are in.
const obsNamespace = "streamgate-obs"

// TestObservabilityUnderTheOperator: a real Prometheus scrapes both services with the
// target labels a ServiceMonitor gives them and evaluates the charts' rules; a real
// Jaeger receives their spans. Every dashboard variable finds the release, every
// dashboard panel has data, dead letters raise their alert with namespace and job, a
// ping's trace is found in Jaeger by its correlation ID with spans of both services,
// with the worker stopped the group's lag is still measured (from the broker) and its
// alert goes pending, as does NoConsumerSession, both clearing once it is back; with
// the broker stopped the metrics are still served and the Kafka alerts go pending.
func TestObservabilityUnderTheOperator(t *testing.T) {
	dir := t.TempDir()
	// A broker of its own, which the last scenario stops.
	kafka, err := testkit.StartKafka(suite.repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kafka.Clean)
	tracer := startJaeger(t, dir)
	tp := newTopics(t, kafka.Addr)
	svcEnv := func(name string) []string {
		return append(append(tp.env(kafka.Addr), tracer.env()...), "POD_NAME="+name+"-0", "POD_NAMESPACE="+obsNamespace)
	}
	worker := startService(t, "worker", svcEnv("worker")...)
	gateway := startService(t, "gateway", svcEnv("gateway")...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)

	const lagThreshold = 2
	rules := []string{
		renderRules(t, dir, "gateway", obsNamespace, fmt.Sprintf("metrics.prometheusRule.groupLagThreshold=%d", lagThreshold)),
		renderRules(t, dir, "worker", obsNamespace),
	}
	prom := startPrometheus(t, dir, rules,
		scrapeTarget{addr: gateway.metricsAddr, job: "gateway-metrics", namespace: obsNamespace, pod: "gateway-0", container: "gateway"},
		scrapeTarget{addr: worker.metricsAddr, job: "worker-metrics", namespace: obsNamespace, pod: "worker-0", container: "worker"})
	proof := &obsProof{}
	t.Cleanup(func() { proof.log(t, prom) }) // before Prometheus stops

	// Counters must be seen at 0 before the traffic: a series whose first sample is
	// already 3 shows no increase.
	waitFor(t, 30*time.Second, "Prometheus scraped both services", func() error {
		result, err := prom.query(fmt.Sprintf(`count(up{namespace=%q} == 1) == 2 and count(streamgate_worker_dead_letters_total{namespace=%q}) > 0`, obsNamespace, obsNamespace))
		if err != nil || len(result) == 0 {
			return fmt.Errorf("not yet: %v %v", result, err)
		}
		return nil
	})

	// Traffic: pings, and malformed records for the dead-letter topic.
	ids := make([]string, 5)
	traceIDs := map[string]string{}
	for i := range ids {
		ids[i] = fmt.Sprintf("obs-%d-%d", time.Now().UnixNano(), i)
		status, answer, body, err := gateway.request("/v1/ping", http.Header{"X-Correlation-Id": {ids[i]}})
		if err != nil || status != http.StatusOK {
			t.Fatalf("ping: %d %s %v", status, body, err)
		}
		traceIDs[ids[i]] = answer.Get("X-Trace-Id")
	}
	deadLettered := time.Now()
	for i := range 3 {
		produce(t, kafka.Addr, tp.in, []byte(fmt.Sprintf("bad-%d", i)), []byte("not json {"))
	}

	// The traffic scraped, so the panels show it: every record taken, every ping replied.
	waitFor(t, 30*time.Second, "Prometheus scraped the traffic", func() error {
		expr := fmt.Sprintf(`sum(streamgate_worker_records_received_total{namespace=%q}) >= %d and sum(streamgate_worker_replies_published_total{namespace=%q}) >= %d and sum(streamgate_worker_dead_letters_total{namespace=%q}) >= 3`,
			obsNamespace, len(ids)+3, obsNamespace, len(ids), obsNamespace)
		result, err := prom.query(expr)
		if err != nil || len(result) == 0 {
			return fmt.Errorf("not yet: %v %v", result, err)
		}
		return nil
	})

	t.Run("dashboards", func(t *testing.T) {
		for _, svc := range []string{"gateway", "worker"} {
			d := dashboard(t, svc)
			job := svc + "-metrics"
			// The variables, as Grafana resolves them: namespace first, then job.
			want := map[string]string{"namespace": obsNamespace, "job": job}
			vars := strings.NewReplacer("$namespace", obsNamespace, "$job", job, "$__rate_interval", "30s")
			variables := 0
			for _, v := range d.Templating.List {
				selector, label, ok, err := v.LabelValues()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					continue
				}
				variables++
				waitFor(t, 30*time.Second, fmt.Sprintf("%s dashboard variable %s", svc, v.Name), func() error {
					values, err := prom.labelValues(vars.Replace(selector), label)
					if err != nil || !slices.Contains(values, want[label]) {
						return fmt.Errorf("label_values(%s, %s): %v %v, want %s", selector, label, values, err, want[label])
					}
					return nil
				})
			}
			for _, p := range d.Panels {
				for _, tg := range p.Targets {
					var result []sample
					waitFor(t, 30*time.Second, fmt.Sprintf("%s panel %q has data", svc, p.Title), func() error {
						var err error
						result, err = prom.query(vars.Replace(tg.Expr))
						if err != nil || len(result) == 0 {
							return fmt.Errorf("%s: %v %v", vars.Replace(tg.Expr), result, err)
						}
						return nil
					})
					proof.panel(svc, p.Title, tg.LegendFormat, result)
				}
			}
			t.Logf("%s: %d variables and %d panels have data", svc, variables, len(d.Panels))
		}
	})

	t.Run("every rule evaluates", func(t *testing.T) {
		loaded := 0
		for _, file := range rules {
			loaded += countRules(t, file)
		}
		waitFor(t, 30*time.Second, "every loaded rule evaluated without error", func() error {
			health, err := prom.ruleHealth()
			if err != nil {
				return err
			}
			if len(health) != loaded || loaded == 0 {
				return fmt.Errorf("%d rules loaded, want the charts' %d: %v", len(health), loaded, health)
			}
			for name, h := range health {
				if h != "ok" {
					return fmt.Errorf("%s: %s", name, h)
				}
			}
			return nil
		})
	})

	t.Run("dead letters alert per release", func(t *testing.T) {
		waitAlert(t, prom, proof, "StreamgateWorkerDeadLetters", "firing", map[string]string{
			"namespace": obsNamespace, "job": "worker-metrics", "reason": "invalid_json"}, "3 malformed records", deadLettered)
	})

	t.Run("a ping's trace found by its correlation ID", func(t *testing.T) {
		id := ids[0]
		var found jaegerTrace
		waitFor(t, 30*time.Second, "the trace of "+id+" in Jaeger with spans of both services", func() error {
			traces, err := tracer.traces("gateway", "messaging.message.conversation_id", id)
			if err != nil || len(traces) != 1 {
				return fmt.Errorf("%d traces, %v", len(traces), err)
			}
			found = traces[0]
			services := map[string]int{}
			for _, s := range found.Spans {
				services[found.Processes[s.ProcessID].ServiceName]++
			}
			if services["gateway"] < 2 || services["worker"] < 2 {
				return fmt.Errorf("spans by service %v, want the gateway's and the worker's", services)
			}
			return nil
		})
		proof.trace(id, found)
		if found.TraceID != traceIDs[id] {
			t.Errorf("Jaeger's trace %s, the client was told X-Trace-Id %s", found.TraceID, traceIDs[id])
		}
		for _, s := range found.Spans {
			var conversation any
			for _, tag := range s.Tags {
				if tag.Key == "messaging.message.conversation_id" {
					conversation = tag.Value
				}
			}
			if conversation != id {
				t.Errorf("span %s of %s: conversation ID %v, want %s", s.OperationName, found.Processes[s.ProcessID].ServiceName, conversation, id)
			}
		}
		// The gateway's access log line carries the same trace ID.
		waitLogged(t, gateway, id, "trace_id", traceIDs[id])
	})

	t.Run("worker stopped: lag from the broker, alerts pending", func(t *testing.T) {
		stopped := time.Now()
		if err := worker.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		const waiting = 5
		for i := range waiting {
			if status, _, body := ping(t, gateway, fmt.Sprintf("obs-stopped-%d", i)); status != http.StatusOK {
				t.Fatalf("ping: %d %s", status, body)
			}
		}
		lag := fmt.Sprintf(`sum(streamgate_consumer_group_lag{namespace=%q, job="gateway-metrics", group=%q, topic=%q})`, obsNamespace, tp.group, tp.in)
		waitFor(t, 30*time.Second, "the broker's lag while the worker is stopped", func() error {
			result, err := prom.query(lag)
			if err != nil || len(result) != 1 || result[0].Value[1] != fmt.Sprint(waiting) {
				return fmt.Errorf("%s = %v %v, want %d", lag, result, err, waiting)
			}
			return nil
		})
		// The worker's own gauge has gone with it: only the broker's count remains.
		if result, err := prom.query(fmt.Sprintf(`streamgate_worker_consumer_lag{namespace=%q}`, obsNamespace)); err != nil || len(result) != 0 {
			t.Errorf("the stopped worker's lag series: %v %v, want none", result, err)
		}
		waitAlert(t, prom, proof, "StreamgateConsumerGroupLag", "pending", map[string]string{
			"namespace": obsNamespace, "job": "gateway-metrics", "group": tp.group, "topic": tp.in}, "worker stopped", stopped)
		waitAlert(t, prom, proof, "StreamgateWorkerNoConsumerSession", "pending", map[string]string{
			"namespace": obsNamespace, "job": "worker-metrics"}, "worker stopped", stopped)

		worker.restart()
		back := time.Now()
		waitFor(t, 60*time.Second, "the lag once the worker is back", func() error {
			result, err := prom.query(lag)
			if err != nil || len(result) != 1 || result[0].Value[1] != "0" {
				return fmt.Errorf("%s = %v %v, want 0", lag, result, err)
			}
			return nil
		})
		// Back to normal: both alerts are no longer active.
		waitNoAlert(t, prom, proof, "StreamgateConsumerGroupLag", "worker back", back)
		waitNoAlert(t, prom, proof, "StreamgateWorkerNoConsumerSession", "worker back", back)
		// Both sessions are counted: the first join and the restarted worker's, each
		// before a first scrape of its process could see the counter at 0.
		rebalances := fmt.Sprintf(`sum(increase(streamgate_worker_rebalances_total{namespace=%q, job="worker-metrics"}[10m]))`, obsNamespace)
		waitFor(t, 10*time.Second, "the restart's rebalance counted", func() error {
			result, err := prom.query(rebalances)
			if err != nil || len(result) != 1 || value(result[0]) < 2 {
				return fmt.Errorf("%s = %v %v, want 2 or more", rebalances, result, err)
			}
			return nil
		})
	})

	t.Run("broker stopped: metrics still served, Kafka alerts pending", func(t *testing.T) {
		brokerDown := time.Now()
		if err := kafka.Stop(); err != nil {
			t.Fatal(err)
		}
		// The gateway's scrape does not wait for the dead broker: its target stays up.
		waitFor(t, 30*time.Second, "the lag reading fails while the gateway's target stays up", func() error {
			result, err := prom.query(fmt.Sprintf(`streamgate_consumer_group_lag_up{namespace=%q} == 0 and on (namespace, job) up == 1`, obsNamespace))
			if err != nil || len(result) != 1 {
				return fmt.Errorf("%v %v", result, err)
			}
			return nil
		})
		for svc, alert := range map[string]string{"gateway": "StreamgateGatewayKafkaDisconnected", "worker": "StreamgateWorkerKafkaDisconnected"} {
			waitAlert(t, prom, proof, alert, "pending", map[string]string{"namespace": obsNamespace, "job": svc + "-metrics", "pod": svc + "-0"}, "broker stopped", brokerDown)
		}
		waitAlert(t, prom, proof, "StreamgateConsumerGroupLagUnknown", "pending", map[string]string{
			"namespace": obsNamespace, "job": "gateway-metrics", "group": tp.group}, "broker stopped", brokerDown)
	})
}

// waitNoAlert waits until Prometheus has no active alert name, and notes when in
// proof: how long after since, the end of the fault in scenario.
func waitNoAlert(t *testing.T, prom *prometheus, proof *obsProof, name, scenario string, since time.Time) {
	t.Helper()
	waitFor(t, 30*time.Second, "alert "+name+" inactive", func() error {
		alerts, err := prom.alerts()
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == name {
				return fmt.Errorf("still %s: %v", a.State, a.Labels)
			}
		}
		return nil
	})
	proof.alert(name, "inactive (seen by then)", scenario, time.Since(since))
}

// value is a sample's value (Prometheus sends it as a string).
func value(s sample) float64 {
	text, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// waitAlert waits until Prometheus has alert name in state with at least the labels
// want, and notes in proof how long after since, the fault of scenario, Prometheus
// made it active.
func waitAlert(t *testing.T, prom *prometheus, proof *obsProof, name, state string, want map[string]string, scenario string, since time.Time) {
	t.Helper()
	var active time.Time // when Prometheus first evaluated it as pending (or firing, with no for:)
	waitFor(t, 30*time.Second, fmt.Sprintf("alert %s %s with %v", name, state, want), func() error {
		alerts, err := prom.alerts()
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if a.Labels["alertname"] != name || a.State != state {
				continue
			}
			match := true
			for k, v := range want {
				match = match && a.Labels[k] == v
			}
			if match {
				active = a.ActiveAt
				return nil
			}
		}
		return fmt.Errorf("active alerts %v", alerts)
	})
	proof.alert(name, state, scenario, active.Sub(since))
}
