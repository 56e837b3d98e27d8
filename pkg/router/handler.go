package router

import (
	"github.com/IBM/sarama"
	"go.uber.org/zap"
)

// groupHandler runs the router's routes in a consumer group session, delivering
// through one Delivery. Its methods are safe to call concurrently, as sarama does: one
// ConsumeClaim per claimed partition.
type groupHandler struct {
	r        *Router
	delivery Delivery
}

var _ sarama.ConsumerGroupHandler = (*groupHandler)(nil)

// Handler returns the sarama.ConsumerGroupHandler that runs r's routes and hands what
// they produce to d (AtLeastOnce, or a transactional delivery). Consume it with
// r.Topics().
func (r *Router) Handler(d Delivery) (sarama.ConsumerGroupHandler, error) {
	if r.err != nil {
		return nil, r.err
	}
	if len(r.routes) == 0 {
		return nil, errNoRoutes
	}
	return &groupHandler{r: r, delivery: d}, nil
}

// Setup runs when a session starts: the router gets records from now on.
func (h *groupHandler) Setup(sess sarama.ConsumerGroupSession) error {
	cfg := &h.r.cfg
	cfg.Log.Info("consumer group session started",
		zap.String("member_id", sess.MemberID()),
		zap.Int32("generation", sess.GenerationID()),
		zap.Any("claims", sess.Claims()))
	cfg.Metrics.Rebalances.Inc()
	cfg.Metrics.SessionActive.Set(1)
	cfg.Metrics.Registry.KafkaConnected.Set(1)
	cfg.Ready.Set(nil)
	return nil
}

// Cleanup runs when a session ends, after every ConsumeClaim returned.
func (h *groupHandler) Cleanup(sess sarama.ConsumerGroupSession) error {
	h.r.cfg.Ready.Set(ErrNoSession)
	h.r.cfg.Metrics.SessionActive.Set(0)
	h.r.cfg.Log.Info("consumer group session ended", zap.Int32("generation", sess.GenerationID()))
	return nil
}

// ConsumeClaim handles one partition until the session ends or the partition is
// revoked, then drains (Config.DrainTimeout). It does not commit: sarama commits every
// marked offset when the claims it revoked have returned or the session ends.
func (h *groupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	rt, ok := h.r.routes[claim.Topic()]
	if !ok {
		return errUnroutedTopic
	}
	return runClaim(h.r, rt, h.delivery, sess, claim)
}
