package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Kafka is a broker (or KRaft cluster) started with scripts/kafka/kafka.sh.
type Kafka struct {
	// Addr is the bootstrap address kafka.sh printed.
	Addr string
	// Port is the first of the node's ports: broker, controller (+1), SSL (+2).
	Port    int
	script  string
	env     []string
	dataDir string
}

// StartKafka starts a single-node Kafka on free loopback ports with a fresh
// data directory; extraEnv (kafka.sh's variables, e.g. KAFKA_NODES=3 or JVM
// options) comes last and wins. Clean removes it again.
func StartKafka(repoRoot string, extraEnv ...string) (*Kafka, error) {
	nodes := 1
	for _, kv := range extraEnv {
		if v, ok := strings.CutPrefix(kv, "KAFKA_NODES="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("KAFKA_NODES=%q: %w", v, err)
			}
			nodes = n
		}
	}
	port, err := FreePortRun(3 * nodes) // broker, controller, SSL per node
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", fmt.Sprintf("streamgate-kafka-%d-", port))
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "KAFKA_PORT="+strconv.Itoa(port), "KAFKA_DATA_DIR="+dataDir)
	k := &Kafka{
		Port:    port,
		script:  filepath.Join(repoRoot, "scripts", "kafka", "kafka.sh"),
		env:     append(env, extraEnv...),
		dataDir: dataDir,
	}
	if err := k.Start(); err != nil {
		k.Clean()
		return nil, err
	}
	return k, nil
}

// Start (re)starts the broker on its data directory, keeping topics and offsets.
func (k *Kafka) Start() error {
	out, err := k.run("start")
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	k.Addr = lines[len(lines)-1]
	return nil
}

// Stop shuts the broker down cleanly, as an operator or a node drain would.
func (k *Kafka) Stop() error {
	_, err := k.run("stop")
	return err
}

// KillNode SIGKILLs node (1-based) of a cluster, as a crash would; its data stays.
func (k *Kafka) KillNode(node int32) error {
	_, err := k.run("kill", strconv.Itoa(int(node)))
	return err
}

// StartNode starts node of a cluster again on its data.
func (k *Kafka) StartNode(node int32) error {
	_, err := k.run("start", strconv.Itoa(int(node)))
	return err
}

// Clean stops the broker and removes its data.
func (k *Kafka) Clean() {
	if _, err := k.run("clean"); err != nil {
		fmt.Fprintln(os.Stderr, "testkit: cleaning the broker:", err)
	}
	_ = os.RemoveAll(k.dataDir)
}

func (k *Kafka) run(verb string, args ...string) (string, error) {
	cmd := exec.Command(k.script, append([]string{verb}, args...)...)
	cmd.Env = k.env
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kafka.sh %s: %w", verb, err)
	}
	return stdout.String(), nil
}
