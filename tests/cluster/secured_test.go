package cluster

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/kafka/kafkatest"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The secured story: the charts with their default values, which are the k8s/
// Kafka's TLS listener with a SCRAM-SHA-512 KafkaUser per service. The Strimzi
// operators cannot run here (docs/kubernetes.md), so kafka.sh plays that Kafka:
// SASL_SSL on the node IP, the KafkaUsers of k8s/users.yaml with their ACLs and
// nothing more, and the Secrets the operators would write.
const (
	securedNamespace = "streamgate-e2e-secured"
	securedKafkaPort = "9192"
	// The Secrets the Cluster and User Operators write, as the charts' defaults name them.
	clusterCASecret = "streamgate-kafka-cluster-ca-cert"
	adminUser       = "admin"
)

// securedEnv is env with the secured broker in place of the plaintext one.
type securedEnv struct {
	*env
	adminSecurity kafka.Security
	passwords     map[string]string // KafkaUser name → its SCRAM password
}

func (e *env) testSecured(t *testing.T) {
	users := kafkaUsers(t, filepath.Join(e.repo, "k8s", "users.yaml"))
	s := e.startSecuredKafka(t, users)
	s.grantACLs(t, users)
	s.createDefaultTopics(t)
	s.createNamespace(t)
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpState(t)
		}
	})
	s.createSecrets(t)
	s.installWithDefaults(t)
	gw := s.portForward(t, "18081")
	s.requestReply(t, gw, "secured-before")
	for _, release := range []string{"gateway", "worker"} {
		if out := s.helmCmd(t, "test", release, "--timeout", "2m"); !strings.Contains(out, "Succeeded") {
			t.Errorf("helm test %s did not succeed:\n%s", release, out)
		}
	}
	s.wrongPasswordLeavesPodsUnready(t, gw)
}

// startSecuredKafka starts kafka.sh in secure mode on the node IP, with a
// certificate for that IP (pods connect to it) and 127.0.0.1 (the controller
// listener), and a SCRAM user per KafkaUser plus the test's admin.
func (e *env) startSecuredKafka(t *testing.T, users []testkit.KafkaUser) *securedEnv {
	t.Helper()
	pki := t.TempDir()
	ca := kafkatest.NewCA(t, "streamgate-kafka-cluster-ca")
	broker := ca.Issue(t, kafkatest.Leaf{CommonName: "broker",
		IPs: []net.IP{net.ParseIP(e.cluster["NODE_IP"]), net.IPv4(127, 0, 0, 1)}})
	copied := *e
	s := &securedEnv{env: &copied, passwords: map[string]string{}}
	scramUsers := []string{}
	for _, name := range append([]string{adminUser}, userNames(users)...) {
		s.passwords[name] = uuid.NewString()
		scramUsers = append(scramUsers, name+"="+s.passwords[name])
	}
	s.kafka = e.runKafka(t, securedKafkaPort,
		"KAFKA_SECURITY=secure",
		"KAFKA_SSL_CA="+kafkatest.WriteFile(t, pki, "ca.crt", ca.PEM),
		"KAFKA_SSL_CERT="+kafkatest.WriteFile(t, pki, "broker.crt", broker.CertPEM),
		"KAFKA_SSL_KEY="+kafkatest.WriteFile(t, pki, "broker.key", broker.KeyPEM),
		"KAFKA_SUPER_USERS=User:"+adminUser+";User:CN=broker",
		"KAFKA_SCRAM_USERS="+strings.Join(scramUsers, " "))
	s.ns = securedNamespace
	s.adminSecurity = kafka.Security{
		TLS:  kafka.TLS{Enabled: true, CAFile: filepath.Join(pki, "ca.crt")},
		SASL: kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: adminUser, Password: kafka.Secret(s.passwords[adminUser])},
	}
	return s
}

