package orders

import (
	"fmt"

	"github.com/streamgate/streamgate/pkg/router"
)

// Topics are the flow's topics; both mains read them from the environment.
type Topics struct {
	Orders     string // ORDERS_TOPIC: OrderReq, to the worker
	Results    string // ORDERS_RESULTS_TOPIC: OrderRes, from the worker
	DeadLetter string // ORDERS_DLQ_TOPIC: records the worker cannot read
}

// DefaultTopics are the names the devbroker of `make run` creates.
var DefaultTopics = Topics{Orders: "orders", Results: "orders.results", DeadLetter: "orders.dlq"}

// TopicsFromEnv reads the topics, the defaults for those unset; the error names the
// variable with a bad value.
func TopicsFromEnv(lookup func(string) (string, bool)) (Topics, error) {
	t := DefaultTopics
	for _, v := range []struct {
		name  string
		value *string
	}{{"ORDERS_TOPIC", &t.Orders}, {"ORDERS_RESULTS_TOPIC", &t.Results}, {"ORDERS_DLQ_TOPIC", &t.DeadLetter}} {
		if s, ok := lookup(v.name); ok {
			if err := router.ValidTopic(s); err != nil {
				return Topics{}, fmt.Errorf("invalid configuration: %s: %w", v.name, err)
			}
			*v.value = s
		}
	}
	return t, nil
}
