package deploy

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
)

// securedSets are the values that turn on each way to reach a secured Kafka, on
// top of the plaintext-Kafka values (plaintextValues).
var securedSets = map[string][]string{
	"SCRAM over TLS": {
		"kafka.brokers={streamgate-kafka-kafka-bootstrap:9093}",
		"kafka.tls.enabled=true", "kafka.tls.caSecret.name=streamgate-kafka-cluster-ca-cert",
		"kafka.sasl.mechanism=SCRAM-SHA-512", "kafka.sasl.username=streamgate-worker",
		"kafka.sasl.passwordSecret.name=streamgate-worker",
	},
	"mutual TLS": {
		"kafka.tls.enabled=true", "kafka.tls.caSecret.name=ca", "kafka.tls.caSecret.key=bundle.pem",
		"kafka.tls.clientCertSecret.name=svc-cert", "kafka.tls.serverName=kafka.example",
	},
	"TLS without verification": {"kafka.tls.enabled=true", "kafka.tls.insecureSkipVerify=true"},
}

// wantSecuredEnv is what each of securedSets must set, and nothing more of
// the security variables.
var wantSecuredEnv = map[string]map[string]string{
	"SCRAM over TLS": {
		"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CA_FILE": "/etc/streamgate/kafka/ca/ca.crt",
		"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "streamgate-worker",
		"KAFKA_SASL_PASSWORD_FILE": "/etc/streamgate/kafka/user/password",
	},
	"mutual TLS": {
		"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_CA_FILE": "/etc/streamgate/kafka/ca/ca.crt",
		"KAFKA_TLS_CERT_FILE": "/etc/streamgate/kafka/user/user.crt", "KAFKA_TLS_KEY_FILE": "/etc/streamgate/kafka/user/user.key",
		"KAFKA_TLS_SERVER_NAME": "kafka.example",
	},
	"TLS without verification": {"KAFKA_TLS_ENABLED": "true", "KAFKA_TLS_INSECURE_SKIP_VERIFY": "true"},
}

