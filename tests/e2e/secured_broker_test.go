package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/kafka/kafkatest"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// The secured broker's SCRAM-SHA-512 users, created by kafka.sh at format time. admin is
// a super user, for the test's own admin client; the services get only their ACLs.
const adminUser, adminPassword = "admin", "admin-e2e-secret"

// reauthAfter is how long a SASL session lasts on the secured broker.
const reauthAfter = 10 * time.Second

var scramPasswords = map[string]string{"gateway": "gateway-e2e-secret", "worker": "worker-e2e-secret"}

// securedBroker is a Kafka started by kafka.sh in secure mode: SASL_SSL with
// SCRAM-SHA-512 on saslAddr, SSL with client certificates on sslAddr, ACLs enforced.
type securedBroker struct {
	*testkit.Kafka
	saslAddr, sslAddr string
	ca                *kafkatest.CA
	pkiDir            string // the CA and the broker's certificate and key
}

// The secured broker is shared by the tests that need it, started by the first one and
// stopped when the suite ends.
var secured struct {
	once   sync.Once
	broker *securedBroker
}

// securedCluster returns the shared secured broker, starting it on first use.
func securedCluster(t *testing.T) *securedBroker {
	t.Helper()
	secured.once.Do(func() {
		b, err := startSecuredBroker(t)
		if err != nil {
			t.Errorf("secured broker: %v", err)
			return
		}
		secured.broker = b
	})
	if secured.broker == nil {
		t.Fatal("the secured broker did not start (see the first test that asked for it)")
	}
	return secured.broker
}

// stopSecuredBroker stops the shared secured broker if a test started it.
func stopSecuredBroker() {
	if b := secured.broker; b != nil {
		b.Clean()
		_ = os.RemoveAll(b.pkiDir)
	}
}

func startSecuredBroker(t *testing.T) (*securedBroker, error) {
	pkiDir, err := os.MkdirTemp("", "streamgate-e2e-pki-")
	if err != nil {
		return nil, err
	}
	ca := kafkatest.NewCA(t, "streamgate-e2e-cluster-ca")
	// The broker's certificate is also its identity on the inter-broker and controller
	// listeners: User:CN=broker, a super user.
	brokerCert := brokerCertificate(t, ca)
	users := []string{adminUser + "=" + adminPassword}
	for name, password := range scramPasswords {
		users = append(users, name+"="+password)
	}
	b, err := testkit.StartKafka(suite.repoRoot,
		"KAFKA_SECURITY=secure",
		"KAFKA_SSL_CA="+kafkatest.WriteFile(t, pkiDir, "ca.crt", ca.PEM),
		"KAFKA_SSL_CERT="+kafkatest.WriteFile(t, pkiDir, "broker.crt", brokerCert.CertPEM),
		"KAFKA_SSL_KEY="+kafkatest.WriteFile(t, pkiDir, "broker.key", brokerCert.KeyPEM),
		"KAFKA_SUPER_USERS=User:"+adminUser+";User:CN=broker",
		"KAFKA_SCRAM_USERS="+strings.Join(users, " "),
		// SASL sessions expire and must re-authenticate, as a cluster that wants a
		// rotated password to take effect does: the rotation test relies on it.
		"KAFKA_EXTRA_CONFIG=listener.name.sasl_ssl.connections.max.reauth.ms="+strconv.Itoa(int(reauthAfter.Milliseconds())))
	if err != nil {
		_ = os.RemoveAll(pkiDir)
		return nil, err
	}
	return &securedBroker{
		Kafka:    b,
		saslAddr: b.Addr,
		sslAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port+2)),
		ca:       ca,
		pkiDir:   pkiDir,
	}, nil
}

