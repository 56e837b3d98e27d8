package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

const (
	rolloutTimeout = "180s"
	// The rolling restart's ping stream: one every pingEvery, at most maxPings.
	pingEvery = 50 * time.Millisecond
	maxPings  = 1200
	// Every acknowledged request must be answered within this.
	answerWithin = 90 * time.Second
)

// TestChartsOnCluster is one ordered story on one cluster: each step needs
// the state the previous ones left.
func TestChartsOnCluster(t *testing.T) {
	e := startEnv(t)
	e.createTopics(t)
	answers := e.watchReplies(t)
	e.createNamespace(t)
	t.Cleanup(func() { // before the namespace goes
		if t.Failed() {
			e.dumpState(t)
		}
	})

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("restricted namespace enforces", e.testRestrictedNamespace)
	step("install and roll out", e.testInstall)
	gw := e.portForward(t, "18080")
	step("ping through port-forward, logs carry the id", func(t *testing.T) { e.testPing(t, gw, answers) })
	step("helm test", e.testHelmTest)
	step("nonroot and read-only", e.testContainerRuntimeView)
	step("the Go runtime keeps under the container's memory limit", e.testSoftMemoryLimit)
	step("worker rolling restart loses nothing", func(t *testing.T) { e.testRollingRestart(t, gw, answers) })
	step("three workers share the partitions", func(t *testing.T) { e.testScale(t, gw, answers) })
	step("secured Kafka with the charts' default values", e.testSecured)
}

// createNamespace makes the namespace everything runs in, enforcing Pod
// Security "restricted"; deleting it when the test ends removes the releases.
func (e *env) createNamespace(t *testing.T) {
	t.Helper()
	e.mustRun(t, "kubectl", "delete", "namespace", e.ns, "--ignore-not-found", "--timeout", "2m")
	e.mustRun(t, "kubectl", "create", "namespace", e.ns)
	t.Cleanup(func() {
		if _, stderr, err := e.inNamespace(cmdTimeout, "kubectl", "delete", "namespace", e.ns, "--timeout", "2m"); err != nil {
			t.Errorf("delete namespace %s: %v\n%s", e.ns, err, stderr)
		}
	})
	e.mustRun(t, "kubectl", "label", "namespace", e.ns,
		"pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/enforce-version=latest")
}

// Every Pod the charts make must be admitted in the namespace, and a
// privileged one is not.
func (e *env) testRestrictedNamespace(t *testing.T) {
	overrides := `{"spec":{"containers":[{"name":"probe","image":"` + e.images["TEST_IMAGE"] +
		`","securityContext":{"privileged":true}}]}}`
	out, stderr, err := e.inNamespace(cmdTimeout, "kubectl", "--namespace", e.ns, "run", "psa-probe",
		"--image", e.images["TEST_IMAGE"], "--overrides", overrides, "--dry-run=server")
	if err == nil || !strings.Contains(stderr, "violates PodSecurity") {
		t.Fatalf("a privileged pod was not refused by the restricted namespace: %v\n%s%s", err, out, stderr)
	}
	t.Logf("privileged pod refused: %s", strings.TrimSpace(stderr))
}

func (e *env) testInstall(t *testing.T) {
	for _, chart := range []string{"gateway", "worker"} {
		repo, tag, _ := strings.Cut(e.images[strings.ToUpper(chart)+"_IMAGE"], ":")
		testRepo, testTag, _ := strings.Cut(e.images["TEST_IMAGE"], ":")
		out := e.helmCmd(t, "install", chart, filepath.Join(e.repo, "charts", chart),
			// kafka.sh's broker is plaintext; the charts default to the k8s/ Kafka's
			// TLS listener and KafkaUsers.
			"-f", filepath.Join(e.repo, "charts", "values-plaintext-kafka.yaml"),
			"--set", "image.repository="+repo, "--set-string", "image.tag="+tag,
			"--set", "image.pullPolicy=Never",
			"--set", "kafka.brokers={"+e.kafka+"}",
			// A successful request and its record are logged at debug level only.
			"--set", "logLevel=debug",
			"--set", "tests.image.repository="+testRepo, "--set-string", "tests.image.tag="+testTag,
			"--set", "tests.image.pullPolicy=Never")
		t.Logf("helm install %s:\n%s", chart, firstLines(out, 6))
	}
	for _, deploy := range []string{"gateway", "worker"} {
		start := time.Now()
		out := e.kubectl(t, "rollout", "status", "deployment/"+deploy, "--timeout", rolloutTimeout)
		t.Logf("%s(%s)", out, time.Since(start).Round(100*time.Millisecond))
	}
	t.Logf("\n%s", e.kubectl(t, "get", "pods", "-o", "wide"))
}

