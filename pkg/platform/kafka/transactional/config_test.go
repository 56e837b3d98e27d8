package transactional

import (
	"testing"

	"github.com/IBM/sarama"
)

// The producer buffers a whole default transaction's outputs (see Config), and a
// larger buffer the caller chose stays.
func TestConfigBuffersAWholeTransaction(t *testing.T) {
	base := sarama.NewConfig()
	if got := Config(base, "id").ChannelBufferSize; got != txnSendBuffer {
		t.Errorf("ChannelBufferSize %d from sarama's default %d, want %d", got, base.ChannelBufferSize, txnSendBuffer)
	}
	base.ChannelBufferSize = 3 * txnSendBuffer
	if got := Config(base, "id").ChannelBufferSize; got != 3*txnSendBuffer {
		t.Errorf("ChannelBufferSize %d, want the caller's %d", got, 3*txnSendBuffer)
	}
	cfg := Config(sarama.NewConfig(), "worker-1")
	if cfg.Producer.Transaction.ID != "worker-1" || !cfg.Producer.Idempotent || cfg.Net.MaxOpenRequests != 1 {
		t.Errorf("not a transactional producer: id %q, idempotent %v, max open requests %d",
			cfg.Producer.Transaction.ID, cfg.Producer.Idempotent, cfg.Net.MaxOpenRequests)
	}
}
