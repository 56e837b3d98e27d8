package workerapp

import (
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/platform/buildinfo"
	"github.com/streamgate/streamgate/pkg/router"
)

// clearEnv unsets every variable the worker reads, aliases included, for the rest of
// the test, so the developer's shell cannot leak into the results.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range vars() {
		for _, name := range append([]string{v.Name}, v.Aliases...) {
			t.Setenv(name, "") // restores the old value after the test
			if err := os.Unsetenv(name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	clearEnv(t)
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"HTTPAddr", cfg.HTTPAddr, ":8081"},
		{"AppVersion", cfg.AppVersion, buildinfo.Version},
		{"KafkaEnabled", cfg.KafkaEnabled, true},
		{"KafkaBrokers", strings.Join(cfg.KafkaBrokers, ","), "localhost:9092"},
		{"InTopic", cfg.InTopic, "in-topic"},
		{"OutTopic", cfg.OutTopic, "out-topic"},
		{"DLQTopic", cfg.DLQTopic, "in-topic.dlq"},
		{"GroupID", cfg.GroupID, "streamgate-worker"},
		{"LogLevel", cfg.LogLevel, "info"},
		{"LogFormat", cfg.LogFormat, "json"},
		{"ShutdownTimeout", cfg.ShutdownTimeout, 15 * time.Second},
		{"Delivery", cfg.Delivery, Delivery{Mode: AtLeastOnce, MaxRecords: router.DefaultTransactionMaxRecords, MaxWait: 5 * time.Millisecond}},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadOverrides(t *testing.T) {
	clearEnv(t)
	env := map[string]string{
		"HTTP_ADDR":                 "127.0.0.1:9000",
		"APP_VERSION":               "1.2.3",
		"KAFKA_ENABLED":             "false",
		"KAFKA_BROKERS":             "k1:9092, k2:9093",
		"KAFKA_IN_TOPIC":            "requests",
		"KAFKA_OUT_TOPIC":           "replies",
		"KAFKA_DLQ_TOPIC":           "requests.dlq",
		"KAFKA_GROUP_ID":            "group-7",
		"LOG_LEVEL":                 "debug",
		"LOG_FORMAT":                "console",
		"SHUTDOWN_TIMEOUT":          "1m30s",
		"METRICS_ADDR":              "off",
		"STUCK_PARTITION_THRESHOLD": "2m",
		"PARTITIONS_AT_FULL_BOUNDS": "6",
		"DELIVERY":                  "exactly-once",
		"TRANSACTION_MAX_RECORDS":   "50",
		"TRANSACTION_MAX_WAIT":      "20ms",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		OutTopic: "replies",
		DLQTopic: "requests.dlq",
		GroupID:  "group-7",

		MetricsAddr:            "off",
		StuckThreshold:         2 * time.Minute,
		PartitionsAtFullBounds: 6,

		Delivery: Delivery{Mode: ExactlyOnce, MaxRecords: 50, MaxWait: 20 * time.Millisecond},
	}
	want.HTTPAddr = "127.0.0.1:9000"
	want.AppVersion = "1.2.3"
	want.KafkaEnabled = false
	want.KafkaBrokers = []string{"k1:9092", "k2:9093"}
	want.InTopic = "requests"
	want.LogLevel = "debug"
	want.LogFormat = "console"
	want.ShutdownTimeout = 90 * time.Second
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load() = %+v\nwant     %+v", cfg, want)
	}
}

