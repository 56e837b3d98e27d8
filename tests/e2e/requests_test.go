package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
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
