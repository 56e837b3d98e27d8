package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Kafka's own command-line tools (kafka-tools 4.3.1): reference points for the
// worker's drain and for the end-to-end latency.

// consumerPerf runs Kafka's own ConsumerPerformance (kafka-tools) over topic with a
// fresh group and returns its records/s over the whole run and over fetching alone
// (without joining the group).
func (b *bench) consumerPerf(ctx context.Context, topic string, round int) (overall, fetch float64, err error) {
	logf("drain, %s: ConsumerPerformance", b.roundName(round))
	cmd := exec.CommandContext(ctx, "java", "-Xmx512m", "-cp", b.classpath, "org.apache.kafka.tools.ConsumerPerformance",
		"--bootstrap-server", b.c.brokers[0], "--topic", topic, "--num-records", strconv.Itoa(b.o.backlog),
		"--group", b.topic(fmt.Sprintf("consumer-perf-%d", round)), "--timeout", "30000")
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("ConsumerPerformance: %w\n%s", err, out)
	}
	return parseConsumerPerf(string(out))
}

// parseConsumerPerf reads ConsumerPerformance's report: a header line of column names
// and a line of values, comma separated.
func parseConsumerPerf(out string) (overall, fetch float64, err error) {
	var header, values []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Split(line, ",")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if header == nil && len(fields) > 1 && strings.HasPrefix(fields[0], "start.time") {
			header = fields
		} else if header != nil && len(fields) == len(header) {
			values = fields
		}
	}
	if values == nil {
		return 0, 0, fmt.Errorf("ConsumerPerformance printed no report:\n%s", out)
	}
	column := func(name string) (float64, error) {
		for i, h := range header {
			if h == name {
				return strconv.ParseFloat(values[i], 64)
			}
		}
		return 0, fmt.Errorf("ConsumerPerformance report has no %s column: %v", name, header)
	}
	if overall, err = column("nMsg.sec"); err != nil {
		return 0, 0, err
	}
	if fetch, err = column("fetch.nMsg.sec"); err != nil {
		return 0, 0, err
	}
	return overall, fetch, nil
}

// hopRun is one broker hop measured by Client: a producer (acks=all) and a consumer,
// one record at a time, each sent once the previous one was consumed. A request to
// streamgate or to the Python original makes two hops in series (the request, then the
// reply). Kafka's EndToEndLatency prints percentiles in whole milliseconds, rounded
// down; its average is exact.
type hopRun struct {
	Client  string  `json:"client"`
	Round   int     `json:"round"`
	Records int     `json:"records"`
	Avg     float64 `json:"avg_ms"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	P999    float64 `json:"p999_ms"`
}

// hopRecords is how many records each hop measurement sends: about as many latencies
// as an open-loop round at 200/s gets.
const hopRecords = 1000

// kafkaHop runs Kafka's EndToEndLatency with records of the size of a request.
func (b *bench) kafkaHop(ctx context.Context, round, records int) (hopRun, error) {
	logf("one broker hop, round %d/%d: Kafka EndToEndLatency", round+1, b.o.rounds)
	topic := b.topic(fmt.Sprintf("hop-%d", round))
	if err := b.c.createTopics(topic); err != nil {
		return hopRun{}, err
	}
	cmd := exec.CommandContext(ctx, "java", "-Xmx256m", "-cp", b.classpath, "org.apache.kafka.tools.EndToEndLatency",
		b.c.brokers[0], topic, strconv.Itoa(records), "all", strconv.Itoa(requestBytes))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return hopRun{}, fmt.Errorf("EndToEndLatency: %w\n%s", err, out)
	}
	run, err := parseEndToEndLatency(string(out))
	run.Client, run.Round, run.Records = "Kafka EndToEndLatency (Java)", round, records
	return run, err
}

// requestBytes is the size of a SampleReqMsg body with a UUID correlation ID.
const requestBytes = 141

var (
	hopAverage     = regexp.MustCompile(`Avg latency: ([0-9.]+) ms`)
	hopPercentiles = regexp.MustCompile(`Percentiles: 50th = ([0-9]+), 99th = ([0-9]+), 99.9th = ([0-9]+)`)
)

// parseEndToEndLatency reads the summary lines EndToEndLatency ends with.
func parseEndToEndLatency(out string) (hopRun, error) {
	avg, pct := hopAverage.FindStringSubmatch(out), hopPercentiles.FindStringSubmatch(out)
	if avg == nil || pct == nil {
		return hopRun{}, fmt.Errorf("EndToEndLatency printed no summary:\n%s", out)
	}
	var v [4]float64
	for i, s := range []string{avg[1], pct[1], pct[2], pct[3]} {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return hopRun{}, fmt.Errorf("EndToEndLatency summary: %w", err)
		}
		v[i] = f
	}
	return hopRun{Avg: v[0], P50: v[1], P99: v[2], P999: v[3]}, nil
}
