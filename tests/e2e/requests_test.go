package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/messages"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// postRequest sends POST /v1/requests to gateway with id as its X-Correlation-ID.
func postRequest(client *http.Client, gateway *service, id, timeout string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+gateway.addr+"/v1/requests?timeout="+timeout, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Correlation-ID", id)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Request/reply through two gateway instances sharing the reply topic: under a bounded
// concurrent load every answer is the reply to its own request (no cross-talk), once
// the worker is gone every request is answered 504 at its timeout, and afterwards each
// gateway runs no more goroutines than before the load.
func TestRequestReplyWithTwoGateways(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	replyTopic := tp.in + ".replies"
	if err := newAdmin(t, suite.brokers).CreateTopic(replyTopic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	worker := startService(t, "worker", tp.env(suite.brokers)...)
	gateways := []*service{
		startService(t, "gateway", tp.env(suite.brokers)...),
		startService(t, "gateway", tp.env(suite.brokers)...),
	}
	waitReady(t, worker, 60*time.Second)
	client := &http.Client{Timeout: 40 * time.Second}
	for i, g := range gateways {
		waitReady(t, g, 60*time.Second)
		// Until a gateway reads the reply topic it answers 503.
		waitFor(t, 60*time.Second, fmt.Sprintf("gateway %d answers a request", i), func() error {
			status, body, err := postRequest(client, g, fmt.Sprintf("warm-up-%d", i), "10s")
			if err != nil || status != http.StatusOK {
				return fmt.Errorf("%d %s %v", status, body, err)
			}
			return nil
		})
	}

	// Each partition the producer writes gets goroutines of its own, for good: warm up
	// every partition of the in-topic so the load adds none.
	for i, g := range gateways {
		for _, id := range keysForEveryPartition(t, tp.in, fmt.Sprintf("warm-up-%d-", i)) {
			if status, body, err := postRequest(client, g, id, "10s"); err != nil || status != http.StatusOK {
				t.Fatalf("warm-up %s: %d %s %v", id, status, body, err)
			}
		}
	}

	// Goroutines before the load, with no client connection open.
	client.CloseIdleConnections()
	var before []float64
	for _, g := range gateways {
		before = append(before, g.scrape(t)["go_goroutines"])
	}

	const requests, concurrency = 400, 16
	var (
		mu      sync.Mutex
		answers = map[int]int{} // gateway -> 200s
		wg      sync.WaitGroup
		jobs    = make(chan int)
	)
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for i := range jobs {
				g := i % len(gateways)
				id := fmt.Sprintf("rr-%d", i)
				status, body, err := postRequest(client, gateways[g], id, "20s")
				var reply struct {
					CorrelationID string `json:"correlation_id"`
					Status        string `json:"status"`
				}
				if err == nil && status == http.StatusOK {
					err = json.Unmarshal(body, &reply)
				}
				switch {
				case err != nil || status != http.StatusOK:
					t.Errorf("%s via gateway %d: %d %s %v", id, g, status, body, err)
				case reply.CorrelationID != id || reply.Status != "Completed":
					t.Errorf("%s via gateway %d got the reply %s", id, g, body)
				default:
					mu.Lock()
					answers[g]++
					mu.Unlock()
				}
			}
		})
	}
	for i := range requests {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d requests, %d at a time, in %s: %v answered by gateway", requests, concurrency, elapsed.Round(time.Millisecond), answers)
	if answers[0]+answers[1] != requests {
		t.Fatalf("%d of %d requests answered with their own reply", answers[0]+answers[1], requests)
	}

	// Without a worker nothing answers: every request gets 504 at its timeout.
	if err := worker.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		g := gateways[i%len(gateways)]
		began := time.Now()
		status, body, err := postRequest(client, g, fmt.Sprintf("late-%d", i), "300ms")
		if err != nil || status != http.StatusGatewayTimeout || string(body) != `{"detail":"No reply within 300ms"}` {
			t.Errorf("without a worker: %d %s %v", status, body, err)
		}
		if took := time.Since(began); took < 300*time.Millisecond || took > 5*time.Second {
			t.Errorf("504 after %s, want about 300ms", took)
		}
	}

	// Answered or timed out, no request left anything running behind it.
	client.CloseIdleConnections()
	for i, g := range gateways {
		waitFor(t, 10*time.Second, fmt.Sprintf("gateway %d back to its goroutines", i), func() error {
			if now := g.scrape(t)["go_goroutines"]; now > before[i]+3 {
				return fmt.Errorf("%v goroutines, %v before the load", now, before[i])
			}
			return nil
		})
		t.Logf("gateway %d: %v goroutines before the load, %v after", i, before[i], g.scrape(t)["go_goroutines"])
	}
}

