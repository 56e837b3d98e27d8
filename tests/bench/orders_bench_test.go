package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/examples/orders"
	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/logging"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/worker/workerapp"
	"github.com/streamgate/streamgate/tests/bench/backlog"
)

// drainKeys is how many customers (record keys) the orders are spread over.
const drainKeys = 1000

// BenchmarkOrdersDrain measures how fast the orders example's worker drains a backlog
// of b.N orders over 1,000 customers (keys) and 3 partitions, with its 20 ms inventory
// call, at one call at a time per partition (the worker before the router) and at 64
// per partition (one at a time per key), without and with 10 % transient failures
// (each retried after 50 ms or more). records/s counts from the worker's start to the
// last result, group join included; the group must then have committed every order.
//
// From the tests directory (the first takes about 20 ms × b.N / 3):
//
//	STREAMGATE_TEST_KAFKA=127.0.0.1:39092 go test ./bench -run '^$' -bench 'OrdersDrain/concurrency=1$' -benchtime 600x
//	STREAMGATE_TEST_KAFKA=127.0.0.1:39092 go test ./bench -run '^$' -bench 'OrdersDrain/concurrency=64' -benchtime 20000x
func BenchmarkOrdersDrain(b *testing.B) {
	for _, variant := range []struct {
		name        string
		concurrency int
		ordering    router.Ordering
		transient   float64
	}{
		{"concurrency=1", 1, router.ByPartition, 0},
		{"concurrency=64", 64, router.ByKey, 0},
		{"concurrency=64+transient=10%", 64, router.ByKey, 0.1},
	} {
		b.Run(variant.name, func(b *testing.B) {
			env := os.Getenv("STREAMGATE_TEST_KAFKA")
			if env == "" {
				b.Fatal("STREAMGATE_TEST_KAFKA is not set: this benchmark needs a real broker")
			}
			brokers := strings.Split(env, ",")
			n := b.N
			names := newTopics(b, brokers)
			if err := backlog.WriteRecords(brokers, n, orderRecord(names.in)); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			results := watchReplies(ctx, b, brokers, names.out, n)

			log, err := logging.New(logging.Options{Level: "warn", Format: logging.FormatJSON, Service: "worker", Version: "bench", Output: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			inventory := &orders.SimulatedInventory{Latency: 20 * time.Millisecond, TransientRate: variant.transient}
			register := func(r *router.Router, _ workerapp.Config) error {
				route := orders.Route(orders.Topics{Orders: names.in, Results: names.out, DeadLetter: names.dlq}, orders.Handler{Inventory: inventory})
				route.Concurrency, route.Ordering = variant.concurrency, variant.ordering
				route.Retry.MaxAttempts = 10 // no order fails at 10 %: every one gets a Completed result
				return router.Register(r, route)
			}
			drainBacklog(b, drainRun{
				cfg: workerConfig(brokers, names, "warn"), log: log, register: register, replies: results, n: n,
				timeout: time.Minute + time.Duration(n)*25*time.Millisecond/partitions,
			})
			b.ReportMetric(0, "ns/op")
		})
	}
}

// orderRecord returns the i-th order of the backlog as the orders gateway writes it:
// keyed by customer, its correlation_id header (echoed as the result's key) bench-i.
func orderRecord(topic string) func(int) (*sarama.ProducerMessage, error) {
	return func(i int) (*sarama.ProducerMessage, error) {
		id := correlationID(i)
		customer := fmt.Sprintf("c-%d", i%drainKeys)
		body, err := json.Marshal(orders.OrderReq{OrderID: id, CustomerID: customer, SKU: "book", Quantity: 1})
		if err != nil {
			return nil, err
		}
		return &sarama.ProducerMessage{
			Topic: topic, Key: sarama.StringEncoder(customer), Value: sarama.ByteEncoder(body), Headers: kafka.Headers(id),
		}, nil
	}
}
