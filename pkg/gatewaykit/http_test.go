package gatewaykit

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
)

type order struct {
	ID    string `json:"id"`
	Items int    `json:"items"`
}

type result struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// echoWorker answers every record on replyTo through replies, with the order's id.
type echoWorker struct {
	recordingSender
	replyReaders *ReplyReaders
	answer       bool
}

func (w *echoWorker) Send(ctx context.Context, rec Record) error {
	if err := w.recordingSender.Send(ctx, rec); err != nil {
		return err
	}
	if w.answer {
		var o order
		_ = json.Unmarshal(rec.Value, &o)
		body, _ := json.Marshal(result{ID: o.ID, Status: "Done"})
		go w.replyReaders.Deliver("orders.results", rec.CorrelationID, body)
	}
	return nil
}

func orderFromBody(c *gin.Context, _ string) (order, error) {
	var o order
	if err := c.ShouldBindJSON(&o); err != nil {
		return o, errors.New("want an order")
	}
	return o, nil
}

func serve(h gin.HandlerFunc, target, body string) *httptest.ResponseRecorder {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.POST("/orders", h)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
	return rec
}

// A publish endpoint encodes the message with the publisher's codec, keys it as asked,
// answers as told, 422 for a message it cannot build and 500 when the broker refuses.
func TestPublishHandler(t *testing.T) {
	sender := &recordingSender{}
	kit := NewKit(sender, nil)
	endpoint := PublishEndpoint[order]{
		Publisher: NewPublisher(kit, "orders", JSON[order]()),
		Logger:    zap.NewNop(),
		Message:   orderFromBody,
		Key:       func(o order) string { return o.ID },
		Answer:    func(c *gin.Context, o order) { c.JSON(http.StatusAccepted, gin.H{"id": o.ID}) },
	}
	if rec := serve(PublishHandler(endpoint), "/orders", `{"id":"o-1","items":2}`); rec.Code != 202 || rec.Body.String() != `{"id":"o-1"}` {
		t.Errorf("publish: %d %s", rec.Code, rec.Body)
	}
	if len(sender.records) != 1 || sender.records[0].Topic != "orders" || sender.records[0].Key != "o-1" ||
		string(sender.records[0].Value) != `{"id":"o-1","items":2}` || sender.records[0].ReplyTo != "" {
		t.Errorf("records = %+v", sender.records)
	}
	if rec := serve(PublishHandler(endpoint), "/orders", `not json`); rec.Code != 422 || rec.Body.String() != `{"detail":"want an order"}` {
		t.Errorf("bad body: %d %s", rec.Code, rec.Body)
	}
	sender.err = errors.New("broker gone")
	if rec := serve(PublishHandler(endpoint), "/orders", `{"id":"o-2"}`); rec.Code != 500 || rec.Body.String() != `{"detail":"Failed to process message"}` {
		t.Errorf("refused: %d %s", rec.Code, rec.Body)
	}
	if got := kit.Topics(); len(got) != 1 || got[0] != "orders" {
		t.Errorf("kit topics = %v", got)
	}
}

// A request endpoint answers with the reply to its own request, 504 without one in
// time, 503 while the reply topic is not read yet or with Kafka disabled.
func TestRequestHandler(t *testing.T) {
	replyReaders := NewLoopbackReplyReaders(10)
	worker := &echoWorker{replyReaders: replyReaders, answer: true}
	kit := NewKit(worker, replyReaders)
	requester, err := NewRequester(kit, RequestRoute[order, result]{
		Topic: "orders", ReplyTopic: "orders.results", Request: JSON[order](), Reply: JSON[result](),
	})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := RequestEndpoint[order, result]{Requester: requester, Logger: zap.NewNop(), Message: orderFromBody}
	if rec := serve(RequestHandler(endpoint), "/orders", `{"id":"o-1"}`); rec.Code != 200 || rec.Body.String() != `{"id":"o-1","status":"Done"}` {
		t.Errorf("answered: %d %s", rec.Code, rec.Body)
	}
	if r := worker.records[0]; r.ReplyTo != "" || r.CorrelationID == "" {
		t.Errorf("record = %+v, want a correlation_id of its own and no reply_to", r)
	}
	worker.answer = false
	if rec := serve(RequestHandler(endpoint), "/orders?timeout=20ms", `{"id":"o-2"}`); rec.Code != 504 || rec.Body.String() != `{"detail":"No reply within 20ms"}` {
		t.Errorf("unanswered: %d %s", rec.Code, rec.Body)
	}
	if n := replyReaders.Waiting("orders.results"); n != 0 {
		t.Errorf("%d waiting", n)
	}

	// A real reader that has not read its topic yet refuses, saying why.
	real := NewReplyReaders(ReplyReaderConfig{Brokers: []string{"127.0.0.1:1"}, Logger: zap.NewNop(), MaxWaiting: 1})
	notReading, err := NewRequester(NewKit(worker, real), RequestRoute[order, result]{
		Topic: "orders", ReplyTopic: "orders.results", Request: JSON[order](), Reply: JSON[result](),
	})
	if err != nil {
		t.Fatal(err)
	}
	endpoint.Requester = notReading
	if rec := serve(RequestHandler(endpoint), "/orders", `{"id":"o-3"}`); rec.Code != 503 || rec.Body.String() != `{"detail":"Not reading replies yet"}` {
		t.Errorf("not reading: %d %s", rec.Code, rec.Body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = real.Run(ctx)
	if _, err := real.reader("added.after.run"); !errors.Is(err, ErrReadersRunning) {
		t.Errorf("reader after Run = %v, want ErrReadersRunning", err)
	}

	disabled, err := NewRequester(NewKit(Disabled{}, nil), RequestRoute[order, result]{Topic: "orders", ReplyTopic: "orders.results"})
	if err != nil {
		t.Fatal(err)
	}
	endpoint.Requester = disabled
	if rec := serve(RequestHandler(endpoint), "/orders", `{"id":"o-4"}`); rec.Code != 503 || !strings.Contains(rec.Body.String(), "KAFKA_ENABLED=false") {
		t.Errorf("disabled: %d %s", rec.Code, rec.Body)
	}
}
