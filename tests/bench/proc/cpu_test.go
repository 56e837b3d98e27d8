package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// rusage is what the kernel reports through getrusage for this process.
func rusage(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPUAgreesWithRusage spins until this process has used 200 ms of CPU and checks
// CPU against getrusage, to within a few clock ticks.
func TestCPUAgreesWithRusage(t *testing.T) {
	deadline := time.Now().Add(30 * time.Second)
	for rusage(t) < 200*time.Millisecond && time.Now().Before(deadline) {
	}
	before := rusage(t)
	got, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	after := rusage(t)
	if got < before-30*time.Millisecond || got > after+30*time.Millisecond {
		t.Errorf("CPU = %v, getrusage says %v..%v", got, before, after)
	}
}

func TestTreeCPUIncludesChildren(t *testing.T) {
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		own, err := CPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		tree, err := TreeCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if tree >= own+50*time.Millisecond {
			return // the child's loop is counted
		}
		if time.Now().After(deadline) {
			t.Fatalf("tree %v, own %v: the child's CPU is not counted", tree, own)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCPUOfNoProcess(t *testing.T) {
	if _, err := CPU(-1); err == nil {
		t.Error("no error for pid -1")
	}
}
