package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads s's /metrics with Prometheus' own text parser: every sample, keyed by
// its series as exposed (name{label="value",...}, labels sorted by name); a histogram
// gives its _count and _sum series.
func (s *service) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	samples, err := s.samples()
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

// samples is scrape for goroutines other than the test's: it returns the error.
func (s *service) samples() (map[string]float64, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + s.metricsAddr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %d", s.name, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.name, err)
	}
	samples := map[string]float64{}
	for name, family := range families {
		for _, m := range family.GetMetric() {
			labels := series(m.GetLabel())
			switch {
			case m.GetHistogram() != nil:
				samples[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
				samples[name+"_sum"+labels] = m.GetHistogram().GetSampleSum()
			case m.GetCounter() != nil:
				samples[name+labels] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				samples[name+labels] = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				samples[name+labels] = m.GetUntyped().GetValue()
			}
		}
	}
	return samples, nil
}

// series writes labels as the text format does: {name="value",...} sorted by name, ""
// without labels.
func series(labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return ""
	}
	pairs := make([]string, 0, len(labels))
	for _, l := range labels {
		pairs = append(pairs, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(pairs)
	return "{" + strings.Join(pairs, ",") + "}"
}

// sumOf adds the samples of the series of name whose labels include every one of with.
func sumOf(samples map[string]float64, name string, with ...string) (sum float64, n int) {
	for series, v := range samples {
		if series != name && !strings.HasPrefix(series, name+"{") {
			continue
		}
		match := true
		for _, label := range with {
			match = match && strings.Contains(series, label)
		}
		if match {
			sum += v
			n++
		}
	}
	return sum, n
}

// expectSamples fails for every series whose value differs from want.
func expectSamples(t *testing.T, who string, samples map[string]float64, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		got, ok := samples[series]
		if !ok {
			t.Errorf("%s /metrics lacks %s", who, series)
		} else if got != v {
			t.Errorf("%s %s = %v, want %v", who, series, got, v)
		}
	}
}

// After a known number of pings and malformed records, both services report exactly
// that, and the worker's lag is back to 0 on every partition.
func TestMetricsCountKnownTraffic(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	gateway, worker := startPair(t, suite.brokers, tp)
	const pings = 7
	for i := range pings {
		if status, _, body := ping(t, gateway, fmt.Sprintf("metrics-%d", i)); status != http.StatusOK {
			t.Fatalf("ping %d: %d %s", i, status, body)
		}
	}
	malformed := []string{`not json {`, "\xff\xfe", `{"correlation_id":42,"data":{"message":"m","timestamp":"2026-11-27T10:00:00Z"}}`}
	for i, value := range malformed {
		produce(t, suite.brokers, tp.in, []byte(fmt.Sprintf("bad-%d", i)), []byte(value))
	}
	total := float64(pings + len(malformed))

	in, out, dlq := `topic="`+tp.in+`"`, `topic="`+tp.out+`"`, `topic="`+tp.dlq+`"`
	const route = `route="ping"`
	var w map[string]float64
	waitFor(t, 60*time.Second, "the worker finishes every record and its lag is 0", func() error {
		w = worker.scrape(t)
		committed, parts := sumOf(w, "streamgate_worker_committed_offset", in)
		lag, _ := sumOf(w, "streamgate_worker_consumer_lag", in)
		if committed != total || lag != 0 || parts != 3 {
			return fmt.Errorf("committed %v on %d partitions, lag %v; want %v on 3, lag 0", committed, parts, lag, total)
		}
		return nil
	})
	// Collectors are read concurrently, so one scrape is no snapshot: read again now
	// that everything has finished.
	w = worker.scrape(t)
	expectSamples(t, "worker", w, map[string]float64{
		"streamgate_worker_records_received_total{" + route + "," + in + "}":                total,
		"streamgate_worker_replies_published_total{" + route + "," + out + "}":              pings,
		`streamgate_worker_dead_letters_total{reason="invalid_json",` + route + `}`:         2,
		`streamgate_worker_dead_letters_total{reason="invalid_message",` + route + `}`:      1,
		`streamgate_worker_dead_letters_total{reason="retries_exhausted",` + route + `}`:    0,
		`streamgate_worker_handler_calls_total{outcome="ok",` + route + `}`:                 pings,
		`streamgate_worker_handler_calls_total{outcome="permanent_error",` + route + `}`:    float64(len(malformed)),
		`streamgate_worker_handler_duration_seconds_count{` + route + `}`:                   total,
		"streamgate_worker_publish_retries_total{" + out + "}":                              0,
		"streamgate_worker_publish_retries_total{" + dlq + "}":                              0,
		"streamgate_worker_writes_in_flight":                                                0,
		"streamgate_worker_session_active":                                                  1,
		"streamgate_kafka_connected":                                                        1,
		`streamgate_build_info{streamgate_service="worker",version="` + builtVersion + `"}`: 1,
	})
	for _, name := range []string{"streamgate_worker_oldest_unfinished_record_age_seconds", "streamgate_worker_partition_stuck"} {
		if sum, n := sumOf(w, name, in); sum != 0 || n != 3 {
			t.Errorf("worker %s: sum %v over %d partitions, want 0 over 3", name, sum, n)
		}
	}
	if rebalances := w["streamgate_worker_rebalances_total"]; rebalances < 1 {
		t.Errorf("worker rebalances = %v, want at least the first join", rebalances)
	}
	for _, family := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := w[family]; !ok {
			t.Errorf("worker /metrics lacks %s", family)
		}
	}

	g := gateway.scrape(t)
	expectSamples(t, "gateway", g, map[string]float64{
		`streamgate_http_requests_total{code="200",method="GET",route="/v1/ping"}`:           pings,
		`streamgate_http_request_duration_seconds_count{method="GET",route="/v1/ping"}`:      pings,
		`streamgate_gateway_publishes_total{outcome="success"}`:                              pings,
		`streamgate_gateway_publishes_total{outcome="error"}`:                                0,
		"streamgate_gateway_publish_duration_seconds_count":                                  pings,
		"streamgate_gateway_publishes_in_flight":                                             0,
		"streamgate_kafka_connected":                                                         1,
		`streamgate_build_info{streamgate_service="gateway",version="` + builtVersion + `"}`: 1,
	})
	// The API port does not serve metrics.
	if status, _, err := gateway.get("/metrics", nil); err != nil || status != http.StatusNotFound {
		t.Errorf("gateway API /metrics = %d %v, want 404", status, err)
	}
}

