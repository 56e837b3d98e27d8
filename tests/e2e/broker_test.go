package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// broker is a Kafka started by scripts/kafka/kafka.sh for this test run.
type broker struct {
	script  string
	env     []string
	addr    string
	dataDir string
}

// freePort returns a loopback port no process holds right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startBrokerOnFreePorts starts a broker on ports no other process holds, so tests
// never collide with a developer's own broker.
func startBrokerOnFreePorts(repoRoot string) (*broker, error) {
	port, err := freePortRun(2) // broker, controller
	if err != nil {
		return nil, err
	}
	return startBroker(repoRoot, port)
}

// startBroker starts Kafka (a single node unless extraEnv says otherwise) on
// 127.0.0.1:port with a fresh data directory.
func startBroker(repoRoot string, port int, extraEnv ...string) (*broker, error) {
	dataDir, err := os.MkdirTemp("", fmt.Sprintf("streamgate-e2e-kafka-%d-", port))
	if err != nil {
		return nil, err
	}
	b := &broker{
		script:  filepath.Join(repoRoot, "scripts", "kafka", "kafka.sh"),
		env:     append(append(os.Environ(), "KAFKA_PORT="+strconv.Itoa(port), "KAFKA_DATA_DIR="+dataDir), extraEnv...),
		dataDir: dataDir,
	}
	if err := b.start(); err != nil {
		b.clean()
		return nil, err
	}
	return b, nil
}

// startClusterOnFreePorts starts a KRaft cluster of nodes nodes (kafka.sh
// KAFKA_NODES) on free loopback ports, with a fresh data directory.
func startClusterOnFreePorts(repoRoot string, nodes int) (*broker, error) {
	port, err := freePortRun(3 * nodes) // broker, controller, SSL per node
	if err != nil {
		return nil, err
	}
	return startBroker(repoRoot, port, "KAFKA_NODES="+strconv.Itoa(nodes))
}

// freePortRun returns the first of n consecutive loopback ports that are all free.
func freePortRun(n int) (int, error) {
	for range 50 {
		first, err := freePort()
		if err != nil {
			return 0, err
		}
		free := true
		for p := first + 1; p < first+n && free; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return first, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive loopback ports", n)
}

// killNode SIGKILLs node (1-based) of a cluster, as a crash would; its data stays.
func (b *broker) killNode(node int32) error {
	_, err := b.run("kill", strconv.Itoa(int(node)))
	return err
}

// startNode starts node of a cluster again on its data.
func (b *broker) startNode(node int32) error {
	_, err := b.run("start", strconv.Itoa(int(node)))
	return err
}

// start (re)starts the broker on its data directory, keeping topics and offsets.
func (b *broker) start() error {
	out, err := b.run("start")
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	b.addr = lines[len(lines)-1]
	return nil
}

// stop shuts the broker down cleanly, as an operator or a node drain would.
func (b *broker) stop() error {
	_, err := b.run("stop")
	return err
}

// clean stops the broker and removes its data.
func (b *broker) clean() {
	if _, err := b.run("clean"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cleaning the broker:", err)
	}
	_ = os.RemoveAll(b.dataDir)
}

func (b *broker) run(verb string, args ...string) (string, error) {
	cmd := exec.Command(b.script, append([]string{verb}, args...)...)
	cmd.Env = b.env
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kafka.sh %s: %w", verb, err)
	}
	return stdout.String(), nil
}
