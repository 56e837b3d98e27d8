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
	var tags []string
	if profile {
		tags = []string{"-tags", "pprof"}
	}
	gateway, worker, err := buildServices(ctx, root, dir, "", tags...)
	return binaries{gateway: gateway, worker: worker}, err
}

// buildServices compiles the gateway and the worker of the source tree src into dir,
// their names ending in suffix.
func buildServices(ctx context.Context, src, dir, suffix string, flags ...string) (gateway, worker string, err error) {
	gateway, worker = filepath.Join(dir, "gateway"+suffix), filepath.Join(dir, "worker"+suffix)
	for out, pkg := range map[string]string{gateway: "./services/gateway/cmd/gateway", worker: "./services/worker/cmd/worker"} {
		args := append([]string{"build", "-trimpath", "-o", out}, flags...)
		cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
		cmd.Dir = src
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %s in %s: %w\n%s", pkg, src, err, msg)
		}
	}
	return gateway, worker, nil
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
	return buildServices(ctx, src, dir, "-baseline")
}
