package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// orderResult is the orders example's OrderRes, as the test reads it.
type orderResult struct {
	OrderID  string `json:"order_id"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Attempts int    `json:"attempts"`
}

// orderTopics creates the orders flow's topics for one test and returns the settings
// both of the example's services get.
func orderTopics(t *testing.T, brokers string) (orders, results, dlq string, env []string) {
	t.Helper()
	tp := newTopics(t, brokers) // in, out and in.dlq: orders, results, dead letters
	return tp.in, tp.out, tp.dlq, []string{
		"KAFKA_BROKERS=" + brokers,
		"ORDERS_TOPIC=" + tp.in, "ORDERS_RESULTS_TOPIC=" + tp.out, "ORDERS_DLQ_TOPIC=" + tp.dlq,
		"KAFKA_GROUP_ID=" + tp.group, "ORDERS_TRANSIENT_FAILURE_RATE=0", "SHUTDOWN_TIMEOUT=10s",
	}
}

// postOrder sends an order to path on the orders gateway and returns status and body.
func postOrder(t *testing.T, gateway *service, path, body string) (int, []byte) {
	t.Helper()
	client := http.Client{Timeout: 40 * time.Second}
	resp, err := client.Post("http://"+gateway.addr+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

// syncOrder waits for the orders gateway to answer POST /v1/orders/sync (503 until it
// reads the results topic) and returns the result.
func syncOrder(t *testing.T, gateway *service, sku string) orderResult {
	t.Helper()
	var res orderResult
	waitFor(t, 60*time.Second, "a synchronous order of "+sku, func() error {
		status, body := postOrder(t, gateway, "/v1/orders/sync?timeout=10s", `{"customer_id":"c-sync","sku":"`+sku+`","quantity":1}`)
		if status != http.StatusOK {
			return fmt.Errorf("%d %s", status, body)
		}
		return json.Unmarshal(body, &res)
	})
	return res
}

// The second flow of the template on the real Kafka: its own gateway and worker mains
// on pkg/gatewaykit and pkg/router. Synchronous orders get their result (Completed,
// Completed after a transient failure and a retry, Failed when out of stock); every
// asynchronous order accepted (202) gets exactly one Completed result; bad orders are
// refused at the gateway, and a record the worker cannot read is dead-lettered.
func TestOrdersFlow(t *testing.T) {
	ordersTopic, results, dlq, env := orderTopics(t, suite.brokers)
	worker := startService(t, "orders-worker", env...)
	gateway := startService(t, "orders-gateway", env...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)

	// The sample flow's documents are the streamgate gateway's, not this one's.
	if status, _, err := gateway.get("/openapi.json", nil); err != nil || status != http.StatusNotFound {
		t.Errorf("GET /openapi.json on the orders gateway: %d %v, want 404", status, err)
	}
	if res := syncOrder(t, gateway, "book"); res.Status != "Completed" || res.Attempts != 1 || res.OrderID == "" {
		t.Errorf("plain order: %+v", res)
	}
	if res := syncOrder(t, gateway, "flaky-book"); res.Status != "Completed" || res.Attempts != 2 {
		t.Errorf("order failing once: %+v, want Completed at the second attempt", res)
	}
	if res := syncOrder(t, gateway, "sold-out-book"); res.Status != "Failed" || res.Attempts != 1 || !strings.Contains(res.Reason, "out of stock") {
		t.Errorf("sold-out order: %+v, want Failed at once with the reason", res)
	}
	if status, body := postOrder(t, gateway, "/v1/orders", `{"customer_id":"c-1","sku":"book","quantity":0}`); status != http.StatusUnprocessableEntity {
		t.Errorf("bad order: %d %s, want 422", status, body)
	}

	const customers, perCustomer = 8, 5
	accepted := map[string]bool{}
	for i := range customers * perCustomer {
		status, body := postOrder(t, gateway, "/v1/orders", fmt.Sprintf(`{"customer_id":"c-%d","sku":"book","quantity":%d}`, i%customers, 1+i/customers))
		var answer struct {
			OrderID string `json:"order_id"`
		}
		if status != http.StatusAccepted || json.Unmarshal(body, &answer) != nil || answer.OrderID == "" {
			t.Fatalf("POST /v1/orders: %d %s, want 202 with the order's ID", status, body)
		}
		accepted[answer.OrderID] = true
	}
	counts := map[string]int{}
	readUntil(t, suite.brokers, results, 60*time.Second, func(records []*sarama.ConsumerMessage) bool {
		clear(counts)
		for _, r := range records {
			var res orderResult
			if json.Unmarshal(r.Value, &res) == nil && accepted[res.OrderID] && res.Status == "Completed" {
				counts[res.OrderID]++
			}
		}
		return len(counts) == len(accepted)
	})
	for id, n := range counts {
		if n != 1 {
			t.Errorf("order %s has %d results, want 1 (no failure happened)", id, n)
		}
	}

	produce(t, suite.brokers, ordersTopic, []byte("c-x"), []byte(`{"order_id":`))
	dead := readUntil(t, suite.brokers, dlq, 30*time.Second, func(records []*sarama.ConsumerMessage) bool { return len(records) > 0 })
	if reason := testkit.Header(dead[0], "dlq_error"); reason == "" {
		t.Errorf("dead letter without a reason: %v", dead[0].Headers)
	}
}
