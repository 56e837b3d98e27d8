package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/streamgate/streamgate/tests/bench/proc"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// process is a service the benchmark runs: its output is drained (and counted, to
// report log volume) so that a full pipe never slows it, and its last lines are kept
// to explain a failure.
type process struct {
	name     string
	cmd      *exec.Cmd
	logBytes atomic.Int64
	tail     tailBuffer
	done     chan struct{}
	waitErr  error
}

// startProcess starts argv with env added to the benchmark's own environment.
func startProcess(name string, env []string, dir string, argv ...string) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	// Its own process group: uvicorn's workers are stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	out := io.MultiWriter(&p.tail, counter{&p.logBytes})
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// cpu is the CPU time the process and its children have used so far.
func (p *process) cpu() time.Duration {
	used, err := proc.TreeCPU(p.cmd.Process.Pid)
	if err != nil {
		return 0
	}
	return used
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group and SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// failure describes an unexpected exit with the process's last output.
func (p *process) failure() error {
	return fmt.Errorf("%s exited (%v); last output:\n%s", p.name, p.waitErr, p.tail.String())
}

// waitHTTP polls url until it answers 200, the process exits or timeout passes.
func (p *process) waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	err := testkit.WaitOK(ctx, url, timeout, 100*time.Millisecond, func() error {
		if p.exited() {
			return p.failure()
		}
		return nil
	})
	switch {
	case err != nil && p.exited():
		return p.failure()
	case err != nil:
		return fmt.Errorf("%s: %w\n%s", p.name, err, p.tail.String())
	}
	return nil
}

type counter struct{ n *atomic.Int64 }

func (c counter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return len(b), nil
}

// tailBuffer keeps the last tailSize bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 8 << 10

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf[max(0, len(t.buf)-tailSize):])
}

var errStopped = errors.New("stopped")
