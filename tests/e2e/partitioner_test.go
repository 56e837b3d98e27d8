package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"
)

// The gateway puts a correlation ID on the partition Kafka's own Java producer (default
// partitioner: murmur2) puts the same key on, so Go, Java and FastStream services agree
// where a request lives. Both write to the real broker; the partitions are those the
// broker acknowledged.
func TestMurmur2PartitionsMatchJavaProducer(t *testing.T) {
	const keys, partitions = 1000, 7 // a count that is no power of two tests the modulo
	ids := partitionKeys(keys)
	javaTopic := fmt.Sprintf("e2e-murmur2-java-%06d", rand.IntN(1_000_000))
	tp := newTopics(t, suite.brokers)
	tp.in += "-7"
	admin := newAdmin(t, suite.brokers)
	for _, name := range []string{javaTopic, tp.in} {
		if err := admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic %s: %v", name, err)
		}
	}

	java := javaPartitions(t, suite.brokers, javaTopic, ids)

	gateway := startService(t, "gateway", tp.env(suite.brokers)...)
	waitReady(t, gateway, 60*time.Second)
	sendAll(t, gateway, ids, 8)
	records := readUntil(t, suite.brokers, tp.in, 60*time.Second, func(seen []*sarama.ConsumerMessage) bool { return len(seen) >= keys })
	gatewayPartition := map[string]int32{}
	for _, rec := range records {
		gatewayPartition[string(rec.Key)] = rec.Partition
	}

	fnv := sarama.NewHashPartitioner(tp.in) // what the gateway used before
	mismatches, fnvMismatches, used := 0, 0, map[int32]bool{}
	for _, id := range ids {
		want, ok := java[id]
		if !ok {
			t.Fatalf("the Java producer reported no partition for %q", id)
		}
		used[want] = true
		if got, ok := gatewayPartition[id]; !ok || got != want {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("key %q: gateway wrote partition %d (found %v), Java producer %d", id, got, ok, want)
			}
		}
		if p, _ := fnv.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(id)}, partitions); p != want {
			fnvMismatches++
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d keys on a different partition than the Java producer's", mismatches, keys)
	}
	if len(used) != partitions {
		t.Fatalf("the keys cover %d of %d partitions: too few to compare", len(used), partitions)
	}
	t.Logf("%d keys over %d partitions: all on the Java producer's partition (FNV-1a would have moved %d)", keys, partitions, fnvMismatches)
}

// partitionKeys returns n distinct correlation IDs: UUIDs and IDs of every length from
// 1 to 128, so murmur2's tail handling (length mod 4) is covered.
func partitionKeys(n int) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
	r := rand.New(rand.NewPCG(8, 1000))
	ids := make([]string, 0, n)
	seen := map[string]bool{}
	for len(ids) < n {
		var id string
		if len(ids)%2 == 0 {
			id = uuid.Must(uuid.NewRandomFromReader(r64{r})).String()
		} else {
			b := make([]byte, 1+len(ids)%128)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			id = string(b)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// r64 reads random bytes from a seeded generator, for reproducible UUIDs.
type r64 struct{ r *rand.Rand }

func (s r64) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

// javaPartitions writes ids to topic with Kafka's Java producer (the cached client
// jars kafka.sh installed) and returns the partition each landed on.
func javaPartitions(t *testing.T, brokers, topic string, ids []string) map[string]int32 {
	t.Helper()
	cache := os.Getenv("STREAMGATE_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "streamgate")
	}
	libs := filepath.Join(cache, "kafka-4.3.1", "libs")
	if _, err := os.Stat(filepath.Join(libs, "kafka-clients-4.3.1.jar")); err != nil {
		t.Fatalf("Kafka's Java client: %v (scripts/kafka/kafka.sh install puts it there)", err)
	}
	cmd := exec.Command("java", "-XX:TieredStopAtLevel=1", "-Dlog4j2.level=warn", "-cp", filepath.Join(libs, "*"),
		filepath.Join(suite.repoRoot, "tests", "e2e", "testdata", "JavaPartitions.java"), brokers, topic)
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("java producer: %v\n%s", err, stderr.String())
	}
	partitions := map[string]int32{}
	scanner := bufio.NewScanner(&stdout)
	for scanner.Scan() {
		key, partition, ok := strings.Cut(scanner.Text(), "\t")
		p, err := strconv.ParseInt(partition, 10, 32)
		if !ok || err != nil {
			t.Fatalf("java producer printed %q", scanner.Text())
		}
		partitions[key] = int32(p)
	}
	return partitions
}

// sendAll pings the gateway once per ID from clients goroutines and fails the test on
// any answer but 200.
func sendAll(t *testing.T, gateway *service, ids []string, clients int) {
	t.Helper()
	next := make(chan string)
	var senders sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for range clients {
		senders.Go(func() {
			for id := range next {
				status, _, body, err := gateway.request("/v1/ping", http.Header{"X-Correlation-Id": {id}})
				if err != nil || status != http.StatusOK {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %d %s %v", id, status, body, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	senders.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed, first: %s", len(failures), failures[0])
	}
}
