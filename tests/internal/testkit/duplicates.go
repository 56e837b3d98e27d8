package testkit

import (
	"context"

	"github.com/IBM/sarama"
)

// ReplyCounts reads topic to its high-water mark as a read_committed consumer
// (what a client of the replies sees) and returns how many records each key
// has. The suites count duplicates on it once every ID has been answered: a
// reader that stopped at the first copy of each ID would miss a second one
// written later, at any offset.
func ReplyCounts(ctx context.Context, client sarama.Client, topic string) (map[string]int, error) {
	records, err := ReadToHighWater(ctx, client, topic, sarama.ReadCommitted)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(records))
	for _, r := range records {
		counts[string(r.Key)]++
	}
	return counts, nil
}

// Duplicates is how many records beyond the first counts has for the ids.
func Duplicates(counts map[string]int, ids []string) int {
	n := 0
	for _, id := range ids {
		n += max(counts[id]-1, 0)
	}
	return n
}
