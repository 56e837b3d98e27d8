// Package grouplag reports a consumer group's lag as the broker sees it: per partition
// of a topic, the high-water mark minus the group's committed offset. The worker's own
// lag gauge exists only while a worker holds the partition, so it vanishes exactly when
// nothing consumes (stopped, crash-looping, unable to join); this one is read from the
// broker by the gateway every few seconds, whether a worker runs or not.
package grouplag

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
)

// Names of the series the collector serves.
const (
	LagMetric = "streamgate_consumer_group_lag"
	UpMetric  = "streamgate_consumer_group_lag_up"
)

// A reading is refreshed every interval in the background, so a scrape never waits for
// the broker (a dead one would make the whole /metrics time out); lag older than
// staleAfter is no longer served.
const (
	interval   = 5 * time.Second
	staleAfter = 30 * time.Second
)

// Config says whose lag a Collector reads, and how.
type Config struct {
	Brokers  []string
	Security kafka.Security
	Group    string // the consumer group
	Topic    string // the topic it consumes
	Timeout  time.Duration
	Logger   *zap.Logger
}

// Collector is a prometheus.Collector of group's lag on topic, read by Run.
type Collector struct {
	cfg Config

	lagDesc, upDesc *prometheus.Desc

	client sarama.Client // Run's alone
	warned bool          // Run's alone

	mu     sync.Mutex
	lags   map[int32]int64
	readAt time.Time // of lags
	up     bool
}

// New returns a collector of cfg.Group's lag on cfg.Topic; each round trip to the broker
// is bounded by a third of cfg.Timeout. Start Run.
func New(cfg Config) *Collector {
	labels := prometheus.Labels{"group": cfg.Group, "topic": cfg.Topic}
	return &Collector{
		cfg: cfg,
		lagDesc: prometheus.NewDesc(LagMetric,
			"High-water mark minus the group's committed offset, per partition, read from the broker (exists while no consumer runs).",
			[]string{"partition"}, labels),
		upDesc: prometheus.NewDesc(UpMetric,
			"1 if the last reading of the group's offsets from the broker succeeded, else 0.",
			nil, labels),
	}
}

// Describe sends the descriptions of the two metrics.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lagDesc
	ch <- c.upDesc
}

// Collect serves the last reading.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	up := 0.0
	if c.up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.upDesc, prometheus.GaugeValue, up)
	if time.Since(c.readAt) > staleAfter {
		return
	}
	for p, lag := range c.lags {
		ch <- prometheus.MustNewConstMetric(c.lagDesc, prometheus.GaugeValue, float64(lag), strconv.Itoa(int(p)))
	}
}

// Run reads the lag every few seconds until ctx ends, then closes its connection.
func (c *Collector) Run(ctx context.Context) {
	defer c.dropClient()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		c.refresh()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (c *Collector) refresh() {
	lags, err := c.readLags()
	c.mu.Lock()
	c.up = err == nil
	if err == nil {
		c.lags, c.readAt = lags, time.Now()
	}
	c.mu.Unlock()
	switch {
	case err != nil && !c.warned:
		c.cfg.Logger.Warn("cannot read the consumer group's lag from the broker", zap.String("group", c.cfg.Group),
			logging.Topic(c.cfg.Topic), zap.Error(err))
		c.warned = true
	case err == nil && c.warned:
		c.cfg.Logger.Info("reading the consumer group's lag from the broker again", zap.String("group", c.cfg.Group), logging.Topic(c.cfg.Topic))
		c.warned = false
	}
}

// readLags asks the broker for the topic's partitions, their high-water marks and log
// start offsets, and the group's committed offsets. A partition the group never
// committed counts from its log start: the worker starts a new group at the oldest
// record.
func (c *Collector) readLags() (map[int32]int64, error) {
	client, err := c.connect()
	if err != nil {
		return nil, err
	}
	lags, err := c.query(client)
	if err != nil {
		// A broker gone or a credential rotated: connect afresh next time.
		c.dropClient()
		return nil, err
	}
	return lags, nil
}

func (c *Collector) query(client sarama.Client) (map[int32]int64, error) {
	if err := client.RefreshMetadata(c.cfg.Topic); err != nil {
		return nil, fmt.Errorf("grouplag: metadata of %s: %w", c.cfg.Topic, err)
	}
	partitions, err := client.Partitions(c.cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("grouplag: partitions of %s: %w", c.cfg.Topic, err)
	}
	coordinator, err := client.Coordinator(c.cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("grouplag: coordinator of group %s: %w", c.cfg.Group, err)
	}
	req := &sarama.OffsetFetchRequest{Version: 5, ConsumerGroup: c.cfg.Group}
	for _, p := range partitions {
		req.AddPartition(c.cfg.Topic, p)
	}
	resp, err := coordinator.FetchOffset(req)
	if err != nil {
		return nil, fmt.Errorf("grouplag: committed offsets of group %s: %w", c.cfg.Group, err)
	}
	if !errors.Is(resp.Err, sarama.ErrNoError) {
		return nil, fmt.Errorf("grouplag: committed offsets of group %s: %w", c.cfg.Group, resp.Err)
	}
	lags := make(map[int32]int64, len(partitions))
	for _, p := range partitions {
		hwm, err := client.GetOffset(c.cfg.Topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("grouplag: high-water mark of %s/%d: %w", c.cfg.Topic, p, err)
		}
		committed := int64(-1)
		if block := resp.GetBlock(c.cfg.Topic, p); block != nil {
			if !errors.Is(block.Err, sarama.ErrNoError) {
				return nil, fmt.Errorf("grouplag: committed offset of %s/%d: %w", c.cfg.Topic, p, block.Err)
			}
			committed = block.Offset
		}
		if committed < 0 {
			if committed, err = client.GetOffset(c.cfg.Topic, p, sarama.OffsetOldest); err != nil {
				return nil, fmt.Errorf("grouplag: log start of %s/%d: %w", c.cfg.Topic, p, err)
			}
		}
		lags[p] = max(hwm-committed, 0)
	}
	return lags, nil
}

func (c *Collector) connect() (sarama.Client, error) {
	if c.client != nil && !c.client.Closed() {
		return c.client, nil
	}
	cfg := kafka.ConsumerConfig("streamgate-gateway-grouplag")
	// A reading is a few round trips: each bounded to a third of its time, no retries,
	// so a dead broker fails a scrape instead of holding it.
	cfg.Net.DialTimeout = c.cfg.Timeout / 3
	cfg.Net.ReadTimeout = c.cfg.Timeout / 3
	cfg.Net.WriteTimeout = c.cfg.Timeout / 3
	cfg.Metadata.Retry.Max = 0
	if err := c.cfg.Security.Apply(cfg); err != nil {
		return nil, err
	}
	client, err := sarama.NewClient(c.cfg.Brokers, cfg)
	if err != nil {
		return nil, c.cfg.Security.Explain(fmt.Errorf("grouplag: new client: %w", err))
	}
	c.client = client
	return client, nil
}

func (c *Collector) dropClient() {
	if c.client != nil {
		_ = c.client.Close()
		c.client = nil
	}
}
