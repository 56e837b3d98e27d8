package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/kafka/kafkatest"
)

// The round trip over both secured listeners, each service with exactly the ACLs of
// issue 6, and once with the least ACLs that work.
func TestSecuredRoundTrip(t *testing.T) {
	b := securedCluster(t)
	scram := func(t *testing.T, tp topics, user string) []string {
		s := newSecrets(t, b)
		s.write(t, "password", []byte(scramPasswords[user]))
		return b.scramEnv(tp, s, user)
	}
	// The password as a variable rather than a file, the other way the services take it.
	scramInline := func(t *testing.T, tp topics, user string) []string {
		var env []string
		for _, kv := range scram(t, tp, user) {
			if !strings.HasPrefix(kv, "KAFKA_SASL_PASSWORD_FILE=") {
				env = append(env, kv)
			}
		}
		return append(env, "KAFKA_SASL_PASSWORD="+scramPasswords[user])
	}
	mtls := func(t *testing.T, tp topics, user string) []string {
		s := newSecrets(t, b)
		s.writeClientCert(t, b.ca.Issue(t, kafkatest.Leaf{CommonName: user}))
		return b.mtlsEnv(tp, s)
	}
	for _, tc := range []struct {
		name            string
		gateway, worker string // principals
		acls            func(tp topics, gateway, worker string) []*sarama.ResourceAcls
		configure       func(t *testing.T, tp topics, user string) []string
	}{
		{"SASL_SSL SCRAM-SHA-512", "User:gateway", "User:worker", serviceACLs, scram},
		{"mutual TLS", "User:CN=gateway", "User:CN=worker", serviceACLs, mtls},
		{"SASL_SSL SCRAM-SHA-512 with the least ACLs and the password inline", "User:gateway", "User:worker", leastACLs, scramInline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tp := newTopics(t, b.saslAddr)
			grant(t, newAdmin(t, b.saslAddr), tc.acls(tp, tc.gateway, tc.worker))
			worker := startService(t, "worker", tc.configure(t, tp, "worker")...)
			gateway := startService(t, "gateway", tc.configure(t, tp, "gateway")...)
			waitReady(t, worker, 60*time.Second)
			waitReady(t, gateway, 60*time.Second)

			var ids []string
			for i := range 5 {
				id := fmt.Sprintf("secured-%d-%06d", i, rand.IntN(1_000_000))
				if status, _, body := ping(t, gateway, id); status != http.StatusOK {
					t.Fatalf("ping %s: %d %s", id, status, body)
				}
				ids = append(ids, id)
			}
			counts := replyCounts(t, b.saslAddr, tp, ids, 60*time.Second)
			for _, id := range ids {
				waitLogged(t, worker, id, "message", "published reply")
			}
			// A malformed record goes to the dead-letter topic under the same ACLs.
			dead := "secured-malformed-" + uuid.NewString()
			produce(t, b.saslAddr, tp.in, []byte(dead), []byte("not JSON"))
			readUntil(t, b.saslAddr, tp.dlq, 30*time.Second, func(seen []*sarama.ConsumerMessage) bool {
				return len(seen) == 1 && string(seen[0].Key) == dead
			})
			for _, svc := range []*service{gateway, worker} {
				if svc.logged(scramPasswords[svc.name]) {
					t.Errorf("%s logs its password", svc.name)
				}
			}
			t.Logf("%d requests answered over %s (%d replies), a malformed record dead-lettered", len(ids), tc.name, total(counts))
		})
	}
}

