package kafka

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/streamgate/streamgate/pkg/platform/kafka/kafkatest"
)

const password = "s3cret-pa55"

func TestApplySCRAMOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := kafkatest.NewCA(t, "test-ca")
	client := ca.Issue(t, kafkatest.Leaf{CommonName: "gateway"})
	s := Security{
		TLS: TLS{
			Enabled:  true,
			CAFile:   kafkatest.WriteFile(t, dir, "ca.crt", ca.PEM),
			CertFile: kafkatest.WriteFile(t, dir, "user.crt", client.CertPEM),
			KeyFile:  kafkatest.WriteFile(t, dir, "user.key", client.KeyPEM),
		},
		SASL: SASL{
			Mechanism: MechanismSCRAMSHA512, Username: "gateway",
			PasswordFile: kafkatest.WriteFile(t, dir, "password", []byte(password+"\n")),
		},
	}
	cfg := ProducerConfig("test")
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sarama rejects the secured config: %v", err)
	}
	if !cfg.Net.TLS.Enable || cfg.Net.TLS.Config.MinVersion != tls.VersionTLS12 ||
		cfg.Net.TLS.Config.RootCAs == nil || len(cfg.Net.TLS.Config.Certificates) != 1 || cfg.Net.TLS.Config.InsecureSkipVerify {
		t.Fatalf("TLS config = %+v", cfg.Net.TLS.Config)
	}
	if !cfg.Net.SASL.Enable || cfg.Net.SASL.Mechanism != sarama.SASLTypeSCRAMSHA512 ||
		cfg.Net.SASL.User != "gateway" || cfg.Net.SASL.Password != password {
		t.Fatalf("SASL = %v %s %q (password from the file, without its newline: %v)",
			cfg.Net.SASL.Enable, cfg.Net.SASL.Mechanism, cfg.Net.SASL.User, cfg.Net.SASL.Password == password)
	}
	scram := cfg.Net.SASL.SCRAMClientGeneratorFunc()
	if err := scram.Begin("gateway", password, ""); err != nil {
		t.Fatal(err)
	}
	first, err := scram.Step("")
	if err != nil || !strings.HasPrefix(first, "n,,n=gateway,r=") {
		t.Fatalf("SCRAM client-first message = %q, %v", first, err)
	}
}

// The files are read on every Apply: a client built after a secret changed on disk
// gets the new content.
func TestApplyRereadsFiles(t *testing.T) {
	dir := t.TempDir()
	path := kafkatest.WriteFile(t, dir, "password", []byte("old"))
	s := Security{SASL: SASL{Mechanism: MechanismSCRAMSHA256, Username: "u", PasswordFile: path}}
	for _, want := range []string{"old", "new"} {
		kafkatest.WriteFile(t, dir, "password", []byte(want))
		cfg := ConsumerGroupConfig("test")
		if err := s.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Net.SASL.Password != want {
			t.Fatalf("password %q, want %q", cfg.Net.SASL.Password, want)
		}
	}
}

