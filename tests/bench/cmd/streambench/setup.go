package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// binaries are the services under test and, with -baseline, both built at that revision.
type binaries struct{ gateway, worker, baselineGateway, baselineWorker string }

// build compiles both services as a release build does (with -profile, the profiling
// build: net/http/pprof on PPROF_ADDR).
func build(ctx context.Context, root, dir string, profile bool) (binaries, error) {
	bins := binaries{gateway: filepath.Join(dir, "gateway"), worker: filepath.Join(dir, "worker")}
	for _, b := range []struct {
		out, pkg string
		tags     []string
	}{
		{bins.gateway, "./services/gateway/cmd/gateway", nil},
		{bins.worker, "./services/worker/cmd/worker", nil},
	} {
		args := []string{"build", "-trimpath", "-o", b.out}
		if profile {
			args = append(args, "-tags", "pprof")
		}
		cmd := exec.CommandContext(ctx, "go", append(args, b.pkg)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return bins, fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return bins, nil
}

// pythonVenv returns the python of the venv with the original's stack, made once by
// tests/python/venv.sh from tests/bench/python/requirements.txt.
func pythonVenv(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "tests/python/venv.sh"), filepath.Join(root, "tests/bench/python/requirements.txt"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("venv.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildBaseline compiles both services as they were at git revision ref, to measure
// them in the same run as the working tree's.
func buildBaseline(ctx context.Context, root, dir, ref string) (gateway, worker string, err error) {
	src := filepath.Join(dir, "baseline-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", "", err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, ref, src)
	if out, err := archive.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("git archive %s: %w\n%s", ref, err, out)
	}
	gateway, worker = filepath.Join(dir, "gateway-baseline"), filepath.Join(dir, "worker-baseline")
	for out, pkg := range map[string]string{gateway: "./services/gateway/cmd/gateway", worker: "./services/worker/cmd/worker"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
		cmd.Dir = src
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %s at %s: %w\n%s", pkg, ref, err, msg)
		}
	}
	return gateway, worker, nil
}
