package deploy

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// No Docker engine here: these tests check the Dockerfile statically, then do
// what their build stage does, from the context .dockerignore lets through,
// and run the result.

const buildinfoVar = "github.com/streamgate/streamgate/pkg/platform/buildinfo.Version"

// TestDockerfile: one Dockerfile for both services, chosen by the SERVICE
// build arg: multi-stage, pinned base images, a Go new enough for the modules,
// the static build flags, the version stamped in, a runtime stage that runs as
// 65532, and every build arg a stage uses declared in that stage (an
// undeclared one is silently empty).
func TestDockerfile(t *testing.T) {
	df := readFile(t, "Dockerfile")
	for _, want := range []string{
		"GOWORK=off",
		"CGO_ENABLED=0",
		"go build -trimpath",
		`-X ` + buildinfoVar + `=${VERSION}`,
		"ARG VERSION",
		"./cmd/${SERVICE}",
		"USER 65532",
		"COPY --from=build /out/service /usr/local/bin/service",
		`ENTRYPOINT ["/usr/local/bin/service"]`,
		"COPY pkg/ ",
		"COPY services/${SERVICE}/ ",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	stages := strings.Split(df, "\nFROM ")
	if len(stages) != 3 {
		t.Fatalf("%d FROM lines, want 2 (build, runtime)", len(stages)-1)
	}
	for i, stage := range stages[1:] {
		declared := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^(?:ARG|ENV) (\w+)`).FindAllStringSubmatch(stage, -1) {
			declared[m[1]] = true
		}
		for _, m := range regexp.MustCompile(`(?m)^ +(\w+)=`).FindAllStringSubmatch(stage, -1) {
			declared[m[1]] = true // ENV continuation lines
		}
		_, body, _ := strings.Cut(stage, "\n") // the FROM line reads the global args
		for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(body, -1) {
			if !declared[m[1]] {
				t.Errorf("stage %d uses ${%s} without an ARG %[2]s in it", i+1, m[1])
			}
		}
	}

	goImage := argDefault(t, df, "GO_IMAGE")
	runtimeImage := argDefault(t, df, "RUNTIME_IMAGE")
	m := regexp.MustCompile(`^golang:(\d+\.\d+\.\d+)-bookworm@sha256:[0-9a-f]{64}$`).FindStringSubmatch(goImage)
	if m == nil {
		t.Fatalf("builder %q: want golang:<x.y.z>-bookworm pinned by digest", goImage)
	}
	if !regexp.MustCompile(`^gcr\.io/distroless/static-debian12:nonroot@sha256:[0-9a-f]{64}$`).MatchString(runtimeImage) {
		t.Errorf("runtime %q: want gcr.io/distroless/static-debian12:nonroot pinned by digest", runtimeImage)
	}
	// The builder's Go must satisfy every module a service build reads.
	for _, c := range charts {
		if !fileExists(filepath.Join(repoRoot(t), "services", c.name, "cmd", c.name)) {
			t.Errorf("SERVICE=%s: no services/%[1]s/cmd/%[1]s to build", c.name)
		}
		for _, mod := range []string{"services/" + c.name, "pkg/messages", "pkg/platform"} {
			f, err := modfile.Parse("go.mod", []byte(readFile(t, mod+"/go.mod")), nil)
			if err != nil {
				t.Fatal(err)
			}
			if f.Go != nil && semver.Compare("v"+m[1], "v"+f.Go.Version) < 0 {
				t.Errorf("builder Go %s is older than %s/go.mod's go %s", m[1], mod, f.Go.Version)
			}
		}
	}
}

// argDefault returns the default of `ARG name=value`.
func argDefault(t *testing.T, dockerfile, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ARG ` + name + `=(\S+)$`).FindStringSubmatch(dockerfile)
	if m == nil {
		t.Fatalf("no ARG %s=... in the Dockerfile", name)
	}
	if !strings.Contains(dockerfile, "FROM ${"+name+"}") {
		t.Fatalf("ARG %s is not used in a FROM", name)
	}
	return m[1]
}

// buildContext returns the files (slash paths relative to the repository
// root) that .dockerignore lets into the build context.
func buildContext(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Descend only where an exclusion pattern may bring files back.
			if excluded && !reincludes(pm, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !excluded {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// reincludes tells whether a !pattern may match below dir.
func reincludes(pm *patternmatcher.PatternMatcher, dir string) bool {
	for _, p := range pm.Patterns() {
		if p.Exclusion() && (strings.HasPrefix(p.String(), dir+"/") || strings.HasPrefix(dir+"/", p.String()+"/") || strings.Contains(p.String(), "*")) {
			return true
		}
	}
	return false
}

// TestDockerIgnoreKeepsContextSmall: the context holds the sources the build
// copies and none of the rest of the repository.
func TestDockerIgnoreKeepsContextSmall(t *testing.T) {
	files := buildContext(t)
	has := func(prefix string) bool {
		for _, f := range files {
			if strings.HasPrefix(f, prefix) {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"pkg/messages/go.mod", "pkg/platform/go.mod", "pkg/router/go.mod", "services/gateway/go.mod", "services/worker/go.mod",
		"services/gateway/cmd/gateway/", "services/worker/cmd/worker/"} {
		if !has(want) {
			t.Errorf("the build context lacks %s", want)
		}
	}
	for _, f := range files {
		top, _, _ := strings.Cut(f, "/")
		if top != "pkg" && top != "services" {
			t.Errorf("%s is in the build context", f)
		}
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "/testdata/") {
			t.Errorf("%s (tests) is in the build context", f)
		}
	}
	t.Logf("build context: %d files", len(files))
}

// TestImageBuildFromContext does what the Dockerfile's build stage does, in a
// copy of the filtered build context: GOWORK=off from the service module,
// CGO off, -trimpath, the version stamped with -X. It catches a go.mod that
// only builds inside the workspace. The gateway binary is then started with
// Kafka off, and /v1/ping must report the stamped version.
func TestImageBuildFromContext(t *testing.T) {
	ctxDir := t.TempDir()
	root := repoRoot(t)
	for _, f := range buildContext(t) {
		src := filepath.Join(root, filepath.FromSlash(f))
		dst := filepath.Join(ctxDir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const version = "9.8.7-imagetest"
	binDir := t.TempDir()
	bins := map[string]string{}
	for _, c := range charts {
		t.Run("build/"+c.name, func(t *testing.T) {
			out := filepath.Join(binDir, c.name)
			cmd := exec.Command("go", "build", "-trimpath",
				"-ldflags", "-s -w -X "+buildinfoVar+"="+version,
				"-o", out, "./cmd/"+c.name)
			cmd.Dir = filepath.Join(ctxDir, "services", c.name)
			cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOWORK=off go build of %s from the build context failed (so would docker build): %v\n%s", c.name, err, b)
			}
			info, err := exec.Command("go", "version", "-m", out).CombinedOutput()
			if err != nil {
				t.Fatalf("go version -m: %v\n%s", err, info)
			}
			if !strings.Contains(string(info), "CGO_ENABLED=0") || !strings.Contains(string(info), "-trimpath=true") {
				t.Errorf("build settings lack CGO_ENABLED=0 or -trimpath:\n%s", info)
			}
			bins[c.name] = out
		})
	}
	gw, ok := bins["gateway"]
	if !ok {
		t.Fatal("the gateway did not build")
	}
	t.Run("gateway reports the stamped version", func(t *testing.T) {
		got := pingVersion(t, gw)
		if got != version {
			t.Fatalf("/v1/ping version %q, want the stamped %q", got, version)
		}
	})
}

// pingVersion starts the gateway with Kafka off on a free loopback port and
// returns the version GET /v1/ping reports.
func pingVersion(t *testing.T, bin string) string {
	t.Helper()
	addr, err := testkit.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"HTTP_ADDR=" + addr, "KAFKA_ENABLED=false", "LOG_FORMAT=json", "PATH=" + os.Getenv("PATH")}
	var logs testkit.SyncBuffer
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	var resp *http.Response
	var body []byte
	err = testkit.Poll(ctx, 30*time.Second, 200*time.Millisecond, func() error {
		resp, body, err = testkit.Get(&http.Client{Timeout: 2 * time.Second}, "http://"+addr+"/v1/ping", nil)
		return err
	})
	if err != nil {
		t.Fatalf("the gateway did not answer on %s: %v\nlogs:\n%s", addr, err, logs.String())
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/ping: %d %s\nlogs:\n%s", resp.StatusCode, body, logs.String())
	}
	var v struct {
		Version string `json:"version"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Message != "pong" {
		t.Fatalf("/v1/ping body %s (%v)", body, err)
	}
	return v.Version
}