// newReplyPartitionsLog is what the gateway logs when it starts reading partitions
// added to the reply topic.
const newReplyPartitionsLog = "reading new reply partitions"

// Partitions added to the reply topic while a gateway runs are read without a
// reconnect: from their start (a reply may be written there before the gateway looks),
// and the partitions read before go on being read.
func TestRequestReplyOnPartitionsAddedLater(t *testing.T) {
	tp := newTopics(t, suite.brokers)
	replyTopic := messages.ReplyTopic(tp.in)
	admin := newAdmin(t, suite.brokers)
	if err := admin.CreateTopic(replyTopic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatal(err)
	}
	worker := startService(t, "worker", tp.env(suite.brokers)...)
	gateway := startService(t, "gateway", append(tp.env(suite.brokers), "REPLY_PARTITION_CHECK_INTERVAL=2s")...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)
	client := &http.Client{Timeout: 40 * time.Second}
	waitFor(t, 60*time.Second, "the gateway answers a request", func() error {
		status, body, err := postRequest(client, gateway, "warm-up", "10s")
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("%d %s %v", status, body, err)
		}
		return nil
	})

	// From here on the test writes every reply itself, to the partition it chooses.
	if err := worker.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	requestAnsweredOn(t, client, gateway, tp, "before-0", 0)

	if err := admin.CreatePartitions(replyTopic, 4, nil, false); err != nil {
		t.Fatalf("add partitions to %s: %v", replyTopic, err)
	}
	// Most likely written before the gateway looks again: read only from the start.
	requestAnsweredOn(t, client, gateway, tp, "new-2", 2)
	waitLogCount(t, gateway, newReplyPartitionsLog, 1)
	requestAnsweredOn(t, client, gateway, tp, "new-3", 3)
	requestAnsweredOn(t, client, gateway, tp, "after-1", 1)

	// A partition without a leader yet is picked up at a later check, so 2 and 3 may
	// come in two lines.
	var added []any
	for _, line := range gateway.logsWith("message", newReplyPartitionsLog) {
		added = append(added, line["partitions"].([]any)...)
	}
	if got := fmt.Sprint(added); got != "[2 3]" {
		t.Errorf("%q logged the partitions %s, want [2 3]", newReplyPartitionsLog, got)
	}
	// Nothing was restarted to get there.
	if n := len(gateway.logsWith("message", "reading replies")); n != 1 {
		t.Errorf("the gateway started reading the reply topic %d times, want 1", n)
	}
}

// requestAnsweredOn sends a request with id as its X-Correlation-ID and, in place of a
// worker, writes its reply to the given partition of the reply topic; the gateway must
// answer with that reply.
func requestAnsweredOn(t *testing.T, client *http.Client, gateway *service, tp topics, id string, partition int32) {
	t.Helper()
	var (
		answered sync.WaitGroup
		status   int
		got      []byte
		postErr  error
	)
	defer answered.Wait()
	answered.Go(func() { status, got, postErr = postRequest(client, gateway, id, "10s") })

	requestID := testkit.Header(recordWithKey(t, tp.in, id), messages.HeaderCorrelationID)
	reply, err := messages.EncodeResponse(messages.NewResponse(id, fmt.Sprintf("pong from partition %d", partition), messages.StatusCompleted, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: reply written to partition %d with the gateway's %q logged %d times", id, partition,
		newReplyPartitionsLog, len(gateway.logsWith("message", newReplyPartitionsLog)))
	produceToPartition(t, suite.brokers, messages.ReplyTopic(tp.in), partition, reply,
		sarama.RecordHeader{Key: []byte(messages.HeaderCorrelationID), Value: []byte(requestID)})

	answered.Wait()
	if postErr != nil || status != http.StatusOK || !bytes.Equal(got, reply) {
		t.Errorf("%s, answered on partition %d: %d %s %v; want 200 %s", id, partition, status, got, postErr, reply)
	}
}

// keysForEveryPartition returns one key per partition of topic, each starting with
// prefix, as the services' murmur2 partitioner places them.
func keysForEveryPartition(t *testing.T, topic, prefix string) []string {
	t.Helper()
	client, err := sarama.NewClient([]string{suite.brokers}, testClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	partitions, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	partitioner := sarama.NewMurmur2Partitioner(topic)
	keys := make([]string, len(partitions))
	for n, found := 0, 0; found < len(partitions); n++ {
		key := fmt.Sprintf("%s%d", prefix, n)
		p, err := partitioner.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, int32(len(partitions)))
		if err != nil {
			t.Fatal(err)
		}
		if keys[p] == "" {
			keys[p] = key
			found++
		}
	}
	return keys
}