// The FastStream names of the Python original still work.
func TestLoadAliases(t *testing.T) {
	clearEnv(t)
	t.Setenv("FASTSTREAM_ENABLE", "false")
	t.Setenv("FASTSTREAM_PROVIDER", "kafka://broker:9092")
	cfg, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.KafkaEnabled {
		t.Error("KafkaEnabled = true, want false from FASTSTREAM_ENABLE")
	}
	if !slices.Equal(cfg.KafkaBrokers, []string{"broker:9092"}) {
		t.Errorf("KafkaBrokers = %q, want [broker:9092] from FASTSTREAM_PROVIDER", cfg.KafkaBrokers)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string // substrings of the error
	}{
		{map[string]string{"KAFKA_GROUP_ID": " "}, []string{`KAFKA_GROUP_ID=""`, "must not be empty"}},
		{map[string]string{"KAFKA_OUT_TOPIC": ""}, []string{`KAFKA_OUT_TOPIC=""`, "must not be empty"}}, // set but empty is a mistake, not the default
		{map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, []string{`SHUTDOWN_TIMEOUT="soon"`}},
		{map[string]string{"HTTP_ADDR": "8081"}, []string{`HTTP_ADDR="8081"`}},
		{map[string]string{"KAFKA_ENABLED": "maybe"}, []string{`KAFKA_ENABLED="maybe"`}},
		{map[string]string{"LOG_LEVEL": "loud"}, []string{`LOG_LEVEL="loud"`}},
		// Every bad variable is reported at once.
		{map[string]string{"LOG_FORMAT": "xml", "KAFKA_BROKERS": "nohost"}, []string{`LOG_FORMAT="xml"`, `KAFKA_BROKERS="nohost"`}},
		{map[string]string{"KAFKA_OUT_TOPIC": "in-topic"}, []string{`KAFKA_OUT_TOPIC="in-topic"`, "KAFKA_IN_TOPIC"}},
		{map[string]string{"KAFKA_IN_TOPIC": "x", "KAFKA_DLQ_TOPIC": "x"}, []string{`KAFKA_DLQ_TOPIC="x"`, "KAFKA_IN_TOPIC"}},
		{map[string]string{"DELIVERY": "exactly_once"}, []string{`DELIVERY="exactly_once"`, "at-least-once, exactly-once"}},
		{map[string]string{"PARTITIONS_AT_FULL_BOUNDS": "0"}, []string{`PARTITIONS_AT_FULL_BOUNDS="0"`, "from 1 to 1000"}},
		{map[string]string{"TRANSACTION_MAX_RECORDS": "0"}, []string{`TRANSACTION_MAX_RECORDS="0"`, "from 1 to 10000"}},
		{map[string]string{"TRANSACTION_MAX_RECORDS": "many"}, []string{`TRANSACTION_MAX_RECORDS="many"`}},
		{map[string]string{"TRANSACTION_MAX_WAIT": "0s"}, []string{`TRANSACTION_MAX_WAIT="0s"`, "positive"}},
		// Names Kafka would refuse only once the worker uses them (issue 16 item 10).
		{map[string]string{"KAFKA_OUT_TOPIC": "out topic"}, []string{`KAFKA_OUT_TOPIC="out topic"`, "only ASCII letters"}},
		{map[string]string{"KAFKA_IN_TOPIC": strings.Repeat("t", 250)}, []string{"KAFKA_IN_TOPIC=", "longer than 249"}},
		{map[string]string{"KAFKA_DLQ_TOPIC": "dlq/é"}, []string{`KAFKA_DLQ_TOPIC="dlq/é"`}},
		{map[string]string{"KAFKA_GROUP_ID": "group:1"}, []string{`KAFKA_GROUP_ID="group:1"`}},
		{map[string]string{"KAFKA_REPLY_TO_TOPICS": "py.replies,in-topic replies"}, []string{"KAFKA_REPLY_TO_TOPICS=", "only ASCII letters"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(slices.Sorted(maps.Keys(tt.env)), "+"), func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadReplyToTopics(t *testing.T) {
	clearEnv(t)
	t.Setenv("KAFKA_REPLY_TO_TOPICS", " in-topic.replies, faststream.replies.* ,py.replies")
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.ReplyTo.Topics, []string{"in-topic.replies", "py.replies"}) ||
		!slices.Equal(cfg.ReplyTo.Patterns, []string{"faststream.replies.*"}) {
		t.Errorf("ReplyTo = %+v", cfg.ReplyTo)
	}
}

func TestEnvVars(t *testing.T) {
	want := []string{
		"HTTP_ADDR", "APP_VERSION", "KAFKA_ENABLED", "KAFKA_BROKERS", "KAFKA_IN_TOPIC",
		"LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT",
		"KAFKA_OUT_TOPIC", "KAFKA_DLQ_TOPIC", "KAFKA_GROUP_ID", "KAFKA_REPLY_TO_TOPICS",
		"METRICS_ADDR", "STUCK_PARTITION_THRESHOLD", "PARTITIONS_AT_FULL_BOUNDS",
		"DELIVERY", "TRANSACTION_MAX_RECORDS", "TRANSACTION_MAX_WAIT",
	}
	if got := EnvVars(); !slices.Equal(got, want) {
		t.Errorf("EnvVars() = %q, want %q", got, want)
	}
}
