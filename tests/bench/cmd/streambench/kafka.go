package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// partitions of every topic the benchmark makes: what the test broker gives auto-created
// topics (num.partitions in scripts/kafka/kafka.sh).
const partitions = 3

// fullJIT is the broker's JVM with both JIT compilers (kafka.sh defaults to C1 only,
// which starts faster but caps throughput), heap fixed so sizing does not wander.
const (
	fullJIT   = "-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true"
	fixedHeap = "-Xms1g -Xmx1g"
)

// startBroker runs scripts/kafka/kafka.sh start with full-JIT settings on free
// loopback ports.
func startBroker(root string) (*testkit.Kafka, error) {
	return testkit.StartKafka(root, "KAFKA_JVM_PERFORMANCE_OPTS="+fullJIT, "KAFKA_HEAP_OPTS="+fixedHeap)
}

// kafkaTools makes sure Kafka's tools jar (ConsumerPerformance) is in the cache next to
// the broker's jars and returns the classpath of both.
func kafkaTools(ctx context.Context, root string) (string, error) {
	install := exec.CommandContext(ctx, filepath.Join(root, "scripts/kafka/kafka.sh"), "install")
	install.Stderr = os.Stderr
	if err := install.Run(); err != nil {
		return "", fmt.Errorf("kafka.sh install: %w", err)
	}
	home := filepath.Join(cacheRoot(), "kafka-"+kafkaVersion)
	jar := filepath.Join(home, "tools", "kafka-tools-"+kafkaVersion+".jar")
	if _, err := os.Stat(jar); err != nil {
		tmp, err := os.MkdirTemp(home, "tools.tmp.")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		mvn := exec.CommandContext(ctx, "mvn", "-q", "-B", "dependency:copy",
			"-Dartifact=org.apache.kafka:kafka-tools:"+kafkaVersion, "-DoutputDirectory="+tmp)
		if out, err := mvn.CombinedOutput(); err != nil {
			return "", fmt.Errorf("mvn dependency:copy kafka-tools: %w\n%s", err, out)
		}
		if err := os.MkdirAll(filepath.Dir(jar), 0o755); err != nil {
			return "", err
		}
		if err := os.Rename(filepath.Join(tmp, filepath.Base(jar)), jar); err != nil {
			return "", err
		}
	}
	libs, err := filepath.Glob(filepath.Join(home, "libs", "*.jar"))
	if err != nil || len(libs) == 0 {
		return "", fmt.Errorf("no broker jars in %s/libs", home)
	}
	return strings.Join(append(libs, jar), ":"), nil
}

const kafkaVersion = "4.3.1"

func cacheRoot() string {
	if dir := os.Getenv("STREAMGATE_CACHE"); dir != "" {
		return dir
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "streamgate")
}

// cluster holds the benchmark's admin connection.
type cluster struct {
	brokers []string
	client  sarama.Client
	admin   sarama.ClusterAdmin
	created []string // topics to delete at the end, on a broker that outlives the run
}

func dialCluster(addr string) (*cluster, error) {
	brokers := strings.Split(addr, ",")
	client, err := sarama.NewClient(brokers, kafka.ConsumerGroupConfig("streambench"))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return nil, errors.Join(err, client.Close())
	}
	return &cluster{brokers: brokers, client: client, admin: admin}, nil
}

// Close deletes the topics the run created and disconnects.
func (c *cluster) Close() {
	for _, topic := range c.created {
		_ = c.admin.DeleteTopic(topic)
	}
	_ = c.admin.Close()
}

// createTopics makes the topics and waits until every partition has a leader.
func (c *cluster) createTopics(names ...string) error {
	c.created = append(c.created, names...)
	return testkit.CreateTopics(context.Background(), c.client, sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, names...)
}

// records returns the number of records in topic (the sum of its high-water marks).
func (c *cluster) records(topic string) (int64, error) {
	if err := c.client.RefreshMetadata(topic); err != nil {
		return 0, err
	}
	return testkit.HighWaterMarks(c.client, topic)
}

// written is how far a drain got: the records a topic held when it was first seen
// non-empty, and when it was first seen non-empty and holding n.
type written struct {
	atFirst     int64
	first, last time.Time
}

// steady is the rate from the first poll that saw records to the one that saw n.
func (w written) steady(n int) float64 {
	return float64(int64(n)-w.atFirst) / max(w.last.Sub(w.first), time.Millisecond).Seconds()
}

// waitWritten polls topic's high-water marks every 10ms until it holds n records:
// counting what the broker took costs the measured process nothing, where reading the
// records back would take CPU from it. alive is checked between polls (a process that
// exited); timeout bounds the wait.
func (c *cluster) waitWritten(ctx context.Context, topic string, u until) (written, error) {
	if err := c.client.RefreshMetadata(topic); err != nil {
		return written{}, err
	}
	return c.waitCounted(ctx, func() (int64, error) { return testkit.HighWaterMarks(c.client, topic) }, topic, u)
}

