// Package grouplag reports a consumer group's lag as the broker sees it: per partition
// of a topic, the high-water mark minus the group's committed offset. The worker's own
// lag gauge exists only while a worker holds the partition, so it vanishes exactly when
// nothing consumes (stopped, crash-looping, unable to join); this one is read from the
// broker by the gateway at each scrape, whether a worker runs or not.
package grouplag

import (
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

// minInterval is how long one reading of the broker serves scrapes: several
// Prometheus replicas scraping one gateway cost the broker one query.
const minInterval = time.Second

// Collector is a prometheus.Collector of group's lag on topic. Close it on shutdown.
type Collector struct {
	brokers  []string
	security kafka.Security
	group    string
	topic    string
	timeout  time.Duration
	logger   *zap.Logger

	lagDesc, upDesc *prometheus.Desc

	mu      sync.Mutex
	client  sarama.Client
	read    time.Time
	lags    map[int32]int64
	readErr error
	warned  bool
}

// New returns a collector of group's lag on topic; each round trip to the broker is
// bounded by a third of timeout (keep timeout under the scrape timeout).
func New(brokers []string, security kafka.Security, group, topic string, timeout time.Duration, logger *zap.Logger) *Collector {
	labels := prometheus.Labels{"group": group, "topic": topic}
	return &Collector{
		brokers: brokers, security: security, group: group, topic: topic, timeout: timeout, logger: logger,
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

// Collect reads the lag from the broker (or reuses a reading younger than a second).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	lags, err := c.reading()
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.upDesc, prometheus.GaugeValue, up)
	for p, lag := range lags {
		ch <- prometheus.MustNewConstMetric(c.lagDesc, prometheus.GaugeValue, float64(lag), strconv.Itoa(int(p)))
	}
}

func (c *Collector) reading() (map[int32]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.read) < minInterval {
		return c.lags, c.readErr
	}
	c.lags, c.readErr = c.readLags()
	c.read = time.Now()
	switch {
	case c.readErr != nil && !c.warned:
		c.logger.Warn("cannot read the consumer group's lag from the broker", zap.String("group", c.group),
			logging.Topic(c.topic), zap.Error(c.readErr))
		c.warned = true
	case c.readErr == nil && c.warned:
		c.logger.Info("reading the consumer group's lag from the broker again", zap.String("group", c.group), logging.Topic(c.topic))
		c.warned = false
	}
	return c.lags, c.readErr
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
	if err := client.RefreshMetadata(c.topic); err != nil {
		return nil, fmt.Errorf("grouplag: metadata of %s: %w", c.topic, err)
	}
	partitions, err := client.Partitions(c.topic)
	if err != nil {
		return nil, fmt.Errorf("grouplag: partitions of %s: %w", c.topic, err)
	}
	coordinator, err := client.Coordinator(c.group)
	if err != nil {
		return nil, fmt.Errorf("grouplag: coordinator of group %s: %w", c.group, err)
	}
	req := &sarama.OffsetFetchRequest{Version: 5, ConsumerGroup: c.group}
	for _, p := range partitions {
		req.AddPartition(c.topic, p)
	}
	resp, err := coordinator.FetchOffset(req)
	if err != nil {
		return nil, fmt.Errorf("grouplag: committed offsets of group %s: %w", c.group, err)
	}
	if !errors.Is(resp.Err, sarama.ErrNoError) {
		return nil, fmt.Errorf("grouplag: committed offsets of group %s: %w", c.group, resp.Err)
	}
	lags := make(map[int32]int64, len(partitions))
	for _, p := range partitions {
		hwm, err := client.GetOffset(c.topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("grouplag: high-water mark of %s/%d: %w", c.topic, p, err)
		}
		committed := int64(-1)
		if block := resp.GetBlock(c.topic, p); block != nil {
			if !errors.Is(block.Err, sarama.ErrNoError) {
				return nil, fmt.Errorf("grouplag: committed offset of %s/%d: %w", c.topic, p, block.Err)
			}
			committed = block.Offset
		}
		if committed < 0 {
			if committed, err = client.GetOffset(c.topic, p, sarama.OffsetOldest); err != nil {
				return nil, fmt.Errorf("grouplag: log start of %s/%d: %w", c.topic, p, err)
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
	cfg.Net.DialTimeout = c.timeout / 3
	cfg.Net.ReadTimeout = c.timeout / 3
	cfg.Net.WriteTimeout = c.timeout / 3
	cfg.Metadata.Retry.Max = 0
	if err := c.security.Apply(cfg); err != nil {
		return nil, err
	}
	client, err := sarama.NewClient(c.brokers, cfg)
	if err != nil {
		return nil, c.security.Explain(fmt.Errorf("grouplag: new client: %w", err))
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

// Close closes the connection to the brokers.
func (c *Collector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropClient()
}
