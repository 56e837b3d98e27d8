package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// Bounds of the orders flow's fault tests: the load stops at maxOrders whatever
// happens, and every wait has its own deadline.
const (
	maxOrders      = 6000
	orderClients   = 8
	orderKeys      = 64
	ordersAnswered = 3 * time.Minute
)

// orderLoad posts asynchronous orders of orderKeys customers to the orders gateway
// from orderClients clients until stop or maxOrders, remembering the accepted (202)
// order IDs. A refused order fails the test: the gateway needs only the broker.
type orderLoad struct {
	t        *testing.T
	accepted acked
	count    atomic.Int64
	stopped  chan struct{}
	stopOnce sync.Once
	senders  sync.WaitGroup
	mu       sync.Mutex
	refused  []string
}

func startOrderLoad(t *testing.T, gateway *service) *orderLoad {
	l := &orderLoad{t: t, stopped: make(chan struct{})}
	next := make(chan int)
	l.senders.Go(func() { // the feeder: bounded by maxOrders and stop
		defer close(next)
		for i := range maxOrders {
			select {
			case next <- i:
			case <-l.stopped:
				return
			}
		}
	})
	client := &http.Client{Timeout: 30 * time.Second}
	for range orderClients {
		l.senders.Go(func() {
			for i := range next {
				l.post(client, gateway, i)
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

func (l *orderLoad) post(client *http.Client, gateway *service, i int) {
	body := fmt.Sprintf(`{"customer_id":"c-%d","sku":"book","quantity":%d}`, i%orderKeys, 1+i/orderKeys%100)
	resp, err := client.Post("http://"+gateway.addr+"/v1/orders", "application/json", strings.NewReader(body))
	var answer struct {
		OrderID string `json:"order_id"`
	}
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err == nil && (resp.StatusCode != http.StatusAccepted || answer.OrderID == "") {
			err = fmt.Errorf("status %d, order %q", resp.StatusCode, answer.OrderID)
		}
	}
	if err != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.refused = append(l.refused, fmt.Sprintf("order %d: %v", i, err))
		return
	}
	l.accepted.add(answer.OrderID)
	l.count.Add(1)
}

// waitAccepted waits until n orders were accepted; the load must not end first.
func (l *orderLoad) waitAccepted(n int64) {
	l.t.Helper()
	waitFor(l.t, 2*time.Minute, fmt.Sprintf("%d orders accepted", n), func() error {
		if got := l.count.Load(); got < n {
			if got >= maxOrders {
				l.t.Fatalf("the load ended (%d orders) before %d were accepted", got, n)
			}
			return fmt.Errorf("%d accepted", got)
		}
		return nil
	})
}

// stop ends the load and returns the accepted order IDs; a refused order fails the test.
func (l *orderLoad) stop() {
	l.stopOnce.Do(func() { close(l.stopped) })
	l.senders.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.refused {
		l.t.Errorf("refused although the broker was up: %s", r)
	}
	l.refused = nil
}

// orderResultCounts waits until every accepted order has a result on the results
// topic and the worker group has committed every order (lag 0), then counts the results
// per order ID and status on the whole topic, read to its high-water mark: every result
// written, duplicates included.
func orderResultCounts(t *testing.T, brokers, orders, results, group string, accepted []string) (perOrder map[string]int, perStatus map[string]int) {
	t.Helper()
	read := func() (map[string]int, map[string]int) {
		client, err := sarama.NewClient(strings.Split(brokers, ","), clientConfig(brokers))
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		defer client.Close()
		records, err := testkit.ReadToHighWater(t.Context(), client, results, sarama.ReadCommitted)
		if err != nil {
			t.Fatalf("read %s to its high-water mark: %v", results, err)
		}
		perOrder, perStatus := map[string]int{}, map[string]int{}
		for _, r := range records {
			var res orderResult
			if err := json.Unmarshal(r.Value, &res); err != nil {
				t.Fatalf("result at %d/%d: %v: %s", r.Partition, r.Offset, err, r.Value)
			}
			perOrder[res.OrderID]++
			perStatus[res.Status]++
		}
		return perOrder, perStatus
	}
	waitFor(t, ordersAnswered, "a result for every accepted order", func() error {
		perOrder, _ := read()
		missing := 0
		for _, id := range accepted {
			if perOrder[id] == 0 {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d orders without a result", missing, len(accepted))
		}
		return nil
	})
	waitFor(t, time.Minute, "committed lag 0 on "+orders, func() error {
		if lag := committedLag(t, brokers, orders, group); lag != 0 {
			return fmt.Errorf("lag %d", lag)
		}
		return nil
	})
	return read()
}

// committedLag is the sum over topic's partitions of the high-water mark minus group's
// committed offset (the whole partition when the group committed none).
func committedLag(t *testing.T, brokers, topic, group string) int64 {
	t.Helper()
	client, err := sarama.NewClient(strings.Split(brokers, ","), clientConfig(brokers))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		t.Fatalf("admin: %v", err)
	}
	defer admin.Close() // closes client
	partitions, err := client.Partitions(topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	offsets, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: partitions})
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	var lag int64
	for _, p := range partitions {
		hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatalf("high-water mark of %s/%d: %v", topic, p, err)
		}
		committed := int64(0)
		if block := offsets.GetBlock(topic, p); block != nil && block.Offset > 0 {
			committed = block.Offset
		}
		lag += hwm - committed
	}
	return lag
}

// handlerCalls is how many calls of the orders route s made, by any outcome.
func handlerCalls(t *testing.T, s *service) float64 {
	t.Helper()
	sum, _ := sumOf(s.scrape(t), "streamgate_worker_handler_calls_total", `route="orders"`)
	return sum
}

// checkEveryOrderAnswered fails the test for an accepted order without a result and
// reports the duplicates (at-least-once: redelivered orders are handled again).
func checkEveryOrderAnswered(t *testing.T, accepted []string, perOrder map[string]int) int {
	t.Helper()
	for _, id := range accepted {
		if perOrder[id] == 0 {
			t.Errorf("order %s was accepted and has no result", id)
		}
	}
	return testkit.Duplicates(perOrder, accepted)
}

// The orders worker is SIGKILLed while it handles a load of orders with its 20 ms
// dependency (64 calls in flight per partition, 10 % transient failures retried), and
// restarted while the load goes on. Every order the gateway accepted gets its result;
// the duplicates (orders handled again after the kill) are counted on the whole results
// topic and reported; the group's committed offsets reach the orders topic's high-water
// marks.
func TestOrdersWorkerKilledUnderLoad(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	ordersTopic, results, group, _, worker, gateway := startOrdersPair(t, "ORDERS_TRANSIENT_FAILURE_RATE=0.1")

	load := startOrderLoad(t, gateway)
	load.waitAccepted(800)
	waitFor(t, 30*time.Second, "the worker handling orders before the kill", func() error {
		if handlerCalls(t, worker) == 0 {
			return errNotYet
		}
		return nil
	})
	calls := handlerCalls(t, worker)
	worker.kill()
	atKill := load.count.Load()
	backlog := committedLag(t, suite.brokers, ordersTopic, group)
	load.waitAccepted(atKill + 400)
	worker.restart()
	load.waitAccepted(load.count.Load() + 400)
	load.stop()
	accepted := load.accepted.list()

	perOrder, perStatus := orderResultCounts(t, suite.brokers, ordersTopic, results, group, accepted)
	duplicates := checkEveryOrderAnswered(t, accepted, perOrder)
	t.Logf("killed after %.0f handler calls with %d orders accepted and %d not committed; "+
		"%d orders accepted in all, every one answered; results by status %v; %d duplicate results (at-least-once); committed lag 0",
		calls, atKill, backlog, len(accepted), perStatus, duplicates)
	if backlog == 0 {
		t.Errorf("nothing was left uncommitted at the kill: the worker was not under load")
	}
}

// A second orders worker joins the group while the first handles a load of orders with
// the 20 ms dependency, takes partitions (it handles orders), then leaves with SIGTERM
// (a clean exit); the first takes its partitions back. No accepted order is lost,
// duplicates are counted and reported, and the committed lag ends at 0.
func TestOrdersRebalanceUnderLoad(t *testing.T) {
	t.Parallel() // its own topics, group and processes; it mostly waits on them
	ordersTopic, results, group, env, first, gateway := startOrdersPair(t)

	load := startOrderLoad(t, gateway)
	load.waitAccepted(500)
	second := startService(t, "orders-worker", env...)
	joined := load.count.Load()
	waitFor(t, 90*time.Second, "the second worker handling orders", func() error {
		if load.count.Load() >= maxOrders {
			t.Fatalf("the load ended before the second worker took partitions")
		}
		if handlerCalls(t, second) == 0 {
			return errNotYet
		}
		return nil
	})
	load.waitAccepted(load.count.Load() + 300)
	secondCalls := handlerCalls(t, second)
	if err := second.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("the second worker leaving: %v", err)
	}
	left := load.count.Load()
	firstBefore := handlerCalls(t, first)
	load.waitAccepted(left + 500)
	load.stop()
	accepted := load.accepted.list()

	perOrder, perStatus := orderResultCounts(t, suite.brokers, ordersTopic, results, group, accepted)
	duplicates := checkEveryOrderAnswered(t, accepted, perOrder)
	if perStatus["Failed"] != 0 {
		t.Errorf("results by status %v: want every order Completed (no failure injected)", perStatus)
	}
	if firstAfter := handlerCalls(t, first); firstAfter <= firstBefore {
		t.Errorf("the first worker made no call after the second left (%.0f, then %.0f)", firstBefore, firstAfter)
	}
	t.Logf("second worker joined at %d orders accepted, handled %.0f calls, left at %d; %d orders accepted in all, "+
		"every one answered; results by status %v; %d duplicate results (at-least-once); committed lag 0",
		joined, secondCalls, left, len(accepted), perStatus, duplicates)
}

// startOrdersPair runs an orders worker and gateway, ready, on topics of the test's own,
// logging at info (the loads are large), with extra settings; it returns the topics,
// the worker group and the settings a second worker would get.
func startOrdersPair(t *testing.T, extra ...string) (orders, results, group string, env []string, worker, gateway *service) {
	t.Helper()
	orders, results, _, env = orderTopics(t, suite.brokers)
	for _, kv := range env {
		if g, ok := strings.CutPrefix(kv, "KAFKA_GROUP_ID="); ok {
			group = g
		}
	}
	env = append(append(env, "LOG_LEVEL=info"), extra...)
	worker = startService(t, "orders-worker", env...)
	gateway = startService(t, "orders-gateway", env...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)
	return orders, results, group, env, worker, gateway
}