// A bad credential leaves the service up and unready, saying why without the secret,
// retrying; once the secret is fixed (files rewritten on disk, or the user created),
// it turns ready by itself.
func TestSecuredBadCredentialsRecover(t *testing.T) {
	b := securedCluster(t)
	other := kafkatest.NewCA(t, "some-other-ca")
	const wrongPassword = "not-the-gateway-password"
	// reissue fixes a bad client certificate: a valid one for user, from the cluster CA.
	reissue := func(user string) func(*testing.T, secrets, sarama.ClusterAdmin, topics) {
		return func(t *testing.T, s secrets, _ sarama.ClusterAdmin, _ topics) {
			s.writeClientCert(t, b.ca.Issue(t, kafkatest.Leaf{CommonName: user}))
		}
	}

	for _, tc := range []struct {
		name, service string
		principal     string
		// configure writes the bad secret and returns the service's settings.
		configure func(t *testing.T, tp topics, s secrets) []string
		reason    string // what /readyz and the log say
		fix       func(t *testing.T, s secrets, admin sarama.ClusterAdmin, tp topics)
		acls      func(tp topics, gateway, worker string) []*sarama.ResourceAcls // default serviceACLs
		logged    string                                                         // the log line with the reason, when connected
	}{
		{
			name: "wrong password", service: "gateway", principal: "User:gateway",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.write(t, "password", []byte(wrongPassword))
				return b.scramEnv(tp, s, "gateway")
			},
			reason: `kafka: SASL authentication failed for user "gateway" (SCRAM-SHA-512)`,
			fix: func(t *testing.T, s secrets, _ sarama.ClusterAdmin, _ topics) {
				s.write(t, "password", []byte(scramPasswords["gateway"]))
			},
		},
		{
			// As when a deployment starts before the KafkaUser is reconciled.
			name: "unknown user", service: "worker", principal: "User:late-user",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.write(t, "password", []byte("late-user-password"))
				return b.scramEnv(tp, s, "late-user")
			},
			reason: `kafka: SASL authentication failed for user "late-user" (SCRAM-SHA-512)`,
			fix: func(t *testing.T, _ secrets, admin sarama.ClusterAdmin, _ topics) {
				_, err := admin.UpsertUserScramCredentials([]sarama.AlterUserScramCredentialsUpsert{{
					Name: "late-user", Mechanism: sarama.SCRAM_MECHANISM_SHA_512, Iterations: 8192,
					Salt: []byte(uuid.NewString()), Password: []byte("late-user-password"), // Kafka refuses an empty salt
				}})
				if err != nil {
					t.Fatalf("create user late-user: %v", err)
				}
			},
		},
		{
			name: "CA does not match", service: "worker", principal: "User:worker",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.write(t, "ca.crt", other.PEM)
				s.write(t, "password", []byte(scramPasswords["worker"]))
				return b.scramEnv(tp, s, "worker")
			},
			reason: "kafka: TLS: certificate signed by unknown authority",
			fix:    func(t *testing.T, s secrets, _ sarama.ClusterAdmin, _ topics) { s.write(t, "ca.crt", b.ca.PEM) },
		},
		{
			name: "expired client certificate", service: "gateway", principal: "User:CN=gateway",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.writeClientCert(t, b.ca.Issue(t, kafkatest.Leaf{CommonName: "gateway",
					NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}))
				return b.mtlsEnv(tp, s)
			},
			reason: "(CN=gateway) expired at",
			fix:    reissue("gateway"),
		},
		{
			// Here the broker is the one that refuses.
			name: "client certificate from another CA", service: "worker", principal: "User:CN=worker",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.writeClientCert(t, other.Issue(t, kafkatest.Leaf{CommonName: "worker"}))
				return b.mtlsEnv(tp, s)
			},
			reason: "kafka: TLS: the broker refused the handshake",
			fix:    reissue("worker"),
		},
		{
			// Connected, but refused the topic: the log says so once, /readyz all along.
			name: "gateway without its ACLs", service: "gateway", principal: "User:gateway",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.write(t, "password", []byte(scramPasswords["gateway"]))
				return b.scramEnv(tp, s, "gateway")
			},
			acls: func(tp topics, _, worker string) []*sarama.ResourceAcls {
				return serviceACLs(tp, "User:nobody", worker)
			},
			reason: `kafka: not authorized (check the ACLs of user "gateway")`, logged: "Kafka check failed",
			fix: func(t *testing.T, _ secrets, admin sarama.ClusterAdmin, tp topics) {
				grant(t, admin, serviceACLs(tp, "User:gateway", "User:nobody"))
			},
		},
		{
			name: "worker without its group ACL", service: "worker", principal: "User:worker",
			configure: func(t *testing.T, tp topics, s secrets) []string {
				s.write(t, "password", []byte(scramPasswords["worker"]))
				return b.scramEnv(tp, s, "worker")
			},
			acls: func(tp topics, gateway, worker string) []*sarama.ResourceAcls {
				return serviceACLs(topics{in: tp.in, out: tp.out, dlq: tp.dlq, group: tp.group + ".other"}, gateway, worker)
			},
			reason: `kafka: not authorized (check the ACLs of user "worker")`, logged: "consumer group session failed; retrying",
			fix: func(t *testing.T, _ secrets, admin sarama.ClusterAdmin, tp topics) {
				grant(t, admin, []*sarama.ResourceAcls{aclsOn(sarama.AclResourceGroup, tp.group, allow("User:worker", sarama.AclOperationRead))})
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			admin := newAdmin(t, b.saslAddr)
			tp := newTopics(t, b.saslAddr)
			gw, wk := "User:gateway", "User:worker"
			if tc.service == "gateway" {
				gw = tc.principal
			} else {
				wk = tc.principal
			}
			if tc.acls == nil {
				tc.acls = serviceACLs
			}
			grant(t, admin, tc.acls(tp, gw, wk))
			s := newSecrets(t, b)
			svc := startService(t, tc.service, tc.configure(t, tp, s)...)

			waitFor(t, 30*time.Second, tc.service+" /readyz explains the refusal", func() error {
				status, body, err := svc.readyReasons()
				if err == nil && (status != http.StatusServiceUnavailable || !strings.Contains(string(body), jsonEscaped(tc.reason))) {
					err = fmt.Errorf("status %d %s", status, body)
				}
				return err
			})
			message, atLeast := "cannot connect to Kafka; retrying", 2 // every attempt is logged
			if tc.logged != "" {
				message, atLeast = tc.logged, 1
			}
			waitFor(t, 30*time.Second, tc.service+" logs the cause", func() error {
				if n := len(svc.logsContaining(message, tc.reason)); n < atLeast {
					return fmt.Errorf("%d lines %q with the reason", n, message)
				}
				return nil
			})
			if svc.exited() {
				t.Fatal("the service exited on a bad credential")
			}
			_, body, _ := svc.readyReasons()
			_, public, _ := svc.get("/readyz", nil)
			if !strings.Contains(string(public), `"not ready"`) || strings.Contains(string(public), tc.reason) {
				t.Errorf("public /readyz = %s, want only not ready", public)
			}
			for _, secret := range []string{wrongPassword, scramPasswords["gateway"], scramPasswords["worker"], "late-user-password", "PRIVATE KEY"} {
				if svc.logged(secret) || strings.Contains(string(body), secret) {
					t.Errorf("a secret (%.4s...) appears in the log or /readyz", secret)
				}
			}
			if tc.fix == nil {
				return
			}
			fixed := time.Now()
			tc.fix(t, s, admin, tp)
			waitReady(t, svc, 60*time.Second)
			t.Logf("ready %s after the secret was fixed", time.Since(fixed).Round(time.Millisecond))
			if tc.service == "gateway" {
				if status, _, body := ping(t, svc, ""); status != http.StatusOK {
					t.Fatalf("ping after the fix: %d %s", status, body)
				}
			}
		})
	}
}

