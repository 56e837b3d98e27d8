package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.InTopic != "in-topic" || !cfg.KafkaEnabled || cfg.MetricsAddr != ":9090" || cfg.AccessLog != AccessLogErrors ||
		cfg.ReplyPartitionCheckInterval != 30*time.Second || cfg.KafkaLinger != time.Millisecond || cfg.MaxInFlightRequests != 1024 {
		t.Fatalf("defaults = %+v", cfg)
	}
}

func TestLoadAliasDisablesKafka(t *testing.T) {
	t.Setenv("FASTSTREAM_ENABLE", "false")
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KafkaEnabled {
		t.Fatal("FASTSTREAM_ENABLE=false left Kafka enabled")
	}
}

func TestLoadRejectsBadValue(t *testing.T) {
	t.Setenv("SHUTDOWN_TIMEOUT", "soon")
	_, err := Load()
	if err == nil || !strings.Contains(err.Error(), `SHUTDOWN_TIMEOUT="soon"`) {
		t.Fatalf("err = %v, want it to name SHUTDOWN_TIMEOUT and its value", err)
	}
}

func TestMaxInFlightRequests(t *testing.T) {
	t.Setenv("MAX_IN_FLIGHT_REQUESTS", "0")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `MAX_IN_FLIGHT_REQUESTS="0"`) {
		t.Fatalf("err = %v, want it to name MAX_IN_FLIGHT_REQUESTS and its value", err)
	}
	t.Setenv("MAX_IN_FLIGHT_REQUESTS", "50")
	if cfg, err := Load(); err != nil || cfg.MaxInFlightRequests != 50 {
		t.Fatalf("MAX_IN_FLIGHT_REQUESTS=50: %+v, %v", cfg, err)
	}
}

func TestEnvVars(t *testing.T) {
	want := []string{"HTTP_ADDR", "APP_VERSION", "KAFKA_ENABLED", "KAFKA_BROKERS", "KAFKA_IN_TOPIC", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT", "METRICS_ADDR", "ACCESS_LOG", "REPLY_PARTITION_CHECK_INTERVAL", "KAFKA_LINGER", "TRUST_INCOMING_TRACE_CONTEXT", "MAX_IN_FLIGHT_REQUESTS", "LAG_GROUP_ID"}
	if got := EnvVars(); !slices.Equal(got, want) {
		t.Fatalf("EnvVars = %v, want %v", got, want)
	}
}

func TestMetricsAddr(t *testing.T) {
	t.Setenv("METRICS_ADDR", "off")
	if cfg, err := Load(); err != nil || cfg.MetricsAddr != "off" {
		t.Fatalf("METRICS_ADDR=off: %+v, %v", cfg, err)
	}
	t.Setenv("METRICS_ADDR", "9090")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `METRICS_ADDR="9090"`) {
		t.Fatalf("err = %v, want it to name METRICS_ADDR and its value", err)
	}
	t.Setenv("METRICS_ADDR", "")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `METRICS_ADDR=""`) {
		t.Fatalf("err = %v, want an empty METRICS_ADDR refused", err)
	}
}

func TestAccessLog(t *testing.T) {
	t.Setenv("ACCESS_LOG", "all")
	if cfg, err := Load(); err != nil || cfg.AccessLog != AccessLogAll {
		t.Fatalf("ACCESS_LOG=all: %+v, %v", cfg, err)
	}
	t.Setenv("ACCESS_LOG", "some")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `ACCESS_LOG="some"`) {
		t.Fatalf("err = %v, want it to name ACCESS_LOG and its value", err)
	}
}

func TestReplyPartitionCheckInterval(t *testing.T) {
	t.Setenv("REPLY_PARTITION_CHECK_INTERVAL", "2s")
	if cfg, err := Load(); err != nil || cfg.ReplyPartitionCheckInterval != 2*time.Second {
		t.Fatalf("REPLY_PARTITION_CHECK_INTERVAL=2s: %+v, %v", cfg, err)
	}
	for _, bad := range []string{"often", "0s", "-1s", ""} {
		t.Setenv("REPLY_PARTITION_CHECK_INTERVAL", bad)
		if _, err := Load(); err == nil || !strings.Contains(err.Error(), `REPLY_PARTITION_CHECK_INTERVAL="`+bad+`"`) {
			t.Errorf("err = %v, want %q refused with the variable and its value", err, bad)
		}
	}
}

func TestKafkaLinger(t *testing.T) {
	for value, want := range map[string]time.Duration{"0": 0, "0s": 0, "500us": 500 * time.Microsecond, "5ms": 5 * time.Millisecond} {
		t.Setenv("KAFKA_LINGER", value)
		if cfg, err := Load(); err != nil || cfg.KafkaLinger != want {
			t.Fatalf("KAFKA_LINGER=%s: %v, %v; want %v", value, cfg.KafkaLinger, err, want)
		}
	}
	for _, bad := range []string{"soon", "-1ms", ""} {
		t.Setenv("KAFKA_LINGER", bad)
		if _, err := Load(); err == nil || !strings.Contains(err.Error(), `KAFKA_LINGER="`+bad+`"`) {
			t.Errorf("err = %v, want %q refused with the variable and its value", err, bad)
		}
	}
}

func TestLagGroupID(t *testing.T) {
	if cfg, err := Load(); err != nil || cfg.LagGroupID != "streamgate-worker" {
		t.Fatalf("default: %q, %v; want the worker's default group", cfg.LagGroupID, err)
	}
	t.Setenv("LAG_GROUP_ID", " ")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `LAG_GROUP_ID=""`) {
		t.Fatalf("err = %v, want an empty LAG_GROUP_ID refused", err)
	}
}
