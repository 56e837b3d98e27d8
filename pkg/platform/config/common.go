package config

import (
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/platform/buildinfo"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// Settings both services read. The FASTSTREAM_* aliases keep deployments of the Python
// original working unchanged.
var (
	AppVersion   = Var{Name: "APP_VERSION", Default: buildinfo.Version}
	KafkaEnabled = Var{Name: "KAFKA_ENABLED", Aliases: []string{"FASTSTREAM_ENABLE"}, Default: "true"}
	KafkaBrokers = Var{Name: "KAFKA_BROKERS", Aliases: []string{"FASTSTREAM_PROVIDER"}, Default: "localhost:9092"}
	KafkaInTopic = Var{Name: "KAFKA_IN_TOPIC", Default: messages.TopicIn}
	LogLevel     = Var{Name: "LOG_LEVEL", Default: "info"}
	LogFormat    = Var{Name: "LOG_FORMAT", Default: "json"}
	// ShutdownTimeout bounds a graceful stop; Kubernetes' terminationGracePeriodSeconds
	// must be longer.
	ShutdownTimeout = Var{Name: "SHUTDOWN_TIMEOUT", Default: "15s"}
)

// Common holds the settings both services read.
type Common struct {
	HTTPAddr        string
	AppVersion      string
	KafkaEnabled    bool
	KafkaBrokers    []string
	KafkaSecurity   kafka.Security
	InTopic         string
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
}

// CommonVars lists the common settings, with httpAddr the service's HTTP_ADDR; the
// optional security settings are listed apart, by KafkaSecurityVars.
func CommonVars(httpAddr Var) []Var {
	return []Var{httpAddr, AppVersion, KafkaEnabled, KafkaBrokers, KafkaInTopic, LogLevel, LogFormat, ShutdownTimeout}
}

// Common reads the common settings, with httpAddr the service's HTTP_ADDR.
func (r *Reader) Common(httpAddr Var) Common {
	return Common{
		HTTPAddr:        r.Addr(httpAddr),
		AppVersion:      r.String(AppVersion),
		KafkaEnabled:    r.Bool(KafkaEnabled),
		KafkaBrokers:    r.Brokers(KafkaBrokers),
		KafkaSecurity:   r.KafkaSecurity(),
		InTopic:         r.String(KafkaInTopic),
		LogLevel:        r.OneOf(LogLevel, "debug", "info", "warn", "error"),
		LogFormat:       r.OneOf(LogFormat, "json", "console"),
		ShutdownTimeout: r.Duration(ShutdownTimeout),
	}
}
