// Package e2e runs the real gateway and worker binaries against a real Apache Kafka
// 4.3.1 and checks what a user would see: HTTP answers, records on the topics, log lines,
// and behaviour under broker outages and worker crashes; the metrics both services
// expose and the traces they send to an OTLP receiver the test runs, including one a
// real FastStream publisher (tests/python) starts.
//
// The broker comes from STREAMGATE_TEST_KAFKA (host:port of a running broker) or, when
// that is unset, from scripts/kafka/kafka.sh, started for the test run. Tests that stop
// the broker always start one of their own with the same script.
package e2e
