package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is one running cluster with Kafka on its node and the images imported.
type env struct {
	repo      string
	helm      string
	images    map[string]string // images.env of scripts/images/local.sh
	imagesEnv string
	cluster   map[string]string // what scripts/cluster/up.sh printed
	dialer    nsDialer
	kafka     string // bootstrap address on the node IP
	ns        string // where the releases run
}

const (
	namespace  = "streamgate-e2e"
	kafkaPort  = "9092"
	upTimeout  = 5 * time.Minute
	cmdTimeout = 3 * time.Minute
)

// startEnv brings the cluster up (or reuses one from make cluster-up), starts
// Kafka on the node IP, imports the images; all undone when the test ends.
func startEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the cluster e2e needs root (namespaces, cgroups, containerd): run it as root with make cluster-e2e")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{repo: repo, helm: os.Getenv("HELM"), ns: namespace}
	if e.helm == "" {
		e.helm = filepath.Join(repo, "bin", "helm")
	}
	e.imagesEnv = os.Getenv("STREAMGATE_CLUSTER_IMAGES")
	if e.imagesEnv == "" {
		e.imagesEnv = filepath.Join(repo, "bin", "images", "images.env")
	}
	if e.images, err = readEnvFile(e.imagesEnv); err != nil {
		t.Fatalf("images (make images-local writes them): %v", err)
	}

	start := time.Now()
	out, stderr, err := e.command(upTimeout, filepath.Join(repo, "scripts/cluster/up.sh"))
	if err != nil {
		t.Fatalf("cluster up: %v\n%s", err, stderr)
	}
	reused := strings.Contains(stderr, "already up")
	if !reused && os.Getenv("STREAMGATE_CLUSTER_KEEP") != "1" {
		t.Cleanup(func() {
			start := time.Now()
			if _, stderr, err := e.command(time.Minute, filepath.Join(repo, "scripts/cluster/down.sh")); err != nil {
				t.Errorf("cluster down: %v\n%s", err, stderr)
			}
			t.Logf("cluster down in %s", time.Since(start).Round(time.Second))
		})
	}
	e.cluster = parseEnv(out)
	e.dialer = nsDialer{netns: "/proc/" + e.cluster["HOLDER_PID"] + "/ns/net"}
	t.Logf("cluster up in %s (reused: %t), node %s", time.Since(start).Round(time.Second), reused, e.cluster["NODE_IP"])
	e.importImages(t)
	e.startKafka(t)
	return e
}

func (e *env) importImages(t *testing.T) {
	t.Helper()
	start := time.Now()
	out, stderr, err := e.command(cmdTimeout, filepath.Join(e.repo, "scripts/cluster/load-images.sh"), e.imagesEnv)
	if err != nil {
		t.Fatalf("load images: %v\n%s", err, stderr)
	}
	t.Logf("imported %s in %s", strings.Fields(out), time.Since(start).Round(100*time.Millisecond))
}

// startKafka runs scripts/kafka/kafka.sh inside the namespace, listening on
// and advertising the node IP, which pods reach through the CNI bridge.
func (e *env) startKafka(t *testing.T) {
	t.Helper()
	e.kafka = e.runKafka(t, kafkaPort)
}

// runKafka starts a kafka.sh broker on the node IP and port, with more of its
// settings in kafkaVars (VAR=value); it stops when the test ends. It returns the
// bootstrap address.
func (e *env) runKafka(t *testing.T, port string, kafkaVars ...string) string {
	t.Helper()
	start := time.Now()
	kafkaEnv := append([]string{"env", "KAFKA_HOST=" + e.cluster["NODE_IP"], "KAFKA_PORT=" + port,
		"KAFKA_DATA_DIR=" + t.TempDir(), "KAFKA_START_TIMEOUT=240"}, kafkaVars...)
	kafkaSh := filepath.Join(e.repo, "scripts/kafka/kafka.sh")
	t.Cleanup(func() {
		if _, stderr, err := e.inNamespace(2*time.Minute, append(kafkaEnv, kafkaSh, "clean")...); err != nil {
			t.Errorf("kafka clean: %v\n%s", err, stderr)
		}
	})
	out, stderr, err := e.inNamespace(5*time.Minute, append(kafkaEnv, kafkaSh, "start")...)
	if err != nil {
		t.Fatalf("kafka start: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	addr := lines[len(lines)-1]
	t.Logf("Kafka 4.3.1 at %s in %s", addr, time.Since(start).Round(time.Second))
	return addr
}

// command runs a program on the host; it returns stdout and stderr.
func (e *env) command(timeout time.Duration, name string, args ...string) (string, string, error) {
	return e.commandAt("", timeout, name, args...)
}

// commandAt is command in the directory dir ("": the test's).
func (e *env) commandAt(dir string, timeout time.Duration, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: timed out after %s: %w", name, timeout, err)
	}
	return stdout.String(), stderr.String(), err
}

// inNamespace runs a program inside the cluster's namespaces with its
// kubeconfig and kubectl (scripts/cluster/exec.sh).
func (e *env) inNamespace(timeout time.Duration, args ...string) (string, string, error) {
	return e.command(timeout, filepath.Join(e.repo, "scripts/cluster/exec.sh"), args...)
}

// mustRun is inNamespace that fails the test on an error.
func (e *env) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := e.inNamespace(cmdTimeout, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func (e *env) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return e.mustRun(t, append([]string{"kubectl", "--namespace", e.ns}, args...)...)
}

func (e *env) helmCmd(t *testing.T, args ...string) string {
	t.Helper()
	return e.mustRun(t, append([]string{e.helm, "--namespace", e.ns}, args...)...)
}

// dumpState logs what helps to understand a failure.
func (e *env) dumpState(t *testing.T) {
	for _, args := range [][]string{
		{"kubectl", "get", "nodes,pods,svc,endpointslices", "-A", "-o", "wide"},
		{"kubectl", "get", "events", "-A", "--sort-by=.lastTimestamp"},
		{"kubectl", "--namespace", e.ns, "logs", "deploy/gateway", "--tail=40"},
		{"kubectl", "--namespace", e.ns, "logs", "deploy/worker", "--tail=40", "--all-containers"},
	} {
		out, stderr, _ := e.inNamespace(30*time.Second, args...)
		t.Logf("$ %s\n%s%s", strings.Join(args, " "), out, stderr)
	}
}

func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parseEnv(string(b)), nil
}

// parseEnv reads VAR=value lines.
func parseEnv(s string) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	return vars
}
