package service

import (
	"errors"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"
)

// withMemoryLimitEnv sets GOMEMLIMIT and AUTOMEMLIMIT (unset when empty) and restores
// them and the runtime's soft memory limit after the test.
func withMemoryLimitEnv(t *testing.T, gomemlimit, automemlimit string) {
	for name, value := range map[string]string{"GOMEMLIMIT": gomemlimit, "AUTOMEMLIMIT": automemlimit} {
		t.Setenv(name, value) // restores it after the test
		if value == "" {
			if err := os.Unsetenv(name); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
}

func TestSoftMemoryLimitIsNineTenthsOfTheContainers(t *testing.T) {
	withMemoryLimitEnv(t, "", "")
	if err := setSoftMemoryLimit(zap.NewNop(), memlimit.Limit(256<<20)); err != nil {
		t.Fatal(err)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(256<<20*9/10); got < want-1 || got > want {
		t.Errorf("soft memory limit %d, want %d (90 %% of 256 MiB)", got, want)
	}
}

func TestNoSoftMemoryLimitWithoutAContainerLimit(t *testing.T) {
	withMemoryLimitEnv(t, "", "")
	noCgroup := func() (uint64, error) { return 0, errors.New("no cgroup here") }
	if err := setSoftMemoryLimit(zap.NewNop(), noCgroup); err != nil {
		t.Fatalf("an unreadable limit stopped start-up: %v", err)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("soft memory limit %d without a container limit, want none", got)
	}
}

func TestGOMEMLIMITWins(t *testing.T) {
	withMemoryLimitEnv(t, "300MiB", "")
	before := debug.SetMemoryLimit(-1)
	if err := setSoftMemoryLimit(zap.NewNop(), memlimit.Limit(256<<20)); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("soft memory limit changed to %d although GOMEMLIMIT is set", got)
	}
}

func TestBadAUTOMEMLIMITStopsStartUp(t *testing.T) {
	withMemoryLimitEnv(t, "", "lots")
	err := setSoftMemoryLimit(zap.NewNop(), memlimit.Limit(256<<20))
	if err == nil || !strings.Contains(err.Error(), "AUTOMEMLIMIT") {
		t.Fatalf("AUTOMEMLIMIT=lots: %v, want an error naming the variable", err)
	}
}
