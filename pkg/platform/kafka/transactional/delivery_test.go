package transactional

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/IBM/sarama"
)

// A fenced commit's error names the broker's code, which sarama's own text for code 90
// does not, and stays ErrFenced and the KError for errors.Is.
func TestFencedErrorNamesTheCode(t *testing.T) {
	err := fencedError(fmt.Errorf("commit: %w", sarama.ErrProducerFenced))
	if want := "transactional: producer fenced (PRODUCER_FENCED, error code 90): commit: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start with %q", err, want)
	}
	if !errors.Is(err, ErrFenced) || !errors.Is(err, sarama.ErrProducerFenced) || !fenced(err) {
		t.Errorf("error %q lost ErrFenced or the KError", err)
	}
	if got := refusal(fmt.Errorf("commit: %w", sarama.ErrOutOfBrokers)); got != "" {
		t.Errorf("refusal of a broker outage %q, want none", got)
	}
}