// A broker certificate that does not name the host the service verifies: the service
// stays up and unready until the broker gets a certificate with that name (as when
// Strimzi rolls its brokers with new alternative names), then turns ready by itself.
func TestSecuredHostnameMismatchRecovers(t *testing.T) {
	b := securedCluster(t)
	const host = "kafka.elsewhere.test"
	tp := newTopics(t, b.saslAddr)
	grant(t, newAdmin(t, b.saslAddr), serviceACLs(tp, "User:gateway", "User:worker"))
	s := newSecrets(t, b)
	s.write(t, "password", []byte(scramPasswords["gateway"]))
	gateway := startService(t, "gateway", append(b.scramEnv(tp, s, "gateway"), "KAFKA_TLS_SERVER_NAME="+host)...)

	reason := "kafka: TLS: broker certificate does not match the host: x509: certificate is valid for localhost, not " + host
	waitFor(t, 30*time.Second, "/readyz explains the mismatch", func() error {
		status, body, err := gateway.readyReasons()
		if err == nil && (status != http.StatusServiceUnavailable || !strings.Contains(string(body), reason)) {
			err = fmt.Errorf("status %d %s", status, body)
		}
		return err
	})
	if len(gateway.logsContaining("cannot connect to Kafka; retrying", reason)) == 0 {
		t.Fatal("the log does not name the cause")
	}

	// Restarts the shared broker: the tests that use it run one after the other.
	if err := b.reissueCertificate(t, host); err != nil {
		t.Fatal(err)
	}
	waitReady(t, gateway, 60*time.Second)
	if status, _, body := ping(t, gateway, ""); status != http.StatusOK {
		t.Fatalf("ping after the broker's new certificate: %d %s", status, body)
	}
}

