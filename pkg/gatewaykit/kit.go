package gatewaykit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrReadersRunning is returned when a reply topic is first asked for after the
// readers started: every Requester is made while the endpoints are registered.
var ErrReadersRunning = errors.New("gatewaykit: reply readers already running; make requesters before Run")

// Kit is what a gateway's endpoints publish and request through: one Sender for every
// topic and the readers of the reply topics. The gateway's runner (services/gateway's
// gatewayapp) makes one and hands it to the endpoints it registers.
type Kit struct {
	sender       Sender
	replyReaders *ReplyReaders // nil: Kafka is disabled

	mu     sync.Mutex
	topics []string // published to, for readiness
}

// NewKit returns a kit sending through sender and awaiting replies with replyReaders;
// nil replyReaders (Kafka disabled) makes every request fail with ErrRepliesDisabled.
func NewKit(sender Sender, replyReaders *ReplyReaders) *Kit {
	return &Kit{sender: sender, replyReaders: replyReaders}
}

// Topics returns the topics the kit's publishers and requesters write to, sorted:
// those readiness asks the cluster about. Reply topics are not among them: a gateway
// that cannot read one answers its requests 503 but still publishes.
func (k *Kit) Topics() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	topics := slices.Clone(k.topics)
	slices.Sort(topics)
	return topics
}

func (k *Kit) use(topic string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !slices.Contains(k.topics, topic) {
		k.topics = append(k.topics, topic)
	}
}

// ReplyReaders are a gateway's readers of reply topics, one per topic some Requester
// awaits replies on, each with its own bounded set of waiting requests.
type ReplyReaders struct {
	cfg      ReplyReaderConfig
	loopback bool // read nothing from Kafka; Deliver is the only source
	mu       sync.Mutex
	readers  map[string]*replyReader
	running  bool
}

// NewReplyReaders returns readers connecting with cfg; Requesters add their topics,
// then Run reads them all.
func NewReplyReaders(cfg ReplyReaderConfig) *ReplyReaders {
	return &ReplyReaders{cfg: cfg, readers: make(map[string]*replyReader)}
}

// NewLoopbackReplyReaders returns reply readers that read no broker: replies arrive only
// through Deliver, and every topic counts as read. Endpoint tests use it with a Sender
// that plays the worker.
func NewLoopbackReplyReaders(maxWaiting int) *ReplyReaders {
	return &ReplyReaders{cfg: ReplyReaderConfig{MaxWaiting: maxWaiting}, loopback: true, readers: make(map[string]*replyReader)}
}

// Deliver hands body to the request of this instance waiting for the reply whose
// correlation_id header is correlationID on topic, as the topic's reader does; it
// reports whether one was waiting.
func (r *ReplyReaders) Deliver(topic, correlationID string, body []byte) bool {
	r.mu.Lock()
	reader, ok := r.readers[topic]
	r.mu.Unlock()
	return ok && reader.waiters.Deliver(correlationID, body)
}

// Waiting is the number of requests waiting for a reply on topic.
func (r *ReplyReaders) Waiting(topic string) int {
	r.mu.Lock()
	reader, ok := r.readers[topic]
	r.mu.Unlock()
	if !ok {
		return 0
	}
	return reader.waiters.Len()
}

// reader returns the reader of topic, adding it if Run has not started.
func (r *ReplyReaders) reader(topic string) (*replyReader, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reader, ok := r.readers[topic]; ok {
		return reader, nil
	}
	if r.running {
		return nil, fmt.Errorf("reply topic %s: %w", topic, ErrReadersRunning)
	}
	reader := &replyReader{cfg: r.cfg, topic: topic, waiters: NewWaiters(r.cfg.MaxWaiting)}
	reader.reading.Store(r.loopback)
	r.readers[topic] = reader
	return reader, nil
}

// Topics returns the reply topics read, sorted.
func (r *ReplyReaders) Topics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	topics := make([]string, 0, len(r.readers))
	for topic := range r.readers {
		topics = append(topics, topic)
	}
	slices.Sort(topics)
	return topics
}

// Run reads every reply topic until ctx ends and returns once every reader stopped.
func (r *ReplyReaders) Run(ctx context.Context) error {
	r.mu.Lock()
	r.running = true
	readers := make([]*replyReader, 0, len(r.readers))
	for _, reader := range r.readers {
		readers = append(readers, reader)
	}
	r.mu.Unlock()
	if r.loopback {
		<-ctx.Done()
		return fmt.Errorf("gatewaykit: reply readers: %w", ctx.Err())
	}
	var running sync.WaitGroup
	for _, reader := range readers {
		running.Go(func() { _ = reader.Run(ctx) }) // ends with ctx
	}
	running.Wait()
	return fmt.Errorf("gatewaykit: reply readers: %w", ctx.Err())
}
