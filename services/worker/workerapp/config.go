package workerapp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	platform "github.com/streamgate/streamgate/pkg/platform/config"
	"github.com/streamgate/streamgate/pkg/platform/metrics"
	"github.com/streamgate/streamgate/pkg/router"
)

// The worker's own settings; the ones it shares with the gateway live in the platform
// config package.
var (
	httpAddr = platform.Var{Name: "HTTP_ADDR", Default: ":8081"}
	outTopic = platform.Var{Name: "KAFKA_OUT_TOPIC", Default: messages.TopicOut}
	dlqTopic = platform.Var{Name: "KAFKA_DLQ_TOPIC", Default: messages.TopicDeadLetter}
	groupID  = platform.Var{Name: "KAFKA_GROUP_ID", Default: "streamgate-worker"}
	// replyToTopics lists the topics (and path.Match patterns) a record's reply_to may
	// name; empty: "<KAFKA_IN_TOPIC>.replies", where the gateway waits.
	replyToTopics = platform.Var{Name: "KAFKA_REPLY_TO_TOPICS", Default: ""}
	// metricsAddr is where /metrics is served, apart from the probes; "off" turns it off.
	metricsAddr = platform.Var{Name: "METRICS_ADDR", Default: ":9091"}
	// stuckThreshold: a partition whose oldest unfinished record is older is stuck.
	stuckThreshold = platform.Var{Name: "STUCK_PARTITION_THRESHOLD", Default: router.DefaultStuckThreshold.String()}
	// partitionsAtFullBounds: how many partitions the worker holds at the full in-flight
	// and read-ahead bounds; owning more, each gets its share (router.Config). The
	// chart's memory limit is sized for the default.
	partitionsAtFullBounds = platform.Var{Name: "PARTITIONS_AT_FULL_BOUNDS", Default: strconv.Itoa(router.DefaultPartitionsAtFullBounds)}
)

// maxPartitionsAtFullBounds bounds PARTITIONS_AT_FULL_BOUNDS: beyond it, a typo.
const maxPartitionsAtFullBounds = 1000

// Config is everything a worker reads at start-up. InTopic, OutTopic, DLQTopic and
// ReplyTo are the settings of the service's main route (the ping flow's); a service
// with more routes names their topics itself.
type Config struct {
	platform.Common
	OutTopic string // replies
	DLQTopic string // records the route gives up on
	GroupID  string // consumer group on the routed topics
	// ReplyTo is the main route's reply_to allow-list.
	ReplyTo router.ReplyToPolicy

	MetricsAddr            string // host:port, or metrics.Disabled
	StuckThreshold         time.Duration
	PartitionsAtFullBounds int

	Delivery Delivery // DELIVERY and its transactions (delivery.go)
}

// vars lists every setting the worker reads, in the order the docs list them.
func vars() []platform.Var {
	return append(append(platform.CommonVars(httpAddr), outTopic, dlqTopic, groupID, replyToTopics, metricsAddr, stuckThreshold, partitionsAtFullBounds),
		deliveryVars()...)
}

// EnvVars returns the primary names (aliases excluded) of every environment variable
// the worker reads.
func EnvVars() []string {
	return platform.Names(vars()...)
}

// Load reads the configuration from the environment. The error names every bad
// variable and its value.
func Load() (Config, error) {
	r := platform.NewReader()
	cfg := Config{
		Common:   r.Common(httpAddr),
		OutTopic: r.String(outTopic),
		DLQTopic: r.String(dlqTopic),
		GroupID:  r.String(groupID),

		MetricsAddr:            r.AddrOrOff(metricsAddr, metrics.Disabled),
		StuckThreshold:         r.Duration(stuckThreshold),
		PartitionsAtFullBounds: r.PositiveInt(partitionsAtFullBounds, maxPartitionsAtFullBounds),
		Delivery:               readDelivery(r),
	}
	// Kafka refuses bad names only when the worker first uses them: it would start,
	// look ready and retry forever.
	for _, v := range []struct {
		name, value string
	}{{platform.KafkaInTopic.Name, cfg.InTopic}, {outTopic.Name, cfg.OutTopic}, {dlqTopic.Name, cfg.DLQTopic}} {
		if err := router.ValidTopic(v.value); v.value != "" && err != nil {
			r.Check(false, fmt.Sprintf("%s=%q: %v", v.name, truncate(v.value), err))
		}
	}
	if err := router.ValidGroup(cfg.GroupID); cfg.GroupID != "" && err != nil {
		r.Check(false, fmt.Sprintf("%s=%q: %v", groupID.Name, truncate(cfg.GroupID), err))
	}
	cfg.ReplyTo = readReplyTo(r)
	if err := r.Err(); err != nil {
		return Config{}, err
	}
	// Replies are valid requests as far as the codec is concerned, and dead letters are
	// records again: either topic equal to the in-topic would feed the worker its own
	// output forever.
	for _, v := range []struct {
		name, value string
	}{{outTopic.Name, cfg.OutTopic}, {dlqTopic.Name, cfg.DLQTopic}} {
		if v.value == cfg.InTopic {
			return Config{}, fmt.Errorf("invalid configuration: %s=%q: must differ from %s, or the worker would consume its own output",
				v.name, v.value, platform.KafkaInTopic.Name)
		}
	}
	return cfg, nil
}

// readReplyTo reads KAFKA_REPLY_TO_TOPICS: comma-separated topic names and path.Match
// patterns (those with * ? or [).
func readReplyTo(r *platform.Reader) router.ReplyToPolicy {
	var p router.ReplyToPolicy
	raw := r.Optional(replyToTopics)
	for _, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case strings.ContainsAny(item, "*?["):
			p.Patterns = append(p.Patterns, item)
		default:
			if err := router.ValidTopic(item); err != nil {
				r.Check(false, fmt.Sprintf("%s=%q: %v", replyToTopics.Name, truncate(raw), err))
				continue
			}
			p.Topics = append(p.Topics, item)
		}
	}
	return p
}

func truncate(s string) string {
	if len(s) > router.MaxNameLength+11 {
		return s[:router.MaxNameLength] + "..."
	}
	return s
}