// gateway is `kubectl port-forward svc/gateway` and a client reaching it.
type gateway struct {
	base   string
	client *http.Client
}

// portForward forwards localPort (inside the cluster's network namespace) to
// the gateway Service of e.ns.
func (e *env) portForward(t *testing.T, localPort string) *gateway {
	t.Helper()
	return e.portForwardTo(t, "svc/gateway", localPort)
}

// portForwardTo forwards localPort to the gateway's http port on target (svc/… or
// pod/…): kubectl picks any of a Service's pods, one being deleted included.
func (e *env) portForwardTo(t *testing.T, target, localPort string) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(e.repo, "scripts/cluster/exec.sh"),
		"kubectl", "--namespace", e.ns, "port-forward", target, localPort+":http")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("port-forward: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	forwarding := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Forwarding from") {
				select {
				case forwarding <- sc.Text():
				default:
				}
			}
		}
	}()
	select {
	case line := <-forwarding:
		t.Logf("kubectl port-forward svc/gateway: %s", line)
	case <-time.After(30 * time.Second):
		t.Fatal("kubectl port-forward did not start forwarding within 30 s")
	}
	return &gateway{
		base: "http://127.0.0.1:" + localPort,
		client: &http.Client{
			Timeout:   15 * time.Second,
			Transport: &http.Transport{DialContext: e.dialer.DialContext},
		},
	}
}

// ping sends GET /v1/ping with the correlation id.
func (g *gateway) ping(id string) (*http.Response, []byte, error) {
	return testkit.Get(g.client, g.base+"/v1/ping", http.Header{"X-Correlation-Id": {id}})
}

