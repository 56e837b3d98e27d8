package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/streamgate/streamgate/tests/bench/loadgen"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// profile takes a CPU and an allocation profile of the gateway (Kafka on, logs at info)
// during a closed-loop load of -duration, and writes them with their `top -cum`
// summaries into -out. Only with -profile (both services are then built with -tags
// pprof).
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
			errs[i] = b.fetchProfile(ctx, profileFetch{addr: b.pprofAddr, binary: b.bins.gateway, kind: kind, seconds: seconds})
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

// profileWorker takes a CPU and an allocation profile of a worker draining in (logs at
// info) for a time that grows with the backlog, after its first second, and writes them
// as worker-{profile,allocs}.{pb.gz,txt}. The
// drain is extra, not one of the measured rounds. Only with -profile.
func (b *bench) profileWorker(ctx context.Context, in string) error {
	if !b.o.profile {
		return nil
	}
	addr, err := testkit.FreeAddr()
	if err != nil {
		return err
	}
	out, group := b.topic("drain-out-profile"), b.topic("drain-profile")
	if err := b.c.createTopics(out); err != nil {
		return err
	}
	// About the worker's drain of the backlog, less its first second (at ~200,000
	// records/s): 2 s of the default million.
	seconds := min(max(b.o.backlog/400_000, 1), 10)
	logf("profiling the worker draining for %ds", seconds)
	p, err := b.startWorker(ctx, workerRun{
		bin: b.bins.worker, name: "profiled drain worker", level: "info",
		in: in, out: out, group: group, extra: []string{"PPROF_ADDR=" + addr},
	})
	if err != nil {
		return err
	}
	defer p.stop(20 * time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second): // joined and answering
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, kind := range []string{"profile", "allocs"} {
		wg.Go(func() {
			errs[i] = b.fetchProfile(ctx, profileFetch{addr: addr, binary: b.bins.worker, prefix: "worker-", kind: kind, seconds: seconds})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// profileFetch is one profile to take: kind (profile, allocs) for seconds from the
// pprof listener at addr of binary, saved under names starting with prefix.
type profileFetch struct {
	addr, binary, prefix, kind string
	seconds                    int
}

// fetchProfile saves /debug/pprof/<kind>?seconds=N (for allocs: what was allocated in
// those seconds) as <prefix><kind>.pb.gz and its `go tool pprof -top -cum` as
// <prefix><kind>.txt.
func (b *bench) fetchProfile(ctx context.Context, pf profileFetch) error {
	addr, binary, prefix, kind, seconds := pf.addr, pf.binary, pf.prefix, pf.kind, pf.seconds
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", addr, kind, seconds)
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
	raw := filepath.Join(b.o.out, prefix+kind+".pb.gz")
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
	top, err := exec.CommandContext(ctx, "go", append(args, binary, raw)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof %s: %w\n%s", raw, err, top)
	}
	summary := filepath.Join(b.o.out, prefix+kind+".txt")
	b.results.Profiles = append(b.results.Profiles, summary)
	return os.WriteFile(summary, top, 0o644)
}
