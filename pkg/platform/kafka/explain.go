package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/IBM/sarama"
)

// ConnectionError is a failure to talk to the cluster, phrased for /readyz and the log:
// what is wrong and, when the client's own credentials or trust settings are the cause,
// that rebuilding the client from the files on disk may fix it.
type ConnectionError struct {
	Reason string // says what is wrong, without any secret
	// Credentials is true when the cluster refused the client's identity or the client
	// refused the cluster's: a client built from fixed secret files may succeed.
	Credentials bool
	Err         error
}

func (e *ConnectionError) Error() string { return e.Reason }
func (e *ConnectionError) Unwrap() error { return e.Err }

// Explain turns err, from sarama or from Apply, into a ConnectionError that says what is
// wrong in the terms of s (which user, which mechanism); nil stays nil.
func (s Security) Explain(err error) error {
	if err == nil {
		return nil
	}
	var already *ConnectionError
	if errors.As(err, &already) {
		return err
	}
	reason, credentials := s.reason(err)
	return &ConnectionError{Reason: reason, Credentials: credentials, Err: err}
}

// NeedsNewClient reports whether err says the cluster and the client disagree about
// credentials or trust, which a client built from the current secret files may fix.
func NeedsNewClient(err error) bool {
	var ce *ConnectionError
	return errors.As(err, &ce) && ce.Credentials
}

func (s Security) reason(err error) (string, bool) {
	var (
		verify   *tls.CertificateVerificationError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		op       *net.OpError
		kerr     sarama.KError
	)
	switch {
	case errors.Is(err, sarama.ErrSASLAuthenticationFailed):
		// Kafka gives the same answer for a wrong password and an unknown user.
		return fmt.Sprintf("kafka: SASL authentication failed for user %q (%s): wrong password or unknown user",
			s.SASL.Username, s.SASL.Mechanism), true
	case errors.As(err, &hostname):
		return "kafka: TLS: broker certificate does not match the host: " + hostname.Error(), true
	case errors.As(err, &unknown):
		return "kafka: TLS: certificate signed by unknown authority (check KAFKA_TLS_CA_FILE)", true
	case errors.As(err, &invalid):
		return "kafka: TLS: broker certificate rejected: " + invalid.Error(), true
	case errors.As(err, &verify):
		return "kafka: TLS: broker certificate rejected: " + verify.Err.Error(), true
	case errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert from the broker: it refused the client certificate (or none was sent).
		return fmt.Sprintf("kafka: TLS: the broker refused the handshake (%v): check the client certificate", op.Err), true
	case errors.As(err, &kerr) && isAuthorization(kerr):
		return fmt.Sprintf("kafka: not authorized (check the ACLs of user %q): %v", s.principalHint(), kerr), false
	}
	if msg := err.Error(); strings.HasPrefix(msg, "kafka:") {
		return msg, false // sarama's own errors say so already
	}
	return "kafka: " + err.Error(), false
}

func isAuthorization(kerr sarama.KError) bool {
	switch kerr {
	case sarama.ErrTopicAuthorizationFailed, sarama.ErrGroupAuthorizationFailed,
		sarama.ErrClusterAuthorizationFailed, sarama.ErrTransactionalIDAuthorizationFailed:
		return true
	}
	return false
}

// principalHint names who the client is to the broker, as far as the settings tell.
func (s Security) principalHint() string {
	switch {
	case s.SASL.Mechanism != "":
		return s.SASL.Username
	case s.TLS.CertFile != "":
		return "the subject of " + s.TLS.CertFile
	}
	return "ANONYMOUS"
}
