package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var testAddr = Var{Name: "HTTP_ADDR", Default: ":8080"}

func TestCommonDefaults(t *testing.T) {
	r := NewReader()
	got := r.Common(testAddr)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if got.HTTPAddr != ":8080" || !got.KafkaEnabled || !slices.Equal(got.KafkaBrokers, []string{"localhost:9092"}) ||
		got.InTopic != "in-topic" || got.LogLevel != "info" || got.LogFormat != "json" || got.ShutdownTimeout != 15*time.Second {
		t.Fatalf("defaults = %+v", got)
	}
}

func TestPythonAliases(t *testing.T) {
	t.Setenv("FASTSTREAM_PROVIDER", "kafka://k1:9092, k2:9093")
	t.Setenv("FASTSTREAM_ENABLE", "False")
	r := NewReader()
	got := r.Common(testAddr)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if got.KafkaEnabled {
		t.Error("FASTSTREAM_ENABLE=False left Kafka enabled")
	}
	if !slices.Equal(got.KafkaBrokers, []string{"k1:9092", "k2:9093"}) {
		t.Errorf("brokers = %v", got.KafkaBrokers)
	}
}

func TestPrimaryNameWinsOverAlias(t *testing.T) {
	t.Setenv("KAFKA_BROKERS", "primary:9092")
	t.Setenv("FASTSTREAM_PROVIDER", "alias:9092")
	r := NewReader()
	if got := r.Brokers(KafkaBrokers); !slices.Equal(got, []string{"primary:9092"}) {
		t.Fatalf("brokers = %v, want the primary name's value", got)
	}
}

func TestBadValuesNameVariableAndValue(t *testing.T) {
	t.Setenv("HTTP_ADDR", "8080")
	t.Setenv("FASTSTREAM_ENABLE", "maybe")
	t.Setenv("KAFKA_BROKERS", "k1:notaport")
	t.Setenv("LOG_LEVEL", "loud")
	t.Setenv("LOG_FORMAT", "xml")
	t.Setenv("SHUTDOWN_TIMEOUT", "-3s")
	t.Setenv("KAFKA_IN_TOPIC", " ")
	r := NewReader()
	r.Common(testAddr)
	err := r.Err()
	if err == nil {
		t.Fatal("bad values passed")
	}
	for _, want := range []string{
		`HTTP_ADDR="8080"`, `FASTSTREAM_ENABLE="maybe": must be true or false`,
		`KAFKA_BROKERS="k1:notaport"`, `LOG_LEVEL="loud"`, `LOG_FORMAT="xml"`,
		`SHUTDOWN_TIMEOUT="-3s": must be positive`, `KAFKA_IN_TOPIC="": must not be empty`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s:\n%v", want, err)
		}
	}
}

func TestEmptyValueIsAnError(t *testing.T) {
	t.Setenv("KAFKA_IN_TOPIC", "")
	t.Setenv("KAFKA_ENABLED", "")
	r := NewReader()
	r.Common(testAddr)
	err := r.Err()
	for _, want := range []string{`KAFKA_IN_TOPIC="": must not be empty`, `KAFKA_ENABLED="": must be true or false`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %s", err, want)
		}
	}
}

func TestEmptyBrokerList(t *testing.T) {
	t.Setenv("KAFKA_BROKERS", " , ")
	r := NewReader()
	r.Brokers(KafkaBrokers)
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "at least one broker") {
		t.Fatalf("err = %v", err)
	}
}

func TestNames(t *testing.T) {
	got := Names(CommonVars(testAddr)...)
	want := []string{"HTTP_ADDR", "APP_VERSION", "KAFKA_ENABLED", "KAFKA_BROKERS", "KAFKA_IN_TOPIC", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT"}
	if !slices.Equal(got, want) {
		t.Fatalf("Names = %v, want %v", got, want)
	}
}
