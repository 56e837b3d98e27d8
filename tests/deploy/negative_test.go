package deploy

import (
	"path/filepath"
	"strings"
	"testing"
)

// mutate replaces old with new in s exactly once, so a broken copy is broken
// where the test says it is.
func mutate(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q occurs %d times in the manifest, want exactly once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// onlyDoc returns the one YAML document of stream whose kind is kind.
func onlyDoc(t *testing.T, stream, kind string) string {
	t.Helper()
	var found []string
	for _, doc := range docSeparator.Split(stream, -1) {
		if strings.Contains(doc, "\nkind: "+kind+"\n") || strings.HasPrefix(strings.TrimLeft(doc, "\n"), "kind: "+kind+"\n") {
			found = append(found, doc)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s documents, want 1", len(found), kind)
	}
	return found[0]
}

// TestBrokenManifestsFailValidation is the proof that validation has teeth:
// each deliberately broken copy of a real manifest must be rejected, naming
// the broken field, while the unbroken original passes.
func TestBrokenManifestsFailValidation(t *testing.T) {
	gateway := mustRender(t, charts[0], nil)
	deploymentDoc := onlyDoc(t, gateway, "Deployment")
	serviceDoc := onlyDoc(t, mustRender(t, charts[0], nil, "metrics.service.enabled=false"), "Service")
	topics := readFile(t, "k8s/topics.yaml")
	kafka := readFile(t, "k8s/kafka.yaml")
	inTopic := ""
	for _, doc := range docSeparator.Split(topics, -1) {
		if strings.Contains(doc, "name: in-topic\n") {
			inTopic = doc
		}
	}
	if inTopic == "" {
		t.Fatal("k8s/topics.yaml has no in-topic document")
	}

	cases := []struct {
		name      string
		original  string
		old, new  string
		wantField string
	}{
		{
			name:     "Deployment replicas is a string",
			original: deploymentDoc, old: "  replicas: 1\n", new: "  replicas: \"three\"\n",
			wantField: "spec.replicas",
		},
		{
			name:     "Deployment pod spec field misspelled",
			original: deploymentDoc, old: "      containers:\n", new: "      containerz:\n",
			wantField: "containerz",
		},
		{
			name:     "Deployment container port is not a number",
			original: deploymentDoc, old: "containerPort: 8080", new: "containerPort: eighty",
			wantField: "containerPort",
		},
		{
			name:     "Service port is a string",
			original: serviceDoc, old: "      port: 8080\n", new: "      port: \"8080\"\n",
			wantField: "port",
		},
		{
			name:     "KafkaTopic spec.partitions misspelled",
			original: inTopic, old: "  partitions: 3\n", new: "  partitons: 3\n",
			wantField: "spec.partitons",
		},
		{
			name:     "KafkaTopic replicas is a string",
			original: inTopic, old: "  replicas: 1\n", new: "  replicas: one\n",
			wantField: "spec.replicas",
		},
		{
			name:     "Kafka listener tls is not a boolean",
			original: kafka, old: "        tls: true\n", new: "        tls: \"no\"\n",
			wantField: "tls",
		},
		{
			name:     "KafkaNodePool role unknown",
			original: kafka, old: "    - controller\n", new: "    - zookeeper\n",
			wantField: "spec.roles",
		},
	}
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good := writeFile(t, dir, "good"+string(rune('a'+i))+".yaml", tc.original)
			if v, out, ok := kubectlValidate(t, good); !ok {
				t.Fatalf("the unbroken original must pass first:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
			}
			bad := writeFile(t, dir, "bad"+string(rune('a'+i))+".yaml", mutate(t, tc.original, tc.old, tc.new))
			v, out, ok := kubectlValidate(t, bad)
			if ok {
				t.Fatalf("kubectl-validate accepted the broken manifest:\n%s", out)
			}
			msgs := strings.Join(v.failures(), "\n")
			if !strings.Contains(msgs, tc.wantField) {
				t.Fatalf("rejected, but not for %s:\n%s", tc.wantField, msgs)
			}
			t.Logf("rejected as expected: %s", msgs)
		})
	}
}

