package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
)

func readSecurity(t *testing.T, env map[string]string) (kafka.Security, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	r := NewReader()
	s := r.KafkaSecurity()
	return s, r.Err()
}

func secretFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKafkaSecurityDefaultsToPlaintext(t *testing.T) {
	s, err := readSecurity(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.TLS.Enabled || s.SASL.Mechanism != "" {
		t.Fatalf("defaults = %+v", s)
	}
}

func TestKafkaSecurityStrimziSCRAM(t *testing.T) {
	ca, password := secretFile(t, "ca.crt"), secretFile(t, "password")
	s, err := readSecurity(t, map[string]string{
		"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CA_FILE": ca,
		"KAFKA_SASL_MECHANISM": "scram-sha-512", "KAFKA_SASL_USERNAME": "gateway", "KAFKA_SASL_PASSWORD_FILE": password,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !s.TLS.Enabled || s.TLS.CAFile != ca || s.SASL.Mechanism != kafka.MechanismSCRAMSHA512 ||
		s.SASL.Username != "gateway" || s.SASL.PasswordFile != password {
		t.Fatalf("settings = %+v", s)
	}
}

func TestKafkaSecurityStrimziMutualTLS(t *testing.T) {
	s, err := readSecurity(t, map[string]string{
		"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CA_FILE": secretFile(t, "ca.crt"),
		"KAFKA_TLS_CERT_FILE": secretFile(t, "user.crt"), "KAFKA_TLS_KEY_FILE": secretFile(t, "user.key"),
		"KAFKA_TLS_SERVER_NAME": "kafka.example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.TLS.CertFile == "" || s.TLS.KeyFile == "" || s.TLS.ServerName != "kafka.example.com" {
		t.Fatalf("settings = %+v", s)
	}
}

func TestKafkaSecurityMistakesStopStartUp(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope", "ca.crt")
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"certificate without key", map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CERT_FILE": secretFile(t, "user.crt")},
			"KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together"},
		{"missing file", map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CA_FILE": missing},
			`KAFKA_TLS_CA_FILE (value not shown, ` + fmt.Sprint(len(missing)) + ` characters): cannot open the file: no such file or directory`},
		{"a password in the _FILE variable", map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u",
			"KAFKA_SASL_PASSWORD_FILE": "hunter2"}, "KAFKA_SASL_PASSWORD_FILE (value not shown, 7 characters): cannot open the file"},
		{"a directory", map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CA_FILE": t.TempDir()},
			"is a directory"},
		{"TLS file without TLS", map[string]string{"KAFKA_TLS_CA_FILE": secretFile(t, "ca.crt")},
			"KAFKA_TLS_CA_FILE is set but KAFKA_TLS_ENABLED is false"},
		{"bad boolean", map[string]string{"KAFKA_TLS_ENABLED": "sometimes"}, `KAFKA_TLS_ENABLED="sometimes": must be true or false`},
		{"skip verify with a CA", map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_INSECURE_SKIP_VERIFY": "true",
			"KAFKA_TLS_CA_FILE": secretFile(t, "ca.crt")}, "contradict each other"},
		{"empty value", map[string]string{"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_SERVER_NAME": ""},
			`KAFKA_TLS_SERVER_NAME="": must not be empty when set`},
		{"unknown mechanism", map[string]string{"KAFKA_SASL_MECHANISM": "GSSAPI"},
			`KAFKA_SASL_MECHANISM="GSSAPI": must be one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN or none`},
		{"SASL without username", map[string]string{"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_PASSWORD": "hunter2"},
			"KAFKA_SASL_MECHANISM=SCRAM-SHA-512 needs KAFKA_SASL_USERNAME"},
		{"SASL without password", map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u"},
			"needs exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE"},
		{"two passwords", map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u",
			"KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_SASL_PASSWORD_FILE": secretFile(t, "password")},
			"needs exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE"},
		{"password without SASL", map[string]string{"KAFKA_SASL_PASSWORD": "hunter2"},
			"KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readSecurity(t, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error prints the password: %v", err)
			}
		})
	}
}
