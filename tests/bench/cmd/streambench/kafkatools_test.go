package main

import "testing"

func TestParseConsumerPerf(t *testing.T) {
	// As Kafka 4.3's ConsumerPerformance prints it (a warning line may come first).
	out := `WARNING: something
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-01 06:20:01:123, 2026-12-01 06:20:02:456, 38.1470, 28.6174, 200000, 150037.5094, 312, 1021, 37.3624, 195886.3859
`
	overall, fetch, err := parseConsumerPerf(out)
	if err != nil {
		t.Fatal(err)
	}
	if overall != 150037.5094 || fetch != 195886.3859 {
		t.Errorf("got %v, %v", overall, fetch)
	}
	if _, _, err := parseConsumerPerf("Exception in thread main\n"); err == nil {
		t.Error("no error for output without a report")
	}
}

func TestParseEndToEndLatency(t *testing.T) {
	// As Kafka 4.3's EndToEndLatency prints it: every 1000th latency, then a summary.
	out := `Topic "hop" does not exist. Will create topic with 1 partition(s) and replication factor = 1
0	143.567636
1000	1.31272
Avg latency: 2.5950 ms
Percentiles: 50th = 1, 99th = 12, 99.9th = 95
`
	got, err := parseEndToEndLatency(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := (hopRun{Avg: 2.595, P50: 1, P99: 12, P999: 95}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseEndToEndLatency("Exception in thread main\n"); err == nil {
		t.Error("no error for output without a summary")
	}
}