// TestValuesSchemaRejectsWrongValues: values.schema.json (and the chart's own
// checks, e.g. Kafka security settings the services would refuse at
// start-up) stop `helm template`/`helm install` with a message that names
// the value, before anything reaches a cluster.
func TestValuesSchemaRejectsWrongValues(t *testing.T) {
	cases := []struct {
		name string
		set  []string
		want []string // all must appear in helm's error
		// onPlaintext renders on top of the plaintext-Kafka values rather than the
		// defaults (which are TLS with SCRAM).
		onPlaintext bool
	}{
		{"replicaCount is not a number", []string{"replicaCount=abc"}, []string{"replicaCount", "got string, want integer"}, false},
		{"replicaCount is negative", []string{"replicaCount=-1"}, []string{"replicaCount", "minimum"}, false},
		{"image tag latest", []string{"image.tag=latest"}, []string{"image", "tag"}, false},
		{"unknown log level", []string{"logLevel=verbose"}, []string{"logLevel", "must be one of"}, false},
		{"brokers without a port", []string{"kafka.brokers=kafka"}, []string{"kafka", "brokers"}, false},
		{"a listed broker without a port", []string{"kafka.brokers={k1:9092,kafka}"}, []string{"/kafka/brokers/1", "does not match pattern"}, false},
		{"no broker", []string{"kafka.brokers={}"}, []string{"/kafka/brokers"}, false},
		{"unknown PDB eviction policy", []string{"podDisruptionBudget.unhealthyPodEvictionPolicy=Never"}, []string{"unhealthyPodEvictionPolicy", "must be one of"}, false},
		{"misspelled top-level value", []string{"replicaCont=2"}, []string{"replicaCont"}, false},
		{"privilege escalation", []string{"securityContext.allowPrivilegeEscalation=true"}, []string{"allowPrivilegeEscalation"}, false},
		{"grace not above shutdown timeout", []string{"terminationGracePeriodSeconds=15"},
			[]string{"terminationGracePeriodSeconds (15) must be greater than", "shutdownTimeoutSeconds"}, false},
		// Kafka security: what the services would refuse at start-up.
		{"CA without TLS", []string{"kafka.tls.caSecret.name=ca"}, []string{"kafka.tls.caSecret.name is set but kafka.tls.enabled is false"}, true},
		{"client certificate without TLS", []string{"kafka.tls.clientCertSecret.name=c"}, []string{"kafka.tls.clientCertSecret.name is set but kafka.tls.enabled is false"}, true},
		{"TLS turned off, the default CA kept", []string{"kafka.tls.enabled=false"}, []string{"kafka.tls.caSecret.name is set but kafka.tls.enabled is false"}, false},
		{"certificate without its key", []string{"kafka.tls.enabled=true", "kafka.tls.clientCertSecret.name=c", "kafka.tls.clientCertSecret.keyKey="}, []string{"keyKey"}, false},
		{"skip verify with a CA", []string{"kafka.tls.enabled=true", "kafka.tls.caSecret.name=ca", "kafka.tls.insecureSkipVerify=true"}, []string{"contradict each other"}, false},
		{"mechanism without user", []string{"kafka.sasl.mechanism=SCRAM-SHA-512", "kafka.sasl.passwordSecret.name=p"}, []string{"kafka.sasl.mechanism=SCRAM-SHA-512 needs kafka.sasl.username"}, true},
		{"mechanism without password", []string{"kafka.sasl.mechanism=PLAIN", "kafka.sasl.username=u"}, []string{"needs kafka.sasl.passwordSecret.name"}, true},
		{"user without mechanism", []string{"kafka.sasl.username=u"}, []string{"need kafka.sasl.mechanism"}, true},
		{"default user without its password", []string{"kafka.sasl.passwordSecret.name="}, []string{"needs kafka.sasl.passwordSecret.name"}, false},
		{"unknown mechanism", []string{"kafka.sasl.mechanism=GSSAPI"}, []string{"/kafka/sasl/mechanism"}, false},
		{"secret name not a DNS name", []string{"kafka.tls.enabled=true", "kafka.tls.caSecret.name=My_CA"}, []string{"/kafka/tls/caSecret/name"}, false},
	}
	for _, c := range charts {
		for _, tc := range cases {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				var files []string
				if tc.onPlaintext {
					files = []string{plaintextValues}
				}
				out, err := helmTemplate(t, c, files, tc.set...)
				if err == nil {
					t.Fatalf("helm template --set %v succeeded; the chart must refuse it", tc.set)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("helm's error does not mention %q:\n%s", w, out)
					}
				}
			})
		}
	}
}

// TestValuesSchemaRejectsOnLintToo: helm lint --strict fails on a wrong type
// as well (lint is what CI of a chart repository runs).
func TestValuesSchemaRejectsOnLintToo(t *testing.T) {
	for _, c := range charts {
		out, err := helm(t, "lint", "--strict", filepath.Join("charts", c.name), "--set", "replicaCount=abc")
		if err == nil {
			t.Fatalf("helm lint --strict %s --set replicaCount=abc passed:\n%s", c.name, out)
		}
		if !strings.Contains(out, "replicaCount") {
			t.Errorf("lint error does not name replicaCount:\n%s", out)
		}
	}
}
