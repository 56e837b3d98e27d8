package orders

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/streamgate/streamgate/pkg/gatewaykit"
	"github.com/streamgate/streamgate/pkg/platform/correlation"
	"github.com/streamgate/streamgate/services/gateway/gatewayapp"
)

// maxOrderBody bounds the body of an order request.
const maxOrderBody = 16 << 10

// OrderInput is the body of POST /v1/orders: an order without its ID.
type OrderInput struct {
	CustomerID string `json:"customer_id"`
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
}

// Accepted is the answer to POST /v1/orders.
type Accepted struct {
	OrderID string `json:"order_id"`
}

// Endpoints are the flow's gateway routes on topics: POST /v1/orders publishes the
// order and answers 202 with its ID; POST /v1/orders/sync waits up to ?timeout for its
// result and answers it.
func Endpoints(topics Topics) gatewayapp.Endpoints {
	return func(api gin.IRouter, deps gatewayapp.Deps) error {
		publisher := gatewaykit.NewPublisher(deps.Kit, topics.Orders, gatewaykit.JSON[OrderReq]())
		requester, err := gatewaykit.NewRequester(deps.Kit, gatewaykit.RequestRoute[OrderReq, OrderRes]{
			Topic: topics.Orders, ReplyTopic: topics.Results,
			Request: gatewaykit.JSON[OrderReq](), Reply: gatewaykit.JSON[OrderRes](),
		})
		if err != nil {
			return err
		}
		api.POST("/v1/orders", gatewaykit.PublishHandler(gatewaykit.PublishEndpoint[OrderReq]{
			Publisher: publisher, Logger: deps.Logger, Message: newOrder, Key: byCustomer,
			Answer: func(c *gin.Context, o OrderReq) { c.JSON(http.StatusAccepted, Accepted{OrderID: o.OrderID}) },
		}))
		api.POST("/v1/orders/sync", gatewaykit.RequestHandler(gatewaykit.RequestEndpoint[OrderReq, OrderRes]{
			Requester: requester, Logger: deps.Logger, Message: newOrder, Key: byCustomer,
		}))
		return nil
	}
}

// newOrder reads the order from the request body and gives it a new ID.
func newOrder(c *gin.Context, _ string) (OrderReq, error) {
	var in OrderInput
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxOrderBody)
	if err := c.ShouldBindJSON(&in); err != nil {
		return OrderReq{}, fmt.Errorf("want a JSON order {customer_id, sku, quantity} of at most %d bytes", maxOrderBody)
	}
	order := OrderReq{OrderID: correlation.New(), CustomerID: in.CustomerID, SKU: in.SKU, Quantity: in.Quantity}
	return order, order.Validate()
}

// byCustomer keys orders by customer: the worker handles one customer's orders in order.
func byCustomer(o OrderReq) string { return o.CustomerID }