// While the out-topic does not exist (a retriable refusal: the worker never has topics
// created on demand), the partition holding the request turns stuck (gauge and one
// warning); once the topic exists it clears (gauge and one info line) and the lag
// returns to 0. (A reply refused for good, such as one too large for the topic, is
// dead-lettered instead: TestUnwritableReplyIsDeadLettered.)
func TestStuckPartitionSignal(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	tp := newTopicsWithoutOut(t, suite.brokers)
	gateway, worker := startPair(t, suite.brokers, tp, "STUCK_PARTITION_THRESHOLD=2s")
	if status, _, body := ping(t, gateway, "stuck-1"); status != http.StatusOK {
		t.Fatalf("ping: %d %s", status, body)
	}
	in := `topic="` + tp.in + `"`
	began := time.Now()
	waitFor(t, 30*time.Second, "the partition turns stuck", func() error {
		if stuck, _ := sumOf(worker.scrape(t), "streamgate_worker_partition_stuck", in); stuck != 1 {
			return fmt.Errorf("stuck partitions: %v", stuck)
		}
		return nil
	})
	t.Logf("stuck signalled %s after the ping (threshold 2s)", time.Since(began).Round(100*time.Millisecond))
	w := worker.scrape(t)
	if age, _ := sumOf(w, "streamgate_worker_oldest_unfinished_record_age_seconds", in); age < 2 {
		t.Errorf("oldest unfinished age %v, want over the 2s threshold", age)
	}
	waitFor(t, 30*time.Second, "a publish retry", func() error {
		if retries := worker.scrape(t)["streamgate_worker_publish_retries_total{topic=\""+tp.out+"\"}"]; retries < 1 {
			return fmt.Errorf("publish retries = %v, want at least 1", retries)
		}
		return nil
	})
	if ready, _, _ := worker.get("/readyz", nil); ready != http.StatusOK {
		t.Errorf("worker /readyz = %d while stuck; docs/observability.md says it stays ready", ready)
	}
	warnings := worker.logsWith("message", "partition stuck: its oldest unfinished record is older than the threshold")
	if len(warnings) != 1 || warnings[0]["level"] != "warn" || warnings[0]["topic"] != tp.in {
		t.Fatalf("stuck warnings = %v, want exactly one", warnings)
	}

	createOutTopic(t, suite.brokers, tp)
	waitFor(t, 60*time.Second, "the partition clears and the lag is 0", func() error {
		w := worker.scrape(t)
		stuck, _ := sumOf(w, "streamgate_worker_partition_stuck", in)
		lag, _ := sumOf(w, "streamgate_worker_consumer_lag", in)
		if stuck != 0 || lag != 0 {
			return fmt.Errorf("stuck %v, lag %v", stuck, lag)
		}
		return nil
	})
	waitFor(t, 10*time.Second, "one line saying the partition recovered", func() error {
		if n := len(worker.logsWith("message", "partition no longer stuck")); n != 1 {
			return fmt.Errorf("%d lines", n)
		}
		return nil
	})
	if got := worker.scrape(t)["streamgate_worker_replies_published_total{route=\"ping\",topic=\""+tp.out+"\"}"]; got != 1 {
		t.Errorf("replies published = %v, want 1", got)
	}
}