// securedDeployment is the part of a Deployment the security tests read.
type securedDeployment struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					VolumeMounts []struct {
						Name      string `json:"name"`
						MountPath string `json:"mountPath"`
						ReadOnly  bool   `json:"readOnly"`
						SubPath   string `json:"subPath"`
					} `json:"volumeMounts"`
				} `json:"containers"`
				Volumes []struct {
					Name   string `json:"name"`
					Secret *struct {
						SecretName string       `json:"secretName"`
						Items      []secretItem `json:"items"`
					} `json:"secret"`
					Projected *struct {
						Sources []struct {
							Secret *struct {
								Name  string       `json:"name"`
								Items []secretItem `json:"items"`
							} `json:"secret"`
						} `json:"sources"`
					} `json:"projected"`
				} `json:"volumes"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type secretItem struct {
	Key  string `json:"key"`
	Path string `json:"path"`
}

// mountedFiles maps each file a Deployment mounts from a Secret to
// "secret/key", following volumes, items and mount paths.
func mountedFiles(t *testing.T, d securedDeployment) map[string]string {
	t.Helper()
	byVolume := map[string]map[string]string{} // volume -> item path -> secret/key
	for _, v := range d.Spec.Template.Spec.Volumes {
		files := map[string]string{}
		if v.Secret != nil {
			for _, it := range v.Secret.Items {
				files[it.Path] = v.Secret.SecretName + "/" + it.Key
			}
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				for _, it := range src.Secret.Items {
					files[it.Path] = src.Secret.Name + "/" + it.Key
				}
			}
		}
		byVolume[v.Name] = files
	}
	mounted := map[string]string{}
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if !m.ReadOnly || m.SubPath != "" {
			t.Errorf("mount %s: want readOnly without subPath (subPath files never see a rotated Secret)", m.MountPath)
		}
		for p, src := range byVolume[m.Name] {
			mounted[path.Join(m.MountPath, p)] = src
		}
	}
	return mounted
}

// TestKafkaSecurityValues: each secured setup sets exactly its variables,
// every file variable names a file mounted from the right Secret key, and the
// result validates against the Kubernetes schemas. The plaintext-Kafka values
// set none and mount no Secret.
func TestKafkaSecurityValues(t *testing.T) {
	dir := t.TempDir()
	for _, c := range charts {
		t.Run(c.name+"/plaintext", func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, []string{plaintextValues}))
			env := envMap(onlyDeployment(t, objs).Spec.Template.Spec.Containers[0])
			for name := range env {
				if strings.HasPrefix(name, "KAFKA_TLS_") || strings.HasPrefix(name, "KAFKA_SASL_") {
					t.Errorf("the plaintext values set %s", name)
				}
			}
			var d securedDeployment
			decode(t, ofKind(objs, "Deployment")[0], &d)
			if files := mountedFiles(t, d); len(files) != 0 {
				t.Errorf("the plaintext values mount %v", files)
			}
		})
		for name, set := range securedSets {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				rendered := mustRender(t, c, []string{plaintextValues}, set...)
				objs := parseObjects(t, rendered)
				env := envMap(onlyDeployment(t, objs).Spec.Template.Spec.Containers[0])
				for k, v := range env {
					if (strings.HasPrefix(k, "KAFKA_TLS_") || strings.HasPrefix(k, "KAFKA_SASL_")) && wantSecuredEnv[name][k] == "" {
						t.Errorf("%s=%q is set, not wanted here", k, v)
					}
				}
				for k, want := range wantSecuredEnv[name] {
					if env[k] != want {
						t.Errorf("%s=%q, want %q", k, env[k], want)
					}
				}
				var d securedDeployment
				decode(t, ofKind(objs, "Deployment")[0], &d)
				files := mountedFiles(t, d)
				for _, k := range []string{"KAFKA_TLS_CA_FILE", "KAFKA_TLS_CERT_FILE", "KAFKA_TLS_KEY_FILE", "KAFKA_SASL_PASSWORD_FILE"} {
					if f, ok := env[k]; ok && files[f] == "" {
						t.Errorf("%s=%s is not a mounted file (mounted: %v)", k, f, files)
					}
				}
				if name == "mutual TLS" {
					if files["/etc/streamgate/kafka/ca/ca.crt"] != "ca/bundle.pem" ||
						files["/etc/streamgate/kafka/user/user.crt"] != "svc-cert/user.crt" ||
						files["/etc/streamgate/kafka/user/user.key"] != "svc-cert/user.key" {
						t.Errorf("mounted %v", files)
					}
				}
				p := writeFile(t, dir, c.name+"-"+strings.ReplaceAll(name, " ", "-")+".yaml", rendered)
				if v, out, ok := kubectlValidate(t, p); !ok {
					t.Fatalf("invalid:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
				}
			})
		}
	}
}

// TestChartSetsEverySecuritySetting: between them, the secured setups set
// every security variable the services read, but the password itself.
func TestChartSetsEverySecuritySetting(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			set := map[string]bool{}
			for _, values := range securedSets {
				for name := range envMap(onlyDeployment(t, parseObjects(t, mustRender(t, c, []string{plaintextValues}, values...))).Spec.Template.Spec.Containers[0]) {
					if slices.Contains(securityVars(), name) {
						set[name] = true
					}
				}
			}
			var got, want []string
			for name := range set {
				got = append(got, name)
			}
			for _, name := range securityVars() {
				if !slices.Contains(notSetByChart, name) {
					want = append(want, name)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("the chart can set %v\nthe services read %v (less %v)", got, want, notSetByChart)
			}
		})
	}
}

// TestValuesUseTheK8sUsers: the default and the production-like values reach
// the k8s/ Kafka on its TLS listener as the service's own KafkaUser, trusting
// the cluster CA Strimzi publishes: no install is a super user by default.
func TestValuesUseTheK8sUsers(t *testing.T) {
	s := strimziResources(t)
	var k kafkaSecurity
	decode(t, ofKind(s.objs, "Kafka")[0], &k)
	tls := k.Spec.Kafka.Listeners[slices.IndexFunc(k.Spec.Kafka.Listeners, func(l kafkaListener) bool { return l.TLS })]
	for _, c := range charts {
		for name, files := range map[string][]string{"default": nil, "production": {"ci/production-values.yaml"}} {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				objs := parseObjects(t, mustRender(t, c, files))
				env := envMap(onlyDeployment(t, objs).Spec.Template.Spec.Containers[0])
				user := "streamgate-" + c.name
				if !slices.ContainsFunc(ofKind(s.objs, "KafkaUser"), func(o object) bool { return o.Metadata.Name == user }) {
					t.Fatalf("k8s/ has no KafkaUser %s", user)
				}
				want := map[string]string{
					"KAFKA_BROKERS":        fmt.Sprintf("%s-kafka-bootstrap:%d", s.kafkaName, tls.Port),
					"KAFKA_TLS_ENABLED":    "true",
					"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
					"KAFKA_SASL_USERNAME":  user,
				}
				for k, v := range want {
					if env[k] != v {
						t.Errorf("%s=%q, want %q", k, env[k], v)
					}
				}
				var d securedDeployment
				decode(t, ofKind(objs, "Deployment")[0], &d)
				mounted := mountedFiles(t, d)
				if got := mounted[env["KAFKA_TLS_CA_FILE"]]; got != s.kafkaName+"-cluster-ca-cert/ca.crt" {
					t.Errorf("the CA file comes from %q, want the Strimzi cluster CA Secret", got)
				}
				if got := mounted[env["KAFKA_SASL_PASSWORD_FILE"]]; got != user+"/password" {
					t.Errorf("the password file comes from %q, want the KafkaUser's Secret %s/password", got, user)
				}
			})
		}
	}
}