func (e *env) testPing(t *testing.T, gw *gateway, answers *replies) {
	id := "cluster-e2e-" + uuid.NewString()
	res, body, err := gw.ping(id)
	if err != nil {
		t.Fatalf("GET /v1/ping: %v", err)
	}
	t.Logf("GET /v1/ping X-Correlation-ID: %s\n%s %s\n%s\n%s", id, res.Proto, res.Status, headerLines(res.Header), body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("X-Correlation-ID"); got != id {
		t.Errorf("X-Correlation-ID answered %q, want %q", got, id)
	}
	var pong struct{ Message, Version string }
	if err := json.Unmarshal(body, &pong); err != nil {
		t.Fatalf("body: %v", err)
	}
	if pong.Message != "pong" || pong.Version != e.images["VERSION"] {
		t.Errorf("answered message %q version %q, want pong and the stamped %q", pong.Message, pong.Version, e.images["VERSION"])
	}
	if missing, _ := answers.waitAll([]string{id}, answerWithin); missing != 0 {
		t.Errorf("no reply with correlation id %s on %s", id, outTopic)
	}
	// The id from the gateway's publish to the worker's reply, in kubectl logs.
	for _, want := range []struct{ deploy, msg string }{
		{"gateway", "published"},
		{"worker", "received"},
		{"worker", "published reply"},
	} {
		var line string
		found := until(context.Background(), 30*time.Second, func() bool {
			line = logLine(e.kubectl(t, "logs", "deployment/"+want.deploy), id, want.msg)
			return line != ""
		})
		if !found {
			t.Errorf("kubectl logs deployment/%s: no %q line with %s", want.deploy, want.msg, id)
			continue
		}
		t.Logf("kubectl logs deployment/%s:\n%s", want.deploy, line)
		var entry struct{ Version string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Version != e.images["VERSION"] {
			t.Errorf("%s logs version %q, want the stamped %q", want.deploy, entry.Version, e.images["VERSION"])
		}
	}
}

// softMemoryLimitSet is what a service logs once it set the Go runtime's soft memory
// limit from its container's (pkg/platform/service/memlimit.go).
const softMemoryLimitSet = "soft memory limit set under the container's memory limit"

// Each service sets the Go runtime's soft memory limit to 90 % of its container's
// memory limit, which it reads from the cgroup the kubelet made for it.
func (e *env) testSoftMemoryLimit(t *testing.T) {
	for _, deploy := range []string{"gateway", "worker"} {
		limit := e.kubectl(t, "get", "deployment/"+deploy, "-o",
			fmt.Sprintf(`jsonpath={.spec.template.spec.containers[?(@.name=="%s")].resources.limits.memory}`, deploy))
		mib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(limit), "Mi"), 10, 64)
		if err != nil {
			t.Fatalf("deployment/%s's memory limit %q: want a number of Mi", deploy, limit)
		}
		var set struct {
			Msg   string `json:"message"`
			Bytes int64  `json:"bytes"`
		}
		found := false
		for line := range strings.SplitSeq(e.kubectl(t, "logs", "deployment/"+deploy), "\n") {
			if json.Unmarshal([]byte(line), &set) == nil && set.Msg == softMemoryLimitSet {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("kubectl logs deployment/%s: no %q line", deploy, softMemoryLimitSet)
			continue
		}
		if want := mib << 20 * 9 / 10; set.Bytes < want-1 || set.Bytes > want {
			t.Errorf("deployment/%s set a soft memory limit of %d bytes, want %d (90 %% of %dMi)", deploy, set.Bytes, want, mib)
		}
		t.Logf("deployment/%s: memory limit %dMi, soft memory limit %d bytes", deploy, mib, set.Bytes)
	}
}

// logLine is the JSON log line with correlation_id id and message msg.
func logLine(logs, id, msg string) string {
	for _, line := range strings.Split(logs, "\n") {
		var entry struct {
			Msg           string `json:"message"`
			CorrelationID string `json:"correlation_id"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.CorrelationID == id && entry.Msg == msg {
			return line
		}
	}
	return ""
}

func (e *env) testHelmTest(t *testing.T) {
	for _, release := range []string{"gateway", "worker"} {
		out := e.helmCmd(t, "test", release, "--timeout", "2m")
		if !regexp.MustCompile(`Phase:\s+Succeeded`).MatchString(out) {
			t.Errorf("helm test %s did not succeed:\n%s", release, out)
		}
		t.Logf("helm test %s:\n%s", release, out)
	}
}

// The images are distroless (no shell to ask), so the process is read from
// the host: its PID from containerd, then /proc/PID of that process.
func (e *env) testContainerRuntimeView(t *testing.T) {
	tasks := e.mustRun(t, "ctr", "-a", e.cluster["CONTAINERD_SOCK"], "-n", "k8s.io", "tasks", "ls")
	for _, deploy := range []string{"gateway", "worker"} {
		ids := strings.Fields(e.kubectl(t, "get", "pods", "-l", "app.kubernetes.io/name="+deploy,
			"-o", `jsonpath={range .items[*]}{.status.containerStatuses[0].containerID}{" "}{end}`))
		if len(ids) == 0 {
			t.Fatalf("no %s pod", deploy)
		}
		for _, id := range ids {
			pid := taskPID(tasks, strings.TrimPrefix(id, "containerd://"))
			if pid == "" {
				t.Fatalf("container %s of %s not among containerd's tasks:\n%s", id, deploy, tasks)
			}
			status, err := os.ReadFile("/proc/" + pid + "/status")
			if err != nil {
				t.Fatal(err)
			}
			uid, gid, capEff := statusField(status, "Uid"), statusField(status, "Gid"), statusField(status, "CapEff")
			root := rootMountOptions(t, pid)
			t.Logf("%s pid %s: Uid %s, Gid %s, CapEff %s, / mounted %s", deploy, pid, uid, gid, capEff, root)
			if uid != "65532 65532 65532 65532" || gid != "65532 65532 65532 65532" {
				t.Errorf("%s runs as Uid %q Gid %q, want 65532", deploy, uid, gid)
			}
			if capEff != "0000000000000000" {
				t.Errorf("%s has effective capabilities %s, want none", deploy, capEff)
			}
			if !slices.Contains(strings.Split(root, ","), "ro") {
				t.Errorf("%s's root filesystem is mounted %q, want ro", deploy, root)
			}
		}
	}
}

// taskPID finds the PID column of `ctr tasks ls` for a container id.
func taskPID(tasks, id string) string {
	for _, line := range strings.Split(tasks, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == id && f[2] == "RUNNING" {
			return f[1]
		}
	}
	return ""
}

func statusField(status []byte, name string) string {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// rootMountOptions: the per-mount options of "/" as the process sees it.
func rootMountOptions(t *testing.T, pid string) string {
	t.Helper()
	info, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			return f[5]
		}
	}
	t.Fatalf("no / in /proc/%s/mountinfo", pid)
	return ""
}

// pingStream pings until stop is closed or maxPings were sent; it returns the
// ids the gateway acknowledged (200: the request is on in-topic) and counts
// the rest.
func pingStream(gw *gateway, prefix string, stop <-chan struct{}) (acked []string, failed int) {
	tick := time.NewTicker(pingEvery)
	defer tick.Stop()
	for i := 0; i < maxPings; i++ {
		select {
		case <-stop:
			return acked, failed
		case <-tick.C:
		}
		id := fmt.Sprintf("%s-%04d", prefix, i)
		if res, _, err := gw.ping(id); err == nil && res.StatusCode == http.StatusOK {
			acked = append(acked, id)
		} else {
			failed++
		}
	}
	return acked, failed
}

// underLoad runs action while a ping stream flows (from 2 s before to 2 s
// after it), then checks that every acknowledged ping was answered.
func (e *env) underLoad(t *testing.T, gw *gateway, answers *replies, prefix string, action func()) {
	t.Helper()
	stop := make(chan struct{})
	var (
		wg     sync.WaitGroup
		acked  []string
		failed int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		acked, failed = pingStream(gw, prefix+"-"+uuid.NewString()[:8], stop)
	}()
	time.Sleep(2 * time.Second)
	action()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	missing, duplicates := answers.waitAll(acked, answerWithin)
	t.Logf("pings: %d acknowledged, %d not acknowledged; on %s: %d answered, %d unanswered, %d duplicate replies",
		len(acked), failed, outTopic, len(acked)-missing, missing, duplicates)
	if len(acked) == 0 {
		t.Fatal("no ping was acknowledged")
	}
	if missing != 0 {
		t.Errorf("%d acknowledged requests never answered on %s", missing, outTopic)
	}
}

func (e *env) testRollingRestart(t *testing.T, gw *gateway, answers *replies) {
	before := e.kubectl(t, "get", "pods", "-l", "app.kubernetes.io/name=worker", "-o", "name")
	e.underLoad(t, gw, answers, "restart", func() {
		e.kubectl(t, "rollout", "restart", "deployment/worker")
		t.Log(strings.TrimSpace(e.kubectl(t, "rollout", "status", "deployment/worker", "--timeout", rolloutTimeout)))
	})
	// Rolled out, the old pod may still be shutting down: it must go.
	e.kubectl(t, append([]string{"wait", "--for=delete", "--timeout=90s"}, strings.Fields(before)...)...)
	after := e.kubectl(t, "get", "pods", "-l", "app.kubernetes.io/name=worker", "-o", "name")
	t.Logf("worker pods before: %s; after: %s", strings.Fields(before), strings.Fields(after))
	if len(strings.Fields(after)) != 1 {
		t.Errorf("%d worker pods after the rolling restart, want 1", len(strings.Fields(after)))
	}
}

func (e *env) testScale(t *testing.T, gw *gateway, answers *replies) {
	admin := e.admin(t)
	e.underLoad(t, gw, answers, "scale", func() {
		e.kubectl(t, "scale", "deployment/worker", "--replicas=3")
		t.Log(strings.TrimSpace(e.kubectl(t, "rollout", "status", "deployment/worker", "--timeout", rolloutTimeout)))
	})
	var assigned map[string][]int32
	spread := until(context.Background(), 60*time.Second, func() bool {
		assigned = e.groupAssignment(t, admin)
		return len(assigned) == 3 && everyMemberHasOne(assigned)
	})
	t.Logf("group %s: %d members; in-topic partitions per member: %v", groupID, len(assigned), assigned)
	if !spread {
		t.Errorf("the 3 partitions of %s are not spread over 3 workers", inTopic)
	}
}

func everyMemberHasOne(assigned map[string][]int32) bool {
	for _, partitions := range assigned {
		if len(partitions) != 1 {
			return false
		}
	}
	return true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func headerLines(h http.Header) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(h[k], ", "))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