// The worker loses Write on its out-topic while requests keep coming: nothing is marked
// or lost, the log says it is not authorized, the stuck-partition metric rises, and
// every request is answered once the ACL is back.
func TestSecuredWorkerLosesWriteACL(t *testing.T) {
	b := securedCluster(t)
	admin := newAdmin(t, b.saslAddr)
	tp := newTopics(t, b.saslAddr)
	grant(t, admin, serviceACLs(tp, "User:gateway", "User:worker"))
	gs, ws := newSecrets(t, b), newSecrets(t, b)
	gs.write(t, "password", []byte(scramPasswords["gateway"]))
	ws.write(t, "password", []byte(scramPasswords["worker"]))
	worker := startService(t, "worker", append(b.scramEnv(tp, ws, "worker"), "STUCK_PARTITION_THRESHOLD=2s")...)
	gateway := startService(t, "gateway", b.scramEnv(tp, gs, "gateway")...)
	waitReady(t, worker, 60*time.Second)
	waitReady(t, gateway, 60*time.Second)

	var accepted acked
	send := func(prefix string, n int) {
		for i := range n {
			id := fmt.Sprintf("%s-%02d", prefix, i)
			if status, _, body := ping(t, gateway, id); status != http.StatusOK {
				t.Fatalf("ping %s: %d %s", id, status, body)
			}
			accepted.add(id)
		}
	}
	send("before", 3)
	replyCounts(t, b.saslAddr, tp, accepted.list(), 60*time.Second)
	waitFor(t, 30*time.Second, "the first requests are committed", func() error {
		if c := committed(t, admin, tp); c != 3 {
			return fmt.Errorf("%d committed", c)
		}
		return nil
	})

	revokeWrite(t, admin, tp.out, "User:worker")
	send("revoked", 10)
	waitFor(t, 30*time.Second, "the worker logs that it may not write the replies", func() error {
		if len(worker.logsContaining("publish failed; will retry", "not authorized")) == 0 {
			return errNotYet
		}
		return nil
	})
	in := `topic="` + tp.in + `"`
	waitFor(t, 30*time.Second, "the worker's metrics show a stuck partition", func() error {
		if stuck, _ := sumOf(worker.scrape(t), "streamgate_worker_partition_stuck", in); stuck < 1 {
			return fmt.Errorf("stuck partitions: %v", stuck)
		}
		return nil
	})
	time.Sleep(3 * time.Second) // auto-commit runs every second: give a wrong mark time to show
	if c := committed(t, admin, tp); c != 3 {
		t.Fatalf("%d offsets committed while replies were refused, want the 3 answered before", c)
	}
	if answered := worker.logsWith("message", "published reply"); len(answered) != 3 {
		t.Fatalf("%d replies published, want the 3 sent before the ACL was revoked", len(answered))
	}

	grant(t, admin, []*sarama.ResourceAcls{aclsOn(sarama.AclResourceTopic, tp.out, allow("User:worker", sarama.AclOperationWrite))})
	counts := replyCounts(t, b.saslAddr, tp, accepted.list(), 90*time.Second)
	waitFor(t, 30*time.Second, "the backlog is committed and no partition is stuck", func() error {
		if c := committed(t, admin, tp); c != 13 {
			return fmt.Errorf("%d committed", c)
		}
		if stuck, _ := sumOf(worker.scrape(t), "streamgate_worker_partition_stuck", in); stuck != 0 {
			return fmt.Errorf("stuck partitions: %v", stuck)
		}
		return nil
	})
	t.Logf("%d requests, every one answered after the ACL came back (%d replies); %d refused attempts logged",
		len(accepted.list()), total(counts), len(worker.logsContaining("publish failed; will retry", "not authorized")))
}

