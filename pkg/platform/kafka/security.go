package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"go.uber.org/zap"
)

// SASL mechanisms the services speak; "" means no SASL.
const (
	MechanismPlain       = sarama.SASLTypePlaintext
	MechanismSCRAMSHA256 = sarama.SASLTypeSCRAMSHA256
	MechanismSCRAMSHA512 = sarama.SASLTypeSCRAMSHA512
)

// Security says how a client protects its connections and proves who it is. The files
// it names are read each time Apply builds a client configuration, never cached, so a
// client built after a Kubernetes secret changed on disk uses the new content.
type Security struct {
	TLS  TLS
	SASL SASL
}

// TLS settings; with Enabled false the rest is unused.
type TLS struct {
	Enabled            bool
	CAFile             string // PEM bundle of the cluster CA; "" trusts the system roots
	CertFile, KeyFile  string // client certificate and key (PEM) for mutual TLS; both or neither
	ServerName         string // name to verify the broker certificate against; "" = the broker's host
	InsecureSkipVerify bool   // development only: accept any broker certificate
}

// SASL settings; with Mechanism "" the rest is unused.
type SASL struct {
	Mechanism    string
	Username     string
	Password     Secret // given inline, or
	PasswordFile string // a file holding it (a mounted Kubernetes secret)
}

// Secret is a value that must never be printed: it formats as "[redacted]" in logs,
// errors and JSON.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) reveal() string             { return string(s) }

// Describe says what s sets up, for the start-up log line; it holds no secret.
func (s Security) Describe() string {
	var parts []string
	switch {
	case !s.TLS.Enabled:
		parts = append(parts, "plaintext")
	case s.TLS.InsecureSkipVerify:
		parts = append(parts, "TLS without verifying the broker")
	case s.TLS.CertFile != "":
		parts = append(parts, "TLS with client certificate")
	default:
		parts = append(parts, "TLS")
	}
	if s.SASL.Mechanism != "" {
		parts = append(parts, fmt.Sprintf("SASL %s as %q", s.SASL.Mechanism, s.SASL.Username))
	}
	return strings.Join(parts, ", ")
}

// Apply sets cfg's Net.TLS and Net.SASL from s, reading every file s names now. Its
// errors are ConnectionErrors that say what is wrong with a file's content or a
// certificate's validity; they never contain the password or a key.
func (s Security) Apply(cfg *sarama.Config) error {
	if s.TLS.Enabled {
		tlsCfg, err := s.TLS.load(time.Now())
		if err != nil {
			return secretFileError(err)
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tlsCfg
	}
	if s.SASL.Mechanism != "" {
		password, err := s.SASL.password()
		if err != nil {
			return secretFileError(err)
		}
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.Mechanism = sarama.SASLMechanism(s.SASL.Mechanism)
		cfg.Net.SASL.User = s.SASL.Username
		cfg.Net.SASL.Password = password
		if gen := scramClientGenerator(s.SASL.Mechanism); gen != nil {
			cfg.Net.SASL.SCRAMClientGeneratorFunc = gen
		}
	}
	return nil
}

func (t TLS) load(now time.Time) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, // opt-in for development, logged loudly by Log
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka: TLS: reading the CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka: TLS: the CA bundle %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka: TLS: loading the client certificate %s and key %s: %w", t.CertFile, t.KeyFile, err)
		}
		// The broker would refuse it anyway, with a vaguer alert; say so plainly.
		leaf := pair.Leaf // parsed by LoadX509KeyPair since Go 1.23
		switch {
		case now.After(leaf.NotAfter):
			return nil, fmt.Errorf("kafka: TLS: the client certificate %s (%s) expired at %s",
				t.CertFile, leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(leaf.NotBefore):
			return nil, fmt.Errorf("kafka: TLS: the client certificate %s (%s) is not valid before %s",
				t.CertFile, leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func (s SASL) password() (string, error) {
	if s.PasswordFile == "" {
		return s.Password.reveal(), nil
	}
	raw, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka: SASL: reading the password file: %w", err)
	}
	// Secrets written by hand often end in a newline; Strimzi's do not.
	password := strings.TrimRight(string(raw), "\r\n")
	if password == "" {
		return "", fmt.Errorf("kafka: SASL: the password file %s is empty", s.PasswordFile)
	}
	return password, nil
}

// secretFileError marks a problem with a secret file as one a later read may not have.
func secretFileError(err error) error {
	return &ConnectionError{Reason: err.Error(), Credentials: true, Err: err}
}

// Log writes how the client will connect, at start-up, and warns loudly about settings
// that weaken security.
func (s Security) Log(log *zap.Logger) {
	log.Info("Kafka connection security", zap.String("kafka_security", s.Describe()))
	if s.TLS.Enabled && s.TLS.InsecureSkipVerify {
		log.Error("KAFKA_TLS_INSECURE_SKIP_VERIFY=true: the broker's certificate is NOT verified; " +
			"anyone on the network path can impersonate Kafka. Development only.")
	}
	if s.SASL.Mechanism == MechanismPlain && !s.TLS.Enabled {
		log.Warn("KAFKA_SASL_MECHANISM=PLAIN without TLS sends the password in clear text")
	}
}
