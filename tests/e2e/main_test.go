package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The version stamped into the binaries; /v1/ping must report it.
const builtVersion = "e2e-1.0.0"

// suite is what TestMain prepares for every test.
var suite struct {
	repoRoot string
	binDir   string
	brokers  string // bootstrap address of the shared broker
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	suite.repoRoot = root

	binDir, err := os.MkdirTemp("", "streamgate-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	suite.binDir = binDir
	if err := buildServices(root, binDir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer stopSecuredBroker() // started by the first test that needs it

	if addr := os.Getenv("STREAMGATE_TEST_KAFKA"); addr != "" {
		suite.brokers = addr
		fmt.Println("e2e: using the broker at STREAMGATE_TEST_KAFKA =", addr)
		return m.Run()
	}
	broker, err := testkit.StartKafka(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer broker.Clean()
	suite.brokers = broker.Addr
	return m.Run()
}

// binaries are the programs the tests run, by name, with their package. The -release
// ones are built as shipped, without the race detector, which multiplies memory and CPU
// several times: the tests that measure memory against the chart's limit, or a rate, use
// them.
var binaries = []struct {
	name, pkg string
	release   bool
}{
	{"gateway", "./services/gateway/cmd/gateway", false},
	{"worker", "./services/worker/cmd/worker", false},
	{"orders-gateway", "./examples/orders/cmd/orders-gateway", false},
	{"orders-worker", "./examples/orders/cmd/orders-worker", false},
	{"devbroker", "./tools/devbroker/cmd/devbroker", false},
	{"gateway-release", "./services/gateway/cmd/gateway", true},
	{"worker-release", "./services/worker/cmd/worker", true},
}

// buildServices compiles the programs with the race detector (but the -release ones), so
// that a data race in the running binaries fails the test that provoked it.
func buildServices(root, binDir string) error {
	for _, bin := range binaries {
		args := []string{"build", "-race"}
		if bin.release {
			args = []string{"build", "-trimpath"}
		}
		cmd := exec.Command("go", append(args,
			"-ldflags", "-X github.com/streamgate/streamgate/pkg/platform/buildinfo.Version="+builtVersion,
			"-o", filepath.Join(binDir, bin.name), bin.pkg)...)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", bin.name, err)
		}
	}
	return nil
}