// brokerCertificate issues the broker's certificate: User:CN=broker, valid for
// 127.0.0.1, localhost and extraNames.
func brokerCertificate(t *testing.T, ca *kafkatest.CA, extraNames ...string) kafkatest.Issued {
	return ca.Issue(t, kafkatest.Leaf{CommonName: "broker", DNSNames: append([]string{"localhost"}, extraNames...),
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
}

// reissueCertificate restarts the broker with a new certificate that also names
// extraNames, keeping its data.
func (b *securedBroker) reissueCertificate(t *testing.T, extraNames ...string) error {
	cert := brokerCertificate(t, b.ca, extraNames...)
	if err := b.Stop(); err != nil {
		return err
	}
	kafkatest.WriteFile(t, b.pkiDir, "broker.crt", cert.CertPEM)
	kafkatest.WriteFile(t, b.pkiDir, "broker.key", cert.KeyPEM)
	return b.Start()
}

// adminSecurity is how the test's own clients reach the secured broker: as the super
// user, over SASL_SSL.
func (b *securedBroker) adminSecurity() kafka.Security {
	return kafka.Security{
		TLS:  kafka.TLS{Enabled: true, CAFile: filepath.Join(b.pkiDir, "ca.crt")},
		SASL: kafka.SASL{Mechanism: kafka.MechanismSCRAMSHA512, Username: adminUser, Password: adminPassword},
	}
}

// clientConfig is the configuration of the test's own clients for brokers: the
// secured broker's SASL_SSL address gets the admin's credentials.
func clientConfig(brokers string) *sarama.Config {
	cfg := testClientConfig()
	if b := secured.broker; b != nil && brokers == b.saslAddr {
		if err := b.adminSecurity().Apply(cfg); err != nil {
			panic(fmt.Sprintf("e2e: the admin's security settings: %v", err)) // the test's own files
		}
	}
	return cfg
}

// secrets is one service's mounted secret files, in a directory of the test's own:
// the cluster CA, and a SCRAM password or a client certificate and key.
type secrets struct {
	dir string
}

func newSecrets(t *testing.T, b *securedBroker) secrets {
	s := secrets{dir: t.TempDir()}
	s.write(t, "ca.crt", b.ca.PEM)
	return s
}

func (s secrets) path(name string) string { return filepath.Join(s.dir, name) }

// write replaces a secret file, as the kubelet does when the Secret changes.
func (s secrets) write(t *testing.T, name string, data []byte) {
	t.Helper()
	kafkatest.WriteFile(t, s.dir, name, data)
}

// writeClientCert writes user.crt and user.key.
func (s secrets) writeClientCert(t *testing.T, cert kafkatest.Issued) {
	t.Helper()
	s.write(t, "user.key", cert.KeyPEM)
	s.write(t, "user.crt", cert.CertPEM)
}

// scramEnv is a service's configuration for SASL_SSL with SCRAM-SHA-512 as user.
func (b *securedBroker) scramEnv(tp topics, s secrets, user string) []string {
	return append(tp.env(b.saslAddr),
		"KAFKA_TLS_ENABLED=true", "KAFKA_TLS_CA_FILE="+s.path("ca.crt"),
		"KAFKA_SASL_MECHANISM=SCRAM-SHA-512", "KAFKA_SASL_USERNAME="+user, "KAFKA_SASL_PASSWORD_FILE="+s.path("password"))
}

// mtlsEnv is a service's configuration for the SSL listener with a client certificate.
func (b *securedBroker) mtlsEnv(tp topics, s secrets) []string {
	return append(tp.env(b.sslAddr),
		"KAFKA_TLS_ENABLED=true", "KAFKA_TLS_CA_FILE="+s.path("ca.crt"),
		"KAFKA_TLS_CERT_FILE="+s.path("user.crt"), "KAFKA_TLS_KEY_FILE="+s.path("user.key"))
}

// serviceACLs are exactly the ACLs issue 6 gives the services, for tp: leastACLs plus
// Describe on the in-topic and the group for the gateway, IdempotentWrite on the cluster for both, and
// (as k8s/users.yaml) the worker's transactional IDs <group>-* for DELIVERY=exactly-once.
func serviceACLs(tp topics, gateway, worker string) []*sarama.ResourceAcls {
	transactionalIDs := aclsOn(sarama.AclResourceTransactionalID, tp.group+"-",
		allow(worker, sarama.AclOperationWrite), allow(worker, sarama.AclOperationDescribe))
	transactionalIDs.Resource.ResourcePatternType = sarama.AclPatternPrefixed
	return append(leastACLs(tp, gateway, worker),
		aclsOn(sarama.AclResourceTopic, tp.in, allow(gateway, sarama.AclOperationDescribe)),
		// The gateway reads the worker group's committed offsets for its lag.
		aclsOn(sarama.AclResourceGroup, tp.group, allow(gateway, sarama.AclOperationDescribe)),
		aclsOn(sarama.AclResourceCluster, "kafka-cluster",
			allow(gateway, sarama.AclOperationIdempotentWrite), allow(worker, sarama.AclOperationIdempotentWrite)),
		transactionalIDs)
}

// leastACLs are the fewest ACLs the services work with, as measured on Kafka 4.3: the
// gateway writes the in-topic; the worker reads it in its group and writes replies and
// dead letters. Read and Write imply Describe (metadata, offsets), and since Kafka 3.0
// (KIP-679) Write on a topic is enough for an idempotent producer to get its ID.
func leastACLs(tp topics, gateway, worker string) []*sarama.ResourceAcls {
	return []*sarama.ResourceAcls{
		aclsOn(sarama.AclResourceTopic, tp.in, allow(gateway, sarama.AclOperationWrite), allow(worker, sarama.AclOperationRead)),
		aclsOn(sarama.AclResourceGroup, tp.group, allow(worker, sarama.AclOperationRead)),
		aclsOn(sarama.AclResourceTopic, tp.out, allow(worker, sarama.AclOperationWrite)),
		aclsOn(sarama.AclResourceTopic, tp.dlq, allow(worker, sarama.AclOperationWrite)),
	}
}

func allow(principal string, op sarama.AclOperation) *sarama.Acl {
	return &sarama.Acl{Principal: principal, Host: "*", Operation: op, PermissionType: sarama.AclPermissionAllow}
}

func aclsOn(kind sarama.AclResourceType, name string, acls ...*sarama.Acl) *sarama.ResourceAcls {
	return &sarama.ResourceAcls{
		Resource: sarama.Resource{ResourceType: kind, ResourceName: name, ResourcePatternType: sarama.AclPatternLiteral},
		Acls:     acls,
	}
}

// grant creates acls as the super user.
func grant(t *testing.T, admin sarama.ClusterAdmin, acls []*sarama.ResourceAcls) {
	t.Helper()
	if err := admin.CreateACLs(acls); err != nil {
		t.Fatalf("create ACLs: %v", err)
	}
}

// revokeWrite deletes principal's Write ACL on topic and checks that one was deleted.
func revokeWrite(t *testing.T, admin sarama.ClusterAdmin, topic, principal string) {
	t.Helper()
	matched, err := admin.DeleteACL(sarama.AclFilter{
		ResourceType: sarama.AclResourceTopic, ResourceName: &topic, ResourcePatternTypeFilter: sarama.AclPatternLiteral,
		Principal: &principal, Operation: sarama.AclOperationWrite, PermissionType: sarama.AclPermissionAllow,
	}, false)
	if err != nil {
		t.Fatalf("delete the Write ACL of %s on %s: %v", principal, topic, err)
	}
	if len(matched) != 1 {
		t.Fatalf("deleted %d ACLs, want 1", len(matched))
	}
}