func TestApplyRefusesBadSecretContent(t *testing.T) {
	dir := t.TempDir()
	ca := kafkatest.NewCA(t, "test-ca")
	expired := ca.Issue(t, kafkatest.Leaf{CommonName: "worker",
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	valid := ca.Issue(t, kafkatest.Leaf{CommonName: "worker"})
	for _, tc := range []struct {
		name string
		s    Security
		want string
	}{
		{"CA bundle without a certificate", Security{TLS: TLS{Enabled: true, CAFile: kafkatest.WriteFile(t, dir, "bad-ca", []byte("not PEM"))}},
			"holds no PEM certificate"},
		{"expired client certificate", Security{TLS: TLS{Enabled: true,
			CertFile: kafkatest.WriteFile(t, dir, "expired.crt", expired.CertPEM), KeyFile: kafkatest.WriteFile(t, dir, "expired.key", expired.KeyPEM)}},
			"(CN=worker) expired at"},
		{"key of another certificate", Security{TLS: TLS{Enabled: true,
			CertFile: kafkatest.WriteFile(t, dir, "valid.crt", valid.CertPEM), KeyFile: kafkatest.WriteFile(t, dir, "other.key", expired.KeyPEM)}},
			"private key does not match public key"},
		{"empty password file", Security{SASL: SASL{Mechanism: MechanismPlain, Username: "u",
			PasswordFile: kafkatest.WriteFile(t, dir, "empty", []byte("\n"))}}, "is empty"},
		{"password file gone", Security{SASL: SASL{Mechanism: MechanismPlain, Username: "u",
			PasswordFile: dir + "/missing"}}, "reading the password file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Apply(ProducerConfig("test"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply = %v, want an error containing %q", err, tc.want)
			}
			if !NeedsNewClient(err) {
				t.Errorf("a bad secret file must be retried with the file read again: %v", err)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := Security{SASL: SASL{Mechanism: MechanismPlain, Username: "u", Password: password}}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	zap.New(core).Info("settings", zap.Any("security", s), zap.Stringer("password", s.SASL.Password))
	s.Log(zap.New(core))
	printed := []string{fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s.SASL.Password, s.SASL.Password), string(js), s.Describe()}
	for _, entry := range logs.All() {
		printed = append(printed, fmt.Sprint(entry.ContextMap()))
	}
	for _, p := range printed {
		if strings.Contains(p, password) {
			t.Errorf("the password is printed: %s", p)
		}
	}
}

func TestLogWarnsAboutInsecureSettings(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	Security{TLS: TLS{Enabled: true, InsecureSkipVerify: true}}.Log(zap.New(core))
	Security{SASL: SASL{Mechanism: MechanismPlain, Username: "u", Password: "p"}}.Log(zap.New(core))
	if logs.FilterLevelExact(zap.ErrorLevel).FilterMessageSnippet("KAFKA_TLS_INSECURE_SKIP_VERIFY").Len() != 1 {
		t.Error("skipping verification is not logged at error level")
	}
	if logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("clear text").Len() != 1 {
		t.Error("PLAIN without TLS is not warned about")
	}
}

// Real handshakes against a TLS listener: the verification errors Go reports are
// explained in terms an operator can act on.
func TestExplainHandshakeFailures(t *testing.T) {
	dir := t.TempDir()
	ca, other := kafkatest.NewCA(t, "cluster-ca"), kafkatest.NewCA(t, "other-ca")
	server := ca.Issue(t, kafkatest.Leaf{CommonName: "broker", DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	addr := serveTLS(t, server)
	for _, tc := range []struct {
		name, caPEM, serverName, want string
	}{
		{"CA does not match", string(other.PEM), "", "kafka: TLS: certificate signed by unknown authority"},
		{"hostname does not match", string(ca.PEM), "kafka.example.com", "kafka: TLS: broker certificate does not match the host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Security{TLS: TLS{Enabled: true, CAFile: kafkatest.WriteFile(t, dir, "ca.crt", []byte(tc.caPEM)), ServerName: tc.serverName}}
			cfg := sarama.NewConfig()
			if err := s.Apply(cfg); err != nil {
				t.Fatal(err)
			}
			conn, err := tls.Dial("tcp", addr, cfg.Net.TLS.Config)
			if err == nil {
				conn.Close()
				t.Fatal("handshake succeeded")
			}
			wrapped := fmt.Errorf("kafka: client has run out of available brokers to talk to: %w", err)
			explained := s.Explain(wrapped)
			if !strings.HasPrefix(explained.Error(), tc.want) || !NeedsNewClient(explained) || !errors.Is(explained, err) {
				t.Fatalf("Explain = %q (new client: %v), want %q...", explained, NeedsNewClient(explained), tc.want)
			}
		})
	}
}

func TestExplainKafkaErrors(t *testing.T) {
	s := Security{SASL: SASL{Mechanism: MechanismSCRAMSHA512, Username: "gateway", Password: password}}
	for _, tc := range []struct {
		err         error
		want        string
		credentials bool
	}{
		{fmt.Errorf("x: %w", sarama.ErrSASLAuthenticationFailed),
			`kafka: SASL authentication failed for user "gateway" (SCRAM-SHA-512): wrong password or unknown user`, true},
		{sarama.ErrTopicAuthorizationFailed, `kafka: not authorized (check the ACLs of user "gateway")`, false},
		{sarama.ErrGroupAuthorizationFailed, `kafka: not authorized (check the ACLs of user "gateway")`, false},
		{&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, "kafka: TLS: the broker refused the handshake (tls: bad certificate)", true},
		{sarama.ErrOutOfBrokers, "kafka: client has run out of available brokers to talk to", false},
		{errors.New("EOF"), "kafka: EOF", false},
	} {
		got := s.Explain(tc.err)
		if !strings.HasPrefix(got.Error(), tc.want) || NeedsNewClient(got) != tc.credentials || !errors.Is(got, tc.err) {
			t.Errorf("Explain(%v) = %q (new client: %v), want %q (%v)", tc.err, got, NeedsNewClient(got), tc.want, tc.credentials)
		}
		if strings.Contains(got.Error(), password) {
			t.Errorf("Explain(%v) prints the password", tc.err)
		}
	}
	if s.Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
}

// serveTLS accepts TLS connections with leaf until the test ends and returns the address.
func serveTLS(t *testing.T, leaf kafkatest.Issued) string {
	t.Helper()
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	return ln.Addr().String()
}
