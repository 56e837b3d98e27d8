package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// consumerPerf runs Kafka's own ConsumerPerformance (kafka-tools) over topic with a
// fresh group and returns its records/s over the whole run and over fetching alone
// (without joining the group).
func (b *bench) consumerPerf(ctx context.Context, topic string, round int) (overall, fetch float64, err error) {
	logf("drain, round %d/%d: ConsumerPerformance", round+1, b.o.rounds)
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
