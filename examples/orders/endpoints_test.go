package orders

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/gateway/gatewayapp"
)

// inProcessWorker plays the worker in the gateway's tests: it keeps each record and,
// when it has replies, answers it with the handler's result as the router would, on the
// results topic with the request's correlation_id.
type inProcessWorker struct {
	handler      Handler
	replyReaders *gatewaykit.ReplyReaders

	mu      sync.Mutex
	records []gatewaykit.Record
}

func (w *inProcessWorker) Send(ctx context.Context, rec gatewaykit.Record) error {
	w.mu.Lock()
	w.records = append(w.records, rec)
	w.mu.Unlock()
	if w.replyReaders == nil {
		return nil
	}
	var order OrderReq
	if err := json.Unmarshal(rec.Value, &order); err != nil {
		return err
	}
	res, err := w.handler.Handle(ctx, router.Message[OrderReq]{Body: order, Attempt: 1})
	if err != nil {
		res, _ = w.handler.Failed(ctx, router.Message[OrderReq]{Body: order, Attempt: 1}, err)
	}
	body, _ := json.Marshal(res)
	go w.replyReaders.Deliver(DefaultTopics.Results, rec.CorrelationID, body)
	return nil
}

func newGateway(t *testing.T, worker *inProcessWorker) http.Handler {
	t.Helper()
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	deps := gatewayapp.Deps{Kit: gatewaykit.NewKit(worker, worker.replyReaders), Logger: zap.NewNop()}
	if err := Endpoints(DefaultTopics)(engine, deps); err != nil {
		t.Fatal(err)
	}
	return engine
}

func postOrder(gateway http.Handler, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	gateway.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec
}

// POST /v1/orders publishes the order, keyed by customer, with an ID of its own, and
// answers 202 with that ID; a bad order is answered 422 and not published.
func TestPostOrderPublishes(t *testing.T) {
	worker := &inProcessWorker{}
	gateway := newGateway(t, worker)
	rec := postOrder(gateway, "/v1/orders", `{"customer_id":"c-1","sku":"book","quantity":2}`)
	var accepted Accepted
	if rec.Code != http.StatusAccepted || json.Unmarshal(rec.Body.Bytes(), &accepted) != nil || accepted.OrderID == "" {
		t.Fatalf("POST /v1/orders = %d %s", rec.Code, rec.Body)
	}
	var published OrderReq
	if len(worker.records) != 1 || json.Unmarshal(worker.records[0].Value, &published) != nil {
		t.Fatalf("records = %+v", worker.records)
	}
	want := OrderReq{OrderID: accepted.OrderID, CustomerID: "c-1", SKU: "book", Quantity: 2}
	if r := worker.records[0]; published != want || r.Topic != "orders" || r.Key != "c-1" {
		t.Errorf("published %+v to %s keyed %q, want %+v to orders keyed c-1", published, r.Topic, r.Key, want)
	}
	for _, body := range []string{`{"customer_id":"c-1","sku":"book","quantity":0}`, `{"sku":"book","quantity":1}`, `[]`, strings.Repeat(" ", maxOrderBody+1) + `{}`} {
		if rec := postOrder(gateway, "/v1/orders", body); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"detail"`) {
			t.Errorf("POST /v1/orders %.40q = %d %s, want 422", body, rec.Code, rec.Body)
		}
	}
	if len(worker.records) != 1 {
		t.Errorf("%d records published, want only the valid order's", len(worker.records))
	}
}

// POST /v1/orders/sync answers with the order's result, Completed or Failed.
func TestPostOrderSyncAnswersTheResult(t *testing.T) {
	worker := &inProcessWorker{handler: Handler{Inventory: &SimulatedInventory{}}, replyReaders: gatewaykit.NewLoopbackReplyReaders(10)}
	gateway := newGateway(t, worker)
	for sku, want := range map[string]Status{"book": StatusCompleted, SoldOutPrefix + "book": StatusFailed} {
		rec := postOrder(gateway, "/v1/orders/sync?timeout=2s", `{"customer_id":"c-1","sku":"`+sku+`","quantity":1}`)
		var res OrderRes
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &res) != nil || res.Status != want || res.OrderID == "" {
			t.Errorf("sync %s = %d %s, want 200 and %s", sku, rec.Code, rec.Body, want)
		}
		if want == StatusFailed && !strings.Contains(res.Reason, "out of stock") {
			t.Errorf("Failed without the reason: %+v", res)
		}
	}
}
