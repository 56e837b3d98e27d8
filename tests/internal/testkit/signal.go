package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Signal sends sig to a single-node broker's process, found through kafka.sh's pid
// file: SIGSTOP freezes it (a stalled broker that keeps its connections open), SIGCONT
// thaws it.
func (k *Kafka) Signal(sig syscall.Signal) error {
	b, err := os.ReadFile(filepath.Join(k.dataDir, "kafka.pid"))
	if err != nil {
		return fmt.Errorf("the broker's pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("the broker's pid %q: %w", b, err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %v to the broker (pid %d): %w", sig, pid, err)
	}
	return nil
}
