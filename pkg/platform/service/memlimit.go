package service

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"
)

// memoryLimitRatio is the share of the container's memory limit the Go runtime is
// told to stay under: the rest is room for what the GC does not count (stacks, the
// binary, sarama's and the kernel's buffers).
const memoryLimitRatio = 0.9

// setSoftMemoryLimit sets the Go runtime's soft memory limit (GOMEMLIMIT) to 90 % of
// the memory limit provider reports, the container's (cgroup) by default: near the
// limit the GC works harder instead of letting the heap's garbage reach the OOM
// killer. A worker alone on 12 partitions draining a backlog peaked at about 300 MB
// without it, at 245 MiB with it (docs/handlers.md). GOMEMLIMIT set by hand wins;
// AUTOMEMLIMIT sets another ratio, or "off". No limit readable (no cgroup, another
// OS): none is set. automemlimit does the cgroup v1/v2 reading.
func setSoftMemoryLimit(log *zap.Logger, provider memlimit.Provider) error {
	readable := func() (uint64, error) {
		limit, err := provider()
		if err != nil && !errors.Is(err, memlimit.ErrNoLimit) {
			log.Debug("no container memory limit readable", zap.Error(err))
			return 0, memlimit.ErrNoLimit // no limit: none set, ratio or not
		}
		return limit, err
	}
	limit, err := memlimit.Set(memlimit.WithRatio(memoryLimitRatio), memlimit.WithProvider(readable))
	if err != nil {
		return fmt.Errorf("soft memory limit (AUTOMEMLIMIT): %w", err)
	}
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		log.Info("soft memory limit from GOMEMLIMIT", zap.Int64("bytes", limit))
	case limit == math.MaxInt64:
		log.Debug("no memory limit to follow: the Go runtime's soft memory limit stays off")
	default:
		log.Info("soft memory limit set under the container's memory limit", zap.Int64("bytes", limit))
	}
	return nil
}
