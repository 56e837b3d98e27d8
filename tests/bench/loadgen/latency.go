// Package loadgen drives HTTP load for the benchmark: a closed loop (a fixed number of
// clients, each sending its next request when the last one answered) and an open loop
// (requests sent on a fixed schedule whatever the server does, latency counted from the
// scheduled send time, so a stalled server cannot hide its stall by slowing the load:
// no coordinated omission).
package loadgen

import (
	"math"
	"slices"
	"time"
)

// Missing stands for a latency that was never observed (no answer, no reply); it sorts
// after every real one, so a percentile that lands on it reads as "not within the run".
const Missing = time.Duration(math.MaxInt64)

// Percentile returns the p-th percentile (0 < p <= 100) of latencies by the
// nearest-rank method, or 0 for none. latencies is sorted in place.
func Percentile(latencies []time.Duration, p float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	slices.Sort(latencies)
	rank := int(math.Ceil(p / 100 * float64(len(latencies))))
	rank = min(max(rank, 1), len(latencies))
	return latencies[rank-1]
}
