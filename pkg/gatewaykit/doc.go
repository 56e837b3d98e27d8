// Package gatewaykit is what a gateway's HTTP endpoints publish and request through:
// typed publishing of any message to any topic (Publisher), typed request/reply over a
// reply topic (Requester), and gin handlers that make an endpoint "publish and answer"
// or "request and wait up to ?timeout" a few lines (PublishHandler, RequestHandler).
//
// Underneath, one Producer (a sarama SyncProducer that rebuilds its client when the
// cluster refuses its credentials) sends every record, measured and traced by
// Observed; ReplyReaders read each reply topic in use.
//
// Request/reply: each request is published with a correlation_id header that is a fresh
// UUID, so concurrent requests never share one, whatever X-Correlation-ID the clients
// send, and (for FastStream-style flows) a reply_to header naming the reply topic. The
// worker echoes the correlation_id header on its reply. Every gateway instance reads
// every partition of the reply topic and keeps only the replies its own waiters expect:
// replies for other instances, and late ones whose request gave up, are dropped.
package gatewaykit
