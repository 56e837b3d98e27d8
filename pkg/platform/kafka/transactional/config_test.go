package transactional

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// The producer buffers a whole default transaction's outputs (see Config), and a
// larger buffer the caller chose stays.
func TestConfigBuffersAWholeTransaction(t *testing.T) {
	base := sarama.NewConfig()
	if got := Config(base, "id", 0).ChannelBufferSize; got != txnSendBuffer {
		t.Errorf("ChannelBufferSize %d from sarama's default %d, want %d", got, base.ChannelBufferSize, txnSendBuffer)
	}
	base.ChannelBufferSize = 3 * txnSendBuffer
	if got := Config(base, "id", 0).ChannelBufferSize; got != 3*txnSendBuffer {
		t.Errorf("ChannelBufferSize %d, want the caller's %d", got, 3*txnSendBuffer)
	}
	cfg := Config(sarama.NewConfig(), "worker-1", 0)
	if cfg.Producer.Transaction.ID != "worker-1" || !cfg.Producer.Idempotent || cfg.Net.MaxOpenRequests != 1 {
		t.Errorf("not a transactional producer: id %q, idempotent %v, max open requests %d",
			cfg.Producer.Transaction.ID, cfg.Producer.Idempotent, cfg.Net.MaxOpenRequests)
	}
}

// A linger gathers a transaction's outputs, and a backlog's fill a request at once;
// without one, each output is sent at once (Flush.Bytes alone would hold them forever).
func TestConfigLingers(t *testing.T) {
	cfg := Config(sarama.NewConfig(), "id", 5*time.Millisecond)
	if cfg.Producer.Flush.Frequency != 5*time.Millisecond || cfg.Producer.Flush.Bytes != txnFlushBytes {
		t.Errorf("flush every %v or at %d bytes, want 5ms or %d", cfg.Producer.Flush.Frequency, cfg.Producer.Flush.Bytes, txnFlushBytes)
	}
	cfg = Config(sarama.NewConfig(), "id", 0)
	if cfg.Producer.Flush.Frequency != 0 || cfg.Producer.Flush.Bytes != 0 {
		t.Errorf("no linger: flush every %v or at %d bytes, want at once", cfg.Producer.Flush.Frequency, cfg.Producer.Flush.Bytes)
	}
}
