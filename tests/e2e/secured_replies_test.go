package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"

	"github.com/streamgate/streamgate/pkg/platform/kafka/kafkatest"
)

// The gateway's reply-topic reader on the secured broker: POST /v1/requests works again
// after the cluster refused its credentials (a password rotated while connected) and
// soon after a trust setting is fixed, without a restart.
func TestSecuredReplyReaderRebuilds(t *testing.T) {
	b := securedCluster(t)
	// replyTopic creates tp's reply topic and gives the gateway Read on it, the worker
	// Write (k8s/users.yaml).
	replyTopic := func(t *testing.T, admin sarama.ClusterAdmin, tp topics, gateway, worker string) {
		t.Helper()
		topic := tp.in + ".replies"
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic %s: %v", topic, err)
		}
		grant(t, admin, append(serviceACLs(tp, gateway, worker),
			aclsOn(sarama.AclResourceTopic, topic, allow(gateway, sarama.AclOperationRead), allow(worker, sarama.AclOperationWrite))))
	}
	client := &http.Client{Timeout: 20 * time.Second}
	answered := func(gateway *service, id string) error {
		status, body, err := postRequest(client, gateway, id, "5s")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("%d %s", status, body)
		}
		return err
	}
	const cannotRead = "cannot read the reply topic; requests awaiting a reply there are answered 503 until it can"

	t.Run("password rotated while connected", func(t *testing.T) {
		t.Parallel()
		admin := newAdmin(t, b.saslAddr)
		tp := newTopics(t, b.saslAddr)
		suffix := fmt.Sprintf("%06d", rand.IntN(1_000_000))
		users := map[string]string{"gateway": "replies-gateway-" + suffix, "worker": "replies-worker-" + suffix}
		setPassword := func(user, password string) { setSCRAMPassword(t, admin, user, password) }
		replyTopic(t, admin, tp, "User:"+users["gateway"], "User:"+users["worker"])
		svcs, files := map[string]*service{}, map[string]secrets{}
		for _, name := range []string{"worker", "gateway"} {
			setPassword(users[name], "first-"+name)
			files[name] = newSecrets(t, b)
			files[name].write(t, "password", []byte("first-"+name))
			svcs[name] = startService(t, name, b.scramEnv(tp, files[name], users[name])...)
		}
		gateway := svcs["gateway"]
		waitReady(t, svcs["worker"], 60*time.Second)
		waitReady(t, gateway, 60*time.Second)
		waitFor(t, 60*time.Second, "a request answered before the rotation", func() error { return answered(gateway, "replies-before") })

		rotated := time.Now()
		for _, name := range []string{"worker", "gateway"} {
			setPassword(users[name], "second-"+name)
			files[name].write(t, "password", []byte("second-"+name))
		}
		// The reader's connections re-authenticate within reauthAfter and are refused.
		waitFor(t, 3*reauthAfter, "the reply reader gives up its refused client", func() error {
			if len(gateway.logsContaining(cannotRead, "SASL authentication failed")) == 0 {
				return errNotYet
			}
			return nil
		})
		waitFor(t, 30*time.Second, "a request answered after the rotation", func() error { return answered(gateway, "replies-after") })
		t.Logf("POST /v1/requests answered again %s after the rotation", time.Since(rotated).Round(time.Millisecond))
		if gateway.logged("first-gateway") || gateway.logged("second-gateway") {
			t.Error("the gateway logs its password")
		}
	})

	// Refused only the reply topic (its Read ACL missing): the gateway still publishes,
	// so it stays ready (docs/hardening.md says why), GET /v1/ping is 200, and POST
	// /v1/requests answers 503 at once rather than 504 at its timeout; once Read is
	// granted it is answered 200, without a restart.
	t.Run("reply topic refused then granted", func(t *testing.T) {
		t.Parallel()
		admin := newAdmin(t, b.saslAddr)
		tp := newTopics(t, b.saslAddr)
		topic := tp.in + ".replies"
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic %s: %v", topic, err)
		}
		grant(t, admin, append(serviceACLs(tp, "User:gateway", "User:worker"),
			aclsOn(sarama.AclResourceTopic, topic, allow("User:worker", sarama.AclOperationWrite))))
		svcs := map[string]*service{}
		for _, name := range []string{"worker", "gateway"} {
			s := newSecrets(t, b)
			s.write(t, "password", []byte(scramPasswords[name]))
			svcs[name] = startService(t, name, b.scramEnv(tp, s, name)...)
		}
		gateway := svcs["gateway"]
		waitReady(t, svcs["worker"], 60*time.Second)
		waitReady(t, gateway, 60*time.Second)
		waitFor(t, 30*time.Second, "the reply reader refused", func() error {
			if len(gateway.logsContaining(cannotRead, "not authorized")) == 0 {
				return errNotYet
			}
			return nil
		})
		if status, _, body := ping(t, gateway, "refused-replies-ping"); status != http.StatusOK {
			t.Errorf("GET /v1/ping while the reply topic is refused: %d %s, want 200 (publishing works)", status, body)
		}
		began := time.Now()
		status, body, err := postRequest(client, gateway, "refused-replies", "5s")
		took := time.Since(began)
		t.Logf("POST /v1/requests while the reply topic is refused: %d %s in %s", status, body, took.Round(time.Millisecond))
		if err != nil || status != http.StatusServiceUnavailable || took > 2*time.Second {
			t.Errorf("POST /v1/requests while the reply topic is refused: %d %s %v in %s; want 503 at once", status, body, err, took)
		}
		if status, _, err := gateway.get("/readyz", nil); err != nil || status != http.StatusOK {
			t.Errorf("/readyz while only the reply topic is refused: %d %v; want 200 (the gateway publishes)", status, err)
		}

		granted := time.Now()
		grant(t, admin, []*sarama.ResourceAcls{aclsOn(sarama.AclResourceTopic, topic, allow("User:gateway", sarama.AclOperationRead))})
		waitFor(t, 90*time.Second, "a request answered after Read was granted", func() error { return answered(gateway, "granted-replies") })
		t.Logf("POST /v1/requests answered 200 %s after Read was granted", time.Since(granted).Round(time.Millisecond))
	})

	t.Run("CA fixed", func(t *testing.T) {
		t.Parallel()
		admin := newAdmin(t, b.saslAddr)
		tp := newTopics(t, b.saslAddr)
		replyTopic(t, admin, tp, "User:gateway", "User:worker")
		s := newSecrets(t, b)
		s.write(t, "ca.crt", kafkatest.NewCA(t, "some-other-ca").PEM)
		s.write(t, "password", []byte(scramPasswords["gateway"]))
		gateway := startService(t, "gateway", b.scramEnv(tp, s, "gateway")...)

		// Five refusals in a row: the minute-long backoff for a missing topic would be
		// at 16-32 s by now.
		waitFor(t, 60*time.Second, "the reply reader retries the unknown CA", func() error {
			if n := len(gateway.logsContaining(cannotRead, "certificate signed by unknown authority")); n < 5 {
				return fmt.Errorf("%d attempts", n)
			}
			return nil
		})
		fixed := time.Now()
		s.write(t, "ca.crt", b.ca.PEM)
		waitFor(t, 10*time.Second, "the reply reader reads after the CA is fixed", func() error {
			if len(gateway.logsWith("message", "reading replies")) == 0 {
				return errNotYet
			}
			return nil
		})
		t.Logf("reading replies %s after the CA was fixed", time.Since(fixed).Round(time.Millisecond))
	})
}

// setSCRAMPassword creates user, or sets its password, with SCRAM-SHA-512.
func setSCRAMPassword(t *testing.T, admin sarama.ClusterAdmin, user, password string) {
	t.Helper()
	if _, err := admin.UpsertUserScramCredentials([]sarama.AlterUserScramCredentialsUpsert{{
		Name: user, Mechanism: sarama.SCRAM_MECHANISM_SHA_512, Iterations: 8192, Salt: []byte(uuid.NewString()), Password: []byte(password),
	}}); err != nil {
		t.Fatalf("set the password of %s: %v", user, err)
	}
}