// A password rotated while the services are connected: the broker's sessions expire
// (connections.max.reauth.ms) and refuse the old password on re-authentication; each
// service then builds a new client from the password file on disk and carries on,
// without a restart.
func TestSecuredPasswordRotatedWhileConnected(t *testing.T) {
	b := securedCluster(t)
	admin := newAdmin(t, b.saslAddr)
	tp := newTopics(t, b.saslAddr)
	suffix := fmt.Sprintf("%06d", rand.IntN(1_000_000))
	users := map[string]string{"gateway": "rotating-gateway-" + suffix, "worker": "rotating-worker-" + suffix}
	setPassword := func(user, password string) { setSCRAMPassword(t, admin, user, password) }
	grant(t, admin, leastACLs(tp, "User:"+users["gateway"], "User:"+users["worker"]))
	svcs := map[string]*service{}
	files := map[string]secrets{}
	for _, name := range []string{"worker", "gateway"} {
		setPassword(users[name], "first-"+name)
		files[name] = newSecrets(t, b)
		files[name].write(t, "password", []byte("first-"+name))
		svcs[name] = startService(t, name, b.scramEnv(tp, files[name], users[name])...)
	}
	waitReady(t, svcs["worker"], 60*time.Second)
	waitReady(t, svcs["gateway"], 60*time.Second)

	var accepted acked
	pingOK := func(id string) error {
		status, _, body := ping(t, svcs["gateway"], id)
		if status != http.StatusOK {
			return fmt.Errorf("%d %s", status, body)
		}
		accepted.add(id)
		return nil
	}
	if err := pingOK("rotation-before"); err != nil {
		t.Fatal(err)
	}

	// The operator's rotation: the broker first, then the secret files (the kubelet
	// updates them within a minute or so).
	rotated := time.Now()
	for _, name := range []string{"worker", "gateway"} {
		setPassword(users[name], "second-"+name)
		files[name].write(t, "password", []byte("second-"+name))
	}
	for _, name := range []string{"worker", "gateway"} {
		waitFor(t, 3*reauthAfter, name+" rebuilds its client from the rotated password file", func() error {
			if len(svcs[name].logsWith("message", "Kafka refuses the client's credentials; building a new client from the secret files")) == 0 {
				return errNotYet
			}
			return nil
		})
		waitReady(t, svcs[name], 60*time.Second)
	}
	t.Logf("both services rebuilt their clients %s after the rotation", time.Since(rotated).Round(time.Millisecond))
	for i := range 3 {
		id := fmt.Sprintf("rotation-after-%d", i)
		waitFor(t, 30*time.Second, "ping after the rotation", func() error { return pingOK(id) })
	}
	counts := replyCounts(t, b.saslAddr, tp, accepted.list(), 60*time.Second)
	t.Logf("%d requests answered across the rotation (%d replies)", len(accepted.list()), total(counts))
}

// The secured listeners refuse what they should: the broker config is real.
func TestSecuredListenersRefuseWeakerClients(t *testing.T) {
	b := securedCluster(t)
	trusted := kafka.TLS{Enabled: true, CAFile: b.adminSecurity().TLS.CAFile}
	for _, tc := range []struct {
		name, addr string
		security   kafka.Security
		refused    bool
	}{
		{"plaintext client on SASL_SSL", b.saslAddr, kafka.Security{}, true},
		{"plaintext client on SSL", b.sslAddr, kafka.Security{}, true},
		{"TLS without SASL on SASL_SSL", b.saslAddr, kafka.Security{TLS: trusted}, true},
		{"TLS without a client certificate on SSL", b.sslAddr, kafka.Security{TLS: trusted}, true},
		{"the admin on SASL_SSL (control)", b.saslAddr, b.adminSecurity(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testClientConfig()
			cfg.Net.DialTimeout, cfg.Net.ReadTimeout = 3*time.Second, 3*time.Second
			cfg.Metadata.Retry.Max = 0
			if err := tc.security.Apply(cfg); err != nil {
				t.Fatal(err)
			}
			client, err := sarama.NewClient([]string{tc.addr}, cfg)
			if err == nil {
				client.Close()
			}
			if refused := err != nil; refused != tc.refused {
				t.Fatalf("refused = %v (%v), want %v", refused, err, tc.refused)
			}
			t.Logf("%v", err)
		})
	}
}

// committed sums the group's committed offsets on the in-topic's partitions.
func committed(t *testing.T, admin sarama.ClusterAdmin, tp topics) int64 {
	t.Helper()
	resp, err := admin.ListConsumerGroupOffsets(tp.group, map[string][]int32{tp.in: {0, 1, 2}})
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", tp.group, err)
	}
	var sum int64
	for _, block := range resp.Blocks[tp.in] {
		if block.Offset > 0 {
			sum += block.Offset
		}
	}
	return sum
}

// logsContaining returns the parsed lines with message msg whose error field contains text.
func (s *service) logsContaining(msg, text string) []map[string]any {
	var out []map[string]any
	for _, line := range s.logsWith("message", msg) {
		if errText, _ := line["error"].(string); strings.Contains(errText, text) {
			out = append(out, line)
		}
	}
	return out
}

// logged reports whether any line the service wrote contains text.
func (s *service) logged(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range s.raw {
		if strings.Contains(line, text) {
			return true
		}
	}
	return false
}

// exited reports whether the process has ended.
func (s *service) exited() bool {
	select {
	case err := <-s.done:
		s.done <- err // keep it for stop
		return true
	default:
		return false
	}
}

// jsonEscaped is text as it appears inside a JSON string.
func jsonEscaped(text string) string {
	return strings.ReplaceAll(text, `"`, `\"`)
}
