package config

import (
	"fmt"
	"strings"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

// How both services reach a secured cluster (TLS, mutual TLS, SASL). Deployments set
// them only when they have a value; the files are mounted Kubernetes secrets.
var (
	KafkaTLSEnabled            = Var{Name: "KAFKA_TLS_ENABLED", Default: "false"}
	KafkaTLSCAFile             = Var{Name: "KAFKA_TLS_CA_FILE"}
	KafkaTLSCertFile           = Var{Name: "KAFKA_TLS_CERT_FILE"}
	KafkaTLSKeyFile            = Var{Name: "KAFKA_TLS_KEY_FILE"}
	KafkaTLSServerName         = Var{Name: "KAFKA_TLS_SERVER_NAME"}
	KafkaTLSInsecureSkipVerify = Var{Name: "KAFKA_TLS_INSECURE_SKIP_VERIFY", Default: "false"}
	KafkaSASLMechanism         = Var{Name: "KAFKA_SASL_MECHANISM"}
	KafkaSASLUsername          = Var{Name: "KAFKA_SASL_USERNAME"}
	KafkaSASLPassword          = Var{Name: "KAFKA_SASL_PASSWORD"}
	KafkaSASLPasswordFile      = Var{Name: "KAFKA_SASL_PASSWORD_FILE"}
)

// KafkaSecurityVars lists the security settings, which deployments set only as needed.
func KafkaSecurityVars() []Var {
	return []Var{
		KafkaTLSEnabled, KafkaTLSCAFile, KafkaTLSCertFile, KafkaTLSKeyFile, KafkaTLSServerName,
		KafkaTLSInsecureSkipVerify, KafkaSASLMechanism, KafkaSASLUsername, KafkaSASLPassword, KafkaSASLPasswordFile,
	}
}

// KafkaSecurity reads the security settings and checks how they combine.
//
// What the deployment decides is checked here and stops start-up when wrong: the
// variables, their combinations, and that every file named exists and is readable (a
// wrong path or a missing volume mount does not fix itself). What the secret holds, the
// PEM content, a certificate's validity, the password the broker accepts, can change
// under a running pod; it is checked at every connection attempt and leaves the service
// up and unready while wrong.
func (r *Reader) KafkaSecurity() kafka.Security {
	var s kafka.Security
	s.TLS.Enabled = r.Bool(KafkaTLSEnabled)
	s.TLS.CAFile = r.OptionalFile(KafkaTLSCAFile)
	s.TLS.CertFile = r.OptionalFile(KafkaTLSCertFile)
	s.TLS.KeyFile = r.OptionalFile(KafkaTLSKeyFile)
	s.TLS.ServerName = r.Optional(KafkaTLSServerName)
	s.TLS.InsecureSkipVerify = r.Bool(KafkaTLSInsecureSkipVerify)

	if !s.TLS.Enabled {
		for _, v := range []struct {
			name string
			set  bool
		}{
			{KafkaTLSCAFile.Name, s.TLS.CAFile != ""}, {KafkaTLSCertFile.Name, s.TLS.CertFile != ""},
			{KafkaTLSKeyFile.Name, s.TLS.KeyFile != ""}, {KafkaTLSServerName.Name, s.TLS.ServerName != ""},
			{KafkaTLSInsecureSkipVerify.Name, s.TLS.InsecureSkipVerify},
		} {
			r.Check(!v.set, fmt.Sprintf("%s is set but %s is false: enable TLS or remove it", v.name, KafkaTLSEnabled.Name))
		}
	}
	r.Check((s.TLS.CertFile == "") == (s.TLS.KeyFile == ""),
		fmt.Sprintf("%s and %s go together: set both for mutual TLS, or neither", KafkaTLSCertFile.Name, KafkaTLSKeyFile.Name))
	r.Check(!(s.TLS.InsecureSkipVerify && s.TLS.CAFile != ""),
		fmt.Sprintf("%s and %s contradict each other: skipping verification ignores the CA", KafkaTLSInsecureSkipVerify.Name, KafkaTLSCAFile.Name))

	s.SASL = r.kafkaSASL()
	return s
}

func (r *Reader) kafkaSASL() kafka.SASL {
	var s kafka.SASL
	mechanism := r.Optional(KafkaSASLMechanism)
	switch strings.ToUpper(mechanism) {
	case "", "NONE":
		for _, v := range []Var{KafkaSASLUsername, KafkaSASLPassword, KafkaSASLPasswordFile} {
			r.Check(r.Optional(v) == "", fmt.Sprintf("%s is set but %s is not: choose a SASL mechanism or remove it", v.Name, KafkaSASLMechanism.Name))
		}
		return s
	case kafka.MechanismPlain, kafka.MechanismSCRAMSHA256, kafka.MechanismSCRAMSHA512:
		s.Mechanism = strings.ToUpper(mechanism)
	default:
		r.fail(KafkaSASLMechanism.Name, mechanism, fmt.Sprintf("must be one of %s, %s, %s or none",
			kafka.MechanismSCRAMSHA512, kafka.MechanismSCRAMSHA256, kafka.MechanismPlain))
		return s
	}
	s.Username = r.Optional(KafkaSASLUsername)
	r.Check(s.Username != "", fmt.Sprintf("%s=%s needs %s", KafkaSASLMechanism.Name, s.Mechanism, KafkaSASLUsername.Name))
	// The password itself is never echoed, not even in an error.
	s.Password = kafka.Secret(r.Optional(KafkaSASLPassword))
	s.PasswordFile = r.OptionalFile(KafkaSASLPasswordFile)
	r.Check((s.Password == "") != (s.PasswordFile == ""),
		fmt.Sprintf("%s=%s needs exactly one of %s and %s", KafkaSASLMechanism.Name, s.Mechanism, KafkaSASLPassword.Name, KafkaSASLPasswordFile.Name))
	return s
}
