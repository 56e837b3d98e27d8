package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// service is a running gateway or worker binary whose JSON log lines are collected.
type service struct {
	t    *testing.T
	name string
	addr string // loopback HTTP address
	// metricsAddr serves /metrics; always a free port, as the defaults (:9090, :9091)
	// may be taken on a shared machine.
	metricsAddr string
	env         []string
	cmd         *exec.Cmd
	done        chan error // receives the exit status once

	mu    sync.Mutex
	lines []map[string]any
	raw   []string
}

// startService runs bin/<name> with env on a free loopback port and waits until its
// /healthz answers. It is stopped with SIGTERM when the test ends.
func startService(t *testing.T, name string, env ...string) *service {
	t.Helper()
	s := &service{t: t, name: name, addr: freeLoopbackAddr(t), metricsAddr: freeLoopbackAddr(t)}
	s.env = append(os.Environ(), append([]string{
		"HTTP_ADDR=" + s.addr, "METRICS_ADDR=" + s.metricsAddr, "LOG_FORMAT=json", "LOG_LEVEL=debug",
	}, env...)...)
	s.launch()
	t.Cleanup(func() {
		if err := s.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if t.Failed() {
			s.dumpLogs()
		}
	})
	return s
}

func (s *service) launch() {
	s.t.Helper()
	s.cmd = exec.Command(filepath.Join(suite.binDir, s.name))
	s.cmd.Env = s.env
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stderr = &prefixWriter{prefix: s.name + " stderr: ", sink: s}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	s.done = make(chan error, 1)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		s.collect(stdout)
	}()
	go func() {
		<-collected // Wait must not run before the pipe is drained
		s.done <- s.cmd.Wait()
	}()
	waitFor(s.t, 30*time.Second, s.name+" /healthz", func() error {
		select {
		case err := <-s.done:
			s.done <- err // keep it for stop
			s.dumpLogs()
			s.t.Fatalf("%s exited while starting: %v", s.name, err)
		default:
		}
		status, _, err := s.get("/healthz", nil)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		return err
	})
}

// collect keeps every line the process writes; JSON lines are also parsed.
func (s *service) collect(r io.Reader) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for scanner.Scan() {
		s.addLine(scanner.Text())
	}
}

func (s *service) addLine(line string) {
	var fields map[string]any
	if json.Unmarshal([]byte(line), &fields) != nil {
		fields = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = append(s.raw, line)
	if fields != nil {
		s.lines = append(s.lines, fields)
	}
}

// stop sends sig and waits for the process to exit; a clean stop must exit 0.
func (s *service) stop(sig syscall.Signal, within time.Duration) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case err := <-s.done:
		s.cmd = nil
		if err != nil {
			return fmt.Errorf("exited early: %w", err)
		}
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case err := <-s.done:
		s.cmd = nil
		if sig == syscall.SIGKILL {
			return nil
		}
		if err != nil {
			return fmt.Errorf("exit after %s: %w", sig, err)
		}
		return nil
	case <-time.After(within):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.cmd = nil
		return fmt.Errorf("did not stop within %s of %s", within, sig)
	}
}

// kill stops the process at once, as an OOM kill or node failure would.
func (s *service) kill() {
	s.t.Helper()
	if err := s.stop(syscall.SIGKILL, 10*time.Second); err != nil {
		s.t.Fatal(err)
	}
}

// restart starts the same binary again with the same settings and address.
func (s *service) restart() {
	s.t.Helper()
	s.launch()
}

// get calls path on the service and returns status and body.
func (s *service) get(path string, header http.Header) (int, []byte, error) {
	status, _, body, err := s.request(path, header)
	return status, body, err
}

// readyReasons calls /readyz on the private metrics port, which says why the service is
// not ready (the public one does not).
func (s *service) readyReasons() (int, []byte, error) {
	status, _, body, err := s.requestAt(s.metricsAddr, "/readyz", nil)
	return status, body, err
}

func (s *service) request(path string, header http.Header) (int, http.Header, []byte, error) {
	return s.requestAt(s.addr, path, header)
}

func (s *service) requestAt(addr, path string, header http.Header) (int, http.Header, []byte, error) {
	resp, body, err := testkit.Get(&http.Client{Timeout: 30 * time.Second}, "http://"+addr+path, header)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, body, nil
}

// logsWith returns the parsed log lines whose field key equals value.
func (s *service) logsWith(key, value string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range s.lines {
		if line[key] == value {
			out = append(out, line)
		}
	}
	return out
}

// waitLogged waits until s has logged a line with correlation ID id whose field key is
// value. Lines arrive through a pipe, so one written just before an HTTP answer may
// still be on its way when the answer is read.
func waitLogged(t *testing.T, s *service, id, key, value string) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%s logs %s=%q for %s", s.name, key, value, id), func() error {
		for _, line := range s.logsWith("correlation_id", id) {
			if line[key] == value {
				return nil
			}
		}
		return errNotYet
	})
}

func (s *service) dumpLogs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := max(0, len(s.raw)-80)
	s.t.Logf("last %d log lines of %s:\n%s", len(s.raw)-from, s.name, strings.Join(s.raw[from:], "\n"))
}

// prefixWriter keeps a process's standard error with its other lines.
type prefixWriter struct {
	prefix string
	sink   *service
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.sink.addLine(w.prefix + line)
	}
	return len(p), nil
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	addr, err := testkit.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// waitFor retries check until it returns nil, failing the test after within.
func waitFor(t *testing.T, within time.Duration, what string, check func() error) {
	t.Helper()
	if err := testkit.Poll(context.Background(), within, 200*time.Millisecond, check); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

var errNotYet = errors.New("not yet")
