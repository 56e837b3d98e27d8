package router

import "github.com/IBM/sarama"

// DefaultPartitionsAtFullBounds is how many partitions a worker owns at the full
// per-partition bounds by default: the ping flow's 3, which the worker chart's memory
// limit is sized for (docs/handlers.md).
const DefaultPartitionsAtFullBounds = 3

// claimBounds are one claim's share of the memory bounds: Config's MaxInFlight,
// MaxInFlightBytes, ReadAhead and ReadAheadBytes while the session owns at most
// Config.PartitionsAtFullBounds partitions, and that fraction of them beyond. Without
// it a worker's memory grew with the partitions it owned (a worker alone on 12
// partitions would hold four times what the chart's limit is sized for).
type claimBounds struct {
	maxInFlight, maxInFlightBytes int
	readAhead, readAheadBytes     int
}

// boundsFor returns the share of each claim of a session that owns partitions.
func (cfg *Config) boundsFor(partitions int) claimBounds {
	share := func(bound int) int {
		if partitions <= cfg.PartitionsAtFullBounds {
			return bound
		}
		// At least one: a claim that can take nothing jams its partition.
		return max(1, bound*cfg.PartitionsAtFullBounds/partitions)
	}
	return claimBounds{
		maxInFlight: share(cfg.MaxInFlight), maxInFlightBytes: share(cfg.MaxInFlightBytes),
		readAhead: share(cfg.ReadAhead), readAheadBytes: share(cfg.ReadAheadBytes),
	}
}

// ownedPartitions counts the partitions of every topic sess claims.
func ownedPartitions(sess sarama.ConsumerGroupSession) int {
	n := 0
	for _, partitions := range sess.Claims() {
		n += len(partitions)
	}
	return n
}
