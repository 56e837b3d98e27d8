package ping

import (
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/services/worker/workerapp"
)

// Name labels the flow's metrics, spans and log lines.
const Name = "ping"

// Route is the ping flow's subscription: requests on the in-topic, replies on the
// out-topic (or an allowed reply_to topic), what breaks the contract to the
// dead-letter topic. One record at a time per partition, as FastStream's subscriber
// handles them: the replies of a partition come out in request order (the conformance
// suite checks it), and a handler this cheap gains nothing from concurrency.
func Route(cfg workerapp.Config, h Handler) router.Route[messages.SampleReqMsg, messages.SampleResMsg] {
	return router.Route[messages.SampleReqMsg, messages.SampleResMsg]{
		Name:            Name,
		Topic:           cfg.InTopic,
		ReplyTopic:      cfg.OutTopic,
		DeadLetterTopic: cfg.DLQTopic,
		Request:         router.CodecFuncs(messages.EncodeRequest, messages.DecodeRequest),
		Reply:           router.CodecFuncs(messages.EncodeResponse, messages.DecodeResponse),
		Handler:         h.Handle,
		ReplyTo:         cfg.ReplyTo,
		Ordering:        router.ByPartition,
	}
}

// Register adds the ping route to r: the worker's workerapp.Register.
func Register(r *router.Router, cfg workerapp.Config) error {
	return router.Register(r, Route(cfg, Handler{Now: time.Now}))
}
