// Package testkit is what the e2e, cluster, deploy and bench suites share: a
// Kafka from scripts/kafka/kafka.sh, topics that are ready to use, reading a
// topic to its high-water mark, record headers, free loopback ports, HTTP
// calls and polling, an output buffer safe to read while a process writes, and the
// Strimzi KafkaUser fields the deploy and cluster suites read.
package testkit
