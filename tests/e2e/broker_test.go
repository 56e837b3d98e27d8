package e2e

import (
	"bytes"
	"errors"
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

// freePortPair returns a loopback port that is free together with the next one, for a
// broker and its KRaft controller.
func freePortPair() (int, error) {
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		next, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		ln.Close()
		if err == nil {
			next.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free pair of loopback ports")
}

// startBrokerOnFreePorts starts a broker on ports no other process holds, so tests
// never collide with a developer's own broker.
func startBrokerOnFreePorts(repoRoot string) (*broker, error) {
	port, err := freePortPair()
	if err != nil {
		return nil, err
	}
	return startBroker(repoRoot, port)
}

// startBroker starts a single-node Kafka on 127.0.0.1:port with a fresh data directory.
func startBroker(repoRoot string, port int) (*broker, error) {
	dataDir, err := os.MkdirTemp("", fmt.Sprintf("streamgate-e2e-kafka-%d-", port))
	if err != nil {
		return nil, err
	}
	b := &broker{
		script:  filepath.Join(repoRoot, "scripts", "kafka", "kafka.sh"),
		env:     append(os.Environ(), "KAFKA_PORT="+strconv.Itoa(port), "KAFKA_DATA_DIR="+dataDir),
		dataDir: dataDir,
	}
	if err := b.start(); err != nil {
		b.clean()
		return nil, err
	}
	return b, nil
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

func (b *broker) run(verb string) (string, error) {
	cmd := exec.Command(b.script, verb)
	cmd.Env = b.env
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kafka.sh %s: %w", verb, err)
	}
	return stdout.String(), nil
}
