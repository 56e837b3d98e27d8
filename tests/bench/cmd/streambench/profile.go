package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/streamgate/streamgate/tests/bench/loadgen"
)

// profile takes a CPU and an allocation profile of the gateway (Kafka on, logs at info)
// during a closed-loop load of -duration, and writes them with their `top -cum`
// summaries into -out. Only with -profile (the gateway is then built with -tags pprof).
func (b *bench) profile(ctx context.Context) error {
	if !b.o.profile {
		return nil
	}
	v := b.variants[0]
	if err := b.drained(ctx, v); err != nil {
		return err
	}
	seconds := max(1, int(b.o.duration.Seconds()))
	logf("profiling %s for %ds", v.name, seconds)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, kind := range []string{"profile", "allocs"} {
		wg.Go(func() {
			errs[i] = b.fetchProfile(ctx, kind, seconds)
		})
	}
	client := loadgen.NewClient(b.o.concurrency)
	r := loadgen.Closed(ctx, client, loadgen.Target{URL: v.url, IDPrefix: "profile-" + b.id + "-"}, b.o.concurrency, time.Duration(seconds+1)*time.Second)
	client.CloseIdleConnections()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if r.Failed > 0 {
		return fmt.Errorf("profiling load: %d failed (first: %v)", r.Failed, r.FirstErr)
	}
	return nil
}

// fetchProfile saves /debug/pprof/<kind>?seconds=N (for allocs: what was allocated in
// those seconds) as <kind>.pb.gz and its `go tool pprof -top -cum` as <kind>.txt.
func (b *bench) fetchProfile(ctx context.Context, kind string, seconds int) error {
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", b.pprofAddr, kind, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: GET %s: status %d", url, resp.StatusCode)
	}
	raw := filepath.Join(b.o.out, kind+".pb.gz")
	f, err := os.Create(raw)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	args := []string{"tool", "pprof", "-top", "-cum", "-nodecount=60"}
	if kind == "allocs" {
		args = append(args, "-sample_index=alloc_space")
	}
	top, err := exec.CommandContext(ctx, "go", append(args, b.bins.gateway, raw)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof %s: %w\n%s", raw, err, top)
	}
	summary := filepath.Join(b.o.out, kind+".txt")
	b.results.Profiles = append(b.results.Profiles, summary)
	return os.WriteFile(summary, top, 0o644)
}
