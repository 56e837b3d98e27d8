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