// client is the test's own client, the admin over SASL_SSL.
func (s *securedEnv) client(t *testing.T) sarama.Client {
	t.Helper()
	cfg := s.saramaConfig()
	if err := s.adminSecurity.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	client, err := sarama.NewClient([]string{s.kafka}, cfg)
	if err != nil {
		t.Fatalf("admin client on %s: %v", s.kafka, err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func (s *securedEnv) grantACLs(t *testing.T, users []testkit.KafkaUser) {
	t.Helper()
	admin, err := sarama.NewClusterAdminFromClient(s.client(t))
	if err != nil {
		t.Fatal(err)
	}
	var acls []*sarama.ResourceAcls
	for _, u := range users {
		acls = append(acls, resourceACLs(t, u)...)
	}
	if err := admin.CreateACLs(acls); err != nil {
		t.Fatalf("create the ACLs of k8s/users.yaml: %v", err)
	}
	t.Logf("%d ACL resources of k8s/users.yaml granted to %s", len(acls), strings.Join(userNames(users), ", "))
}

// createDefaultTopics makes the topics of the charts' defaults (k8s/topics.yaml's).
func (s *securedEnv) createDefaultTopics(t *testing.T) {
	t.Helper()
	err := testkit.CreateTopics(t.Context(), s.client(t), sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1},
		inTopic, outTopic, dlqTopic, inTopic+".replies")
	if err != nil {
		t.Fatal(err)
	}
}

// createSecrets writes what Strimzi's operators would: the cluster CA's
// certificate and each KafkaUser's password, in Secrets named as they name them.
func (s *securedEnv) createSecrets(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	s.kubectl(t, "create", "secret", "generic", clusterCASecret,
		"--from-file=ca.crt="+s.adminSecurity.TLS.CAFile)
	for _, user := range []string{"streamgate-gateway", "streamgate-worker"} {
		// Strimzi's passwords have no trailing newline.
		file := filepath.Join(dir, user)
		if err := os.WriteFile(file, []byte(s.passwords[user]), 0o600); err != nil {
			t.Fatal(err)
		}
		s.kubectl(t, "create", "secret", "generic", user, "--from-file=password="+file)
	}
}

// installWithDefaults installs both charts with their default values; only the
// broker address (kafka.sh, not the k8s/ Kafka's Service) and the images differ,
// and the NetworkPolicy lets the pods reach that broker instead of Strimzi's pods.
func (s *securedEnv) installWithDefaults(t *testing.T) {
	t.Helper()
	testRepo, testTag, _ := strings.Cut(s.images["TEST_IMAGE"], ":")
	for _, chart := range []string{"gateway", "worker"} {
		repo, tag, _ := strings.Cut(s.images[strings.ToUpper(chart)+"_IMAGE"], ":")
		out := s.helmCmd(t, "install", chart, filepath.Join(s.repo, "charts", chart),
			"--set", "image.repository="+repo, "--set-string", "image.tag="+tag, "--set", "image.pullPolicy=Never",
			"--set", "tests.image.repository="+testRepo, "--set-string", "tests.image.tag="+testTag,
			"--set", "tests.image.pullPolicy=Never",
			"--set", "kafka.brokers={"+s.kafka+"}",
			"--set-json", `networkPolicy.kafka.to=[{"ipBlock":{"cidr":"`+s.cluster["NODE_IP"]+`/32"}}]`)
		t.Logf("helm install %s (default values):\n%s", chart, firstLines(out, 6))
	}
	for _, deploy := range []string{"gateway", "worker"} {
		s.kubectl(t, "rollout", "status", "deployment/"+deploy, "--timeout", rolloutTimeout)
	}
}

// requestReply is GET /v1/ping and POST /v1/requests, whose answer is the worker's
// reply: both services authenticated, authorised and working.
func (s *securedEnv) requestReply(t *testing.T, gw *gateway, prefix string) {
	t.Helper()
	id := prefix + "-" + uuid.NewString()
	res, body, err := gw.ping(id)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/ping: %v %s", err, statusOf(res, body))
	}
	req, err := http.NewRequest(http.MethodPost, gw.base+"/v1/requests?timeout=10s", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Correlation-ID", id+"-request")
	res, err = gw.client.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/requests: %v", err)
	}
	defer res.Body.Close()
	var reply struct {
		CorrelationID string `json:"correlation_id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil || res.StatusCode != http.StatusOK ||
		reply.CorrelationID != id+"-request" {
		t.Fatalf("POST /v1/requests: %d, reply for %q (%v); want 200 and the worker's reply for %s",
			res.StatusCode, reply.CorrelationID, err, id+"-request")
	}
	t.Logf("%s: GET /v1/ping 200, POST /v1/requests 200 with the worker's reply, over SCRAM-SHA-512 and TLS", prefix)
}

// A wrong password in a Secret, as an operator's mistake puts it there: the pods
// restarted with it stay up (no restarts) and unready, say why in their logs
// without the password, and the old pods keep serving. Once the Secret is right
// again the same pods become ready, without a restart.
func (s *securedEnv) wrongPasswordLeavesPodsUnready(t *testing.T, gw *gateway) {
	const wrong = "not-the-password-0123456789"
	releases := map[string]string{"gateway": "streamgate-gateway", "worker": "streamgate-worker"}
	for _, user := range releases {
		s.setPassword(t, user, wrong)
	}
	broken := time.Now()
	for deploy := range releases {
		s.kubectl(t, "rollout", "restart", "deployment/"+deploy)
	}
	pods := map[string]string{}
	for deploy, user := range releases {
		var pod, logs, line string
		found := until(t.Context(), 2*time.Minute, func() bool {
			pod = s.newestPod(t, deploy)
			logs, _, _ = s.inNamespace(cmdTimeout, "kubectl", "--namespace", s.ns, "logs", pod)
			line = notReadyLine(logs, user)
			return line != ""
		})
		if !found {
			t.Fatalf("%s: the restarted pod %s never logged that it is not ready as Kafka refuses %s's password; its logs end:\n%s",
				deploy, pod, user, lastLines(logs, 20))
		}
		pods[deploy] = pod
		for _, secret := range []string{wrong, s.passwords[user]} {
			if strings.Contains(logs, secret) {
				t.Errorf("%s's logs print a password", pod)
			}
		}
		t.Logf("%s %s after the Secret broke: %s", pod, time.Since(broken).Round(time.Second), line)
	}
	// Long enough for the liveness probe to have restarted a pod it thought dead.
	time.Sleep(30 * time.Second)
	for deploy, pod := range pods {
		ready, restarts := s.podStatus(t, pod)
		if ready || restarts != 0 {
			t.Errorf("%s with a wrong password: ready=%t restarts=%d, want unready and never restarted", pod, ready, restarts)
		}
		t.Logf("%s: %s up, unready, 0 restarts", deploy, pod)
	}
	s.requestReply(t, gw, "secured-while-broken") // the old pods still serve

	for _, user := range releases {
		s.setPassword(t, user, s.passwords[user])
	}
	fixed := time.Now()
	for deploy, pod := range pods {
		// The kubelet rewrites the mounted file within its sync period (about a minute).
		if !until(t.Context(), 4*time.Minute, func() bool { ready, _ := s.podStatus(t, pod); return ready }) {
			t.Fatalf("%s did not become ready within 4 minutes of the Secret's fix", pod)
		}
		_, restarts := s.podStatus(t, pod)
		t.Logf("%s ready %s after the Secret was fixed, %d restarts", pod, time.Since(fixed).Round(time.Second), restarts)
		if restarts != 0 {
			t.Errorf("%s restarted %d times; it should recover by itself", pod, restarts)
		}
		s.kubectl(t, "rollout", "status", "deployment/"+deploy, "--timeout", rolloutTimeout)
	}
	// The pod that recovered: the old one, still a Service endpoint while it stops,
	// rebuilds its clients for the fixed password meanwhile and may answer 503.
	recovered := s.portForwardTo(t, "pod/"+pods["gateway"], "18082")
	s.requestReply(t, recovered, "secured-after")
}

func (s *securedEnv) setPassword(t *testing.T, secret, password string) {
	t.Helper()
	patch := fmt.Sprintf(`{"data":{"password":%q}}`, base64.StdEncoding.EncodeToString([]byte(password)))
	s.kubectl(t, "patch", "secret", secret, "--type", "merge", "-p", patch)
}

// newestPod is the name of the deployment's most recently created pod.
func (s *securedEnv) newestPod(t *testing.T, deploy string) string {
	t.Helper()
	out := s.kubectl(t, "get", "pods", "-l", "app.kubernetes.io/name="+deploy,
		"--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={.items[-1:].metadata.name}")
	return strings.TrimSpace(out)
}

func (s *securedEnv) podStatus(t *testing.T, pod string) (ready bool, restarts int) {
	t.Helper()
	var status struct {
		Status struct {
			ContainerStatuses []struct {
				Ready        bool
				RestartCount int
			}
		}
	}
	if err := json.Unmarshal([]byte(s.kubectl(t, "get", "pod", pod, "-o", "json")), &status); err != nil {
		t.Fatalf("pod %s: %v", pod, err)
	}
	ready = len(status.Status.ContainerStatuses) > 0
	for _, c := range status.Status.ContainerStatuses {
		ready = ready && c.Ready
		restarts += c.RestartCount
	}
	return ready, restarts
}

// kafkaUsers reads the SCRAM-SHA-512 KafkaUsers of a manifest file.
func kafkaUsers(t *testing.T, path string) []testkit.KafkaUser {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var users []testkit.KafkaUser
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var u testkit.KafkaUser
		if err := yaml.Unmarshal([]byte(doc), &u); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if u.Kind == "KafkaUser" && u.Spec.Authentication.Type == "scram-sha-512" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		t.Fatalf("%s has no SCRAM-SHA-512 KafkaUser", path)
	}
	return users
}

func userNames(users []testkit.KafkaUser) []string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Metadata.Name
	}
	return names
}

// resourceACLs are u's ACLs as the User Operator creates them, for any host.
func resourceACLs(t *testing.T, u testkit.KafkaUser) []*sarama.ResourceAcls {
	t.Helper()
	var out []*sarama.ResourceAcls
	for _, acl := range u.Spec.Authorization.ACLs {
		resource := sarama.Resource{ResourceName: acl.Resource.Name, ResourcePatternType: sarama.AclPatternLiteral}
		if err := resource.ResourceType.UnmarshalText([]byte(acl.Resource.Type)); err != nil {
			t.Fatalf("KafkaUser %s: %v", u.Metadata.Name, err)
		}
		if resource.ResourceType == sarama.AclResourceCluster {
			resource.ResourceName = "kafka-cluster"
		}
		if acl.Resource.PatternType == "prefix" { // Strimzi's word for Kafka's PREFIXED
			resource.ResourcePatternType = sarama.AclPatternPrefixed
		}
		permission := sarama.AclPermissionAllow
		if acl.Type == "deny" {
			permission = sarama.AclPermissionDeny
		}
		entry := &sarama.ResourceAcls{Resource: resource}
		for _, op := range acl.Operations {
			var operation sarama.AclOperation
			if err := operation.UnmarshalText([]byte(op)); err != nil {
				t.Fatalf("KafkaUser %s: %v", u.Metadata.Name, err)
			}
			entry.Acls = append(entry.Acls, &sarama.Acl{Principal: "User:" + u.Metadata.Name, Host: "*",
				Operation: operation, PermissionType: permission})
		}
		out = append(out, entry)
	}
	return out
}

func statusOf(res *http.Response, body []byte) string {
	if res == nil {
		return ""
	}
	return fmt.Sprintf("%d %s", res.StatusCode, body)
}

// notReadyLine is the first JSON log line saying the service is not ready
// because Kafka refused user's password.
func notReadyLine(logs, user string) string {
	want := fmt.Sprintf("kafka: SASL authentication failed for user %q", user)
	for _, line := range strings.Split(logs, "\n") {
		var entry struct{ Message, Error string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "not ready" && strings.HasPrefix(entry.Error, want) {
			return line
		}
	}
	return ""
}