// waitCommitted is waitWritten counting group's committed offsets of topic (the
// records it consumed and committed) instead of what was written.
func (c *cluster) waitCommitted(ctx context.Context, group, topic string, u until) (written, error) {
	return c.waitCounted(ctx, func() (int64, error) { return c.committed(group, topic) }, "the offsets of "+group, u)
}

// committed is the sum of group's committed offsets of topic's partitions.
func (c *cluster) committed(group, topic string) (int64, error) {
	coordinator, err := c.client.Coordinator(group)
	if err != nil {
		return 0, err
	}
	ps := make([]int32, partitions)
	for i := range ps {
		ps[i] = int32(i)
	}
	resp, err := coordinator.FetchOffset(sarama.NewOffsetFetchRequest(c.client.Config().Version, group, map[string][]int32{topic: ps}))
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, p := range ps {
		if block := resp.GetBlock(topic, p); block != nil && block.Err == sarama.ErrNoError && block.Offset > 0 {
			sum += block.Offset
		}
	}
	return sum, nil
}

// until is what a wait waits for: n records, at most timeout, while alive (the process
// measured, checked between polls) returns nil.
type until struct {
	n       int
	timeout time.Duration
	alive   func() error
}

// waitCounted waits until count, what, reaches u.n; see waitWritten.
func (c *cluster) waitCounted(ctx context.Context, count func() (int64, error), what string, u until) (written, error) {
	n, timeout, alive := u.n, u.timeout, u.alive
	var w written
	deadline := time.Now().Add(timeout)
	for {
		sum, err := count()
		if err != nil {
			// A topic just created may not be served by the leader its metadata names yet.
			if time.Now().After(deadline) {
				return w, err
			}
			_ = c.client.RefreshMetadata()
			time.Sleep(10 * time.Millisecond)
			continue
		}
		now := time.Now()
		if sum > 0 && w.first.IsZero() {
			w.atFirst, w.first = sum, now
		}
		if sum >= int64(n) {
			w.last = now
			return w, nil
		}
		if err := alive(); err != nil {
			return w, err
		}
		if now.After(deadline) {
			return w, fmt.Errorf("%d of %d records counted in %s within %v", sum, n, what, timeout)
		}
		select {
		case <-ctx.Done():
			return w, errors.Join(errStopped, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitDrained waits until out holds a reply for every record in in, that is until a
// system has answered its whole backlog, or timeout passes.
func (c *cluster) waitDrained(ctx context.Context, in, out string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		requests, err := c.records(in)
		if err != nil {
			return err
		}
		replies, err := c.records(out)
		if err != nil {
			return err
		}
		if replies >= requests {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("backlog not drained within %v: %d requests in %s, %d replies in %s", timeout, requests, in, replies, out)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// replyWatch reads every reply that arrives on a topic from the moment it started and
// notes when each correlation ID was first seen.
type replyWatch struct {
	mu       sync.Mutex
	seen     map[string]time.Time
	consumer sarama.Consumer
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func (c *cluster) watchReplies(ctx context.Context, topic string) (*replyWatch, error) {
	cfg := kafka.ConsumerGroupConfig("streambench-replies")
	cfg.Consumer.MaxWaitTime = 50 * time.Millisecond
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted // a reply counts once its transaction (if any) commits
	consumer, err := sarama.NewConsumer(c.brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("reply consumer: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &replyWatch{seen: map[string]time.Time{}, consumer: consumer, cancel: cancel}
	for p := range int32(partitions) {
		pc, err := consumePartition(consumer, topic, p)
		if err != nil {
			w.stop()
			return nil, fmt.Errorf("watch %s/%d: %w", topic, p, err)
		}
		w.wg.Go(func() {
			defer func() { _ = pc.Close() }()
			for {
				select {
				case msg, ok := <-pc.Messages():
					if !ok {
						return
					}
					w.note(msg.Value)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	return w, nil
}

// consumePartition opens partition p of topic from its end, retrying for a while: a
// topic just created may have a leader in the metadata before that leader serves it.
func consumePartition(consumer sarama.Consumer, topic string, p int32) (sarama.PartitionConsumer, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetNewest)
		if err == nil || time.Now().After(deadline) {
			return pc, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *replyWatch) note(value []byte) {
	now := time.Now()
	var reply struct {
		CorrelationID string `json:"correlation_id"`
	}
	_ = json.Unmarshal(value, &reply)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.seen[reply.CorrelationID]; !dup {
		w.seen[reply.CorrelationID] = now
	}
}

// at returns when the reply to id was first seen.
func (w *replyWatch) at(id string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.seen[id]
	return t, ok
}

// stop ends the watch: partition consumers first, as sarama requires.
func (w *replyWatch) stop() {
	w.cancel()
	w.wg.Wait()
	_ = w.consumer.Close()
}
