package router

import "github.com/IBM/sarama"

func runClaim(r *Router, rt *route, d Delivery, sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	return nil // engine: next commit
}
