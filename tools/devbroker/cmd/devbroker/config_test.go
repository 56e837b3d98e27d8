package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	want := config{
		host:       "127.0.0.1",
		port:       9092,
		topics:     []string{"in-topic", "out-topic", "in-topic.dlq", "in-topic.replies", "orders", "orders.results", "orders.dlq"},
		partitions: 3,
		logLevel:   kfake.LogLevelNone,
	}
	if !equalConfig(cfg, want) {
		t.Errorf("parseConfig(nil) = %+v, want %+v", cfg, want)
	}
}

func TestParseConfigFlags(t *testing.T) {
	cfg, err := parseConfig([]string{
		"-addr", "[::1]:0", "-topics", " a , b.c,d_e-f ", "-partitions", "1", "-log-level", "DEBUG",
	}, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	want := config{host: "::1", port: 0, topics: []string{"a", "b.c", "d_e-f"}, partitions: 1, logLevel: kfake.LogLevelDebug}
	if !equalConfig(cfg, want) {
		t.Errorf("parseConfig = %+v, want %+v", cfg, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // substring of the error
	}{
		{[]string{"-addr", "9092"}, "-addr: address 9092: missing port in address"},
		{[]string{"-addr", "localhost:kafka"}, `port "kafka" is not a number`},
		{[]string{"-addr", "localhost:70000"}, `port "70000" is not a number from 0 to 65535`},
		{[]string{"-addr", ":9092"}, `host must be one clients can dial, such as 127.0.0.1, not ""`},
		{[]string{"-addr", "0.0.0.0:9092"}, `not "0.0.0.0"`},
		{[]string{"-addr", "[::]:9092"}, `not "::"`},
		{[]string{"-topics", ""}, `-topics: "" is not a valid Kafka topic name`},
		{[]string{"-topics", "a,,b"}, `-topics: "" is not a valid Kafka topic name`},
		{[]string{"-topics", "in topic"}, `"in topic" is not a valid Kafka topic name`},
		{[]string{"-topics", ".."}, `".." is not a valid Kafka topic name`},
		{[]string{"-topics", strings.Repeat("t", 250)}, "is not a valid Kafka topic name"},
		{[]string{"-partitions", "0"}, "-partitions must be between 1 and 1000, got 0"},
		{[]string{"-partitions", "1001"}, "got 1001"},
		{[]string{"-log-level", "loud"}, `-log-level must be none, error, warn, info or debug, got "loud"`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
	}
	for _, tt := range tests {
		name := strings.Join(tt.args, " ")
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseConfig error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	var usage strings.Builder
	_, err := parseConfig([]string{"-h"}, &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseConfig(-h) error = %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-addr", "-topics", "-partitions", "-log-level"} {
		if !strings.Contains(usage.String(), name) {
			t.Errorf("usage does not mention %s:\n%s", name, usage.String())
		}
	}
}

func equalConfig(a, b config) bool {
	return a.host == b.host && a.port == b.port && slices.Equal(a.topics, b.topics) &&
		a.partitions == b.partitions && a.logLevel == b.logLevel
}
