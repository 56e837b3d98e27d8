package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
	"sigs.k8s.io/yaml"
)

type scaledObject struct {
	Spec struct {
		ScaleTargetRef struct {
			Name string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount int `json:"minReplicaCount"`
		MaxReplicaCount int `json:"maxReplicaCount"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef"`
		} `json:"triggers"`
	} `json:"spec"`
}

type triggerAuthentication struct {
	Spec struct {
		Env []struct {
			Parameter string `json:"parameter"`
		} `json:"env"`
		SecretTargetRef    []targetRef `json:"secretTargetRef"`
		ConfigMapTargetRef []targetRef `json:"configMapTargetRef"`
	} `json:"spec"`
}

type targetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// TestKEDAScalesOnTheWorkersLag: the ScaledObject scales the worker's
// Deployment on the lag of the group, topic and brokers the worker itself
// uses; on a secured cluster with credentials of its own (keda.auth: by
// default the KafkaUser streamgate-keda, Describe only), never the worker's;
// everything validates against the KEDA v2.20.2 CRDs.
func TestKEDAScalesOnTheWorkersLag(t *testing.T) {
	worker := charts[1]
	dir := t.TempDir()
	keda := []string{"keda.enabled=true", "keda.maxReplicas=3"}
	for name, tc := range map[string]struct {
		files []string
		set   []string
		want  map[string]string // TriggerAuthentication parameter -> Secret or ConfigMap name/key
	}{
		"plaintext": {files: []string{plaintextValues}},
		"default: SCRAM over TLS": {want: map[string]string{"ca": "streamgate-kafka-cluster-ca-cert/ca.crt",
			"username": "configmap worker-keda/username", "password": "streamgate-keda/password"}},
		"mutual TLS": {files: []string{plaintextValues}, set: append([]string{"keda.auth.clientCertSecret.name=keda-cert"}, securedSets["mutual TLS"]...),
			want: map[string]string{"ca": "ca/bundle.pem", "cert": "keda-cert/user.crt", "key": "keda-cert/user.key"}},
	} {
		t.Run(name, func(t *testing.T) {
			rendered := mustRender(t, worker, tc.files, append(slices.Clone(keda), tc.set...)...)
			p := writeFile(t, dir, strings.NewReplacer(" ", "-", ":", "").Replace(name)+".yaml", rendered)
			if v, out, ok := kubectlValidate(t, p); !ok {
				t.Fatalf("invalid:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
			}
			objs := parseObjects(t, rendered)
			d := onlyDeployment(t, objs)
			if d.Spec.Replicas != nil {
				t.Errorf("with KEDA on, the Deployment sets replicas %d", *d.Spec.Replicas)
			}
			env := envMap(d.Spec.Template.Spec.Containers[0])
			var so scaledObject
			decode(t, ofKind(objs, "ScaledObject")[0], &so)
			if so.Spec.ScaleTargetRef.Name != "worker" || so.Spec.MaxReplicaCount != 3 || len(so.Spec.Triggers) != 1 {
				t.Fatalf("ScaledObject %+v", so.Spec)
			}
			tr := so.Spec.Triggers[0]
			for k, want := range map[string]string{
				"bootstrapServers": env["KAFKA_BROKERS"], "consumerGroup": env["KAFKA_GROUP_ID"],
				"topic": env["KAFKA_IN_TOPIC"], "allowIdleConsumers": "false",
			} {
				if tr.Type != "kafka" || tr.Metadata[k] != want {
					t.Errorf("trigger %s %s=%q, want %q", tr.Type, k, tr.Metadata[k], want)
				}
			}
			auths := ofKind(objs, "TriggerAuthentication")
			if tc.want == nil {
				if len(auths) != 0 || tr.AuthenticationRef != nil || tr.Metadata["tls"] != "" || tr.Metadata["sasl"] != "" {
					t.Errorf("plaintext: no credentials wanted, got %d TriggerAuthentications, %+v", len(auths), tr)
				}
				return
			}
			if len(auths) != 1 || tr.AuthenticationRef == nil || tr.AuthenticationRef.Name != auths[0].Metadata.Name {
				t.Fatalf("the trigger must reference the one TriggerAuthentication: %+v", tr.AuthenticationRef)
			}
			if tr.Metadata["tls"] != "enable" {
				t.Errorf("tls=%q, want enable", tr.Metadata["tls"])
			}
			var ta triggerAuthentication
			decode(t, auths[0], &ta)
			if len(ta.Spec.Env) != 0 {
				t.Errorf("the scaler reads %+v from the worker's container", ta.Spec.Env)
			}
			params := map[string]string{}
			for _, s := range ta.Spec.SecretTargetRef {
				params[s.Parameter] = s.Name + "/" + s.Key
			}
			for _, c := range ta.Spec.ConfigMapTargetRef {
				params[c.Parameter] = "configmap " + c.Name + "/" + c.Key
				var cm struct {
					Data map[string]string `json:"data"`
				}
				decode(t, named(t, objs, "ConfigMap", c.Name), &cm)
				if cm.Data[c.Key] != "streamgate-keda" {
					t.Errorf("ConfigMap %s %s=%q, want the KafkaUser streamgate-keda", c.Name, c.Key, cm.Data[c.Key])
				}
			}
			if tc.want["username"] != "" && tr.Metadata["sasl"] != "scram_sha512" {
				t.Errorf("sasl=%q, want scram_sha512", tr.Metadata["sasl"])
			}
			if fmt.Sprint(params) != fmt.Sprint(tc.want) {
				t.Errorf("TriggerAuthentication gives %v, want %v", params, tc.want)
			}
		})
	}
}

// TestKEDANeverGetsTheWorkersCredentials: on a secured cluster without
// credentials for the scaler the chart refuses to render, rather than hand
// KEDA the worker's; the default scaler user is the k8s/ KafkaUser whose
// Secret the TriggerAuthentication names.
func TestKEDANeverGetsTheWorkersCredentials(t *testing.T) {
	worker := charts[1]
	for name, tc := range map[string]struct {
		files []string
		set   []string
		want  string
	}{
		"SASL without the scaler's user":              {set: []string{"keda.auth.sasl.username="}, want: "keda.auth.sasl.username and keda.auth.sasl.passwordSecret.name"},
		"SASL without the scaler's password":          {set: []string{"keda.auth.sasl.passwordSecret.name="}, want: "keda.auth.sasl.username and keda.auth.sasl.passwordSecret.name"},
		"mutual TLS without the scaler's certificate": {files: []string{plaintextValues}, set: securedSets["mutual TLS"], want: "keda.auth.clientCertSecret.name"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := helmTemplate(t, worker, tc.files, append([]string{"keda.enabled=true"}, tc.set...)...)
			if err == nil || !strings.Contains(out, tc.want) || !strings.Contains(out, "never gets the worker's") {
				t.Fatalf("rendered (%v), want a refusal naming %s:\n%s", err, tc.want, out)
			}
		})
	}
	var values struct {
		Keda struct {
			Auth struct {
				SASL struct {
					Username       string `json:"username"`
					PasswordSecret struct {
						Name string `json:"name"`
					} `json:"passwordSecret"`
				} `json:"sasl"`
			} `json:"auth"`
		} `json:"keda"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "charts/worker/values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	user := values.Keda.Auth.SASL
	if user.Username == "" || user.PasswordSecret.Name != user.Username {
		t.Errorf("keda.auth.sasl %+v: want a KafkaUser and its Secret (named after it)", user)
	}
	if !slices.ContainsFunc(ofKind(strimziResources(t).objs, "KafkaUser"), func(o object) bool { return o.Metadata.Name == user.Username }) {
		t.Errorf("k8s/ has no KafkaUser %s for KEDA", user.Username)
	}
}

// TestKEDANeverMoreWorkersThanPartitions: maxReplicas above the in-topic's
// partition count is refused (the extra consumers would idle), and the
// default partition count is the k8s/ in-topic's.
func TestKEDANeverMoreWorkersThanPartitions(t *testing.T) {
	worker := charts[1]
	out, err := helmTemplate(t, worker, nil, "keda.enabled=true", "keda.maxReplicas=4")
	if err == nil || !strings.Contains(out, "keda.maxReplicas (4) must not exceed kafka.inTopicPartitions (3)") {
		t.Errorf("maxReplicas 4 over 3 partitions: %v\n%s", err, out)
	}
	out, err = helmTemplate(t, worker, nil, "keda.enabled=true", "keda.minReplicas=3", "keda.maxReplicas=2")
	if err == nil || !strings.Contains(out, "keda.minReplicas (3) must not exceed keda.maxReplicas (2)") {
		t.Errorf("minReplicas above maxReplicas: %v\n%s", err, out)
	}
	mustRender(t, worker, nil, "keda.enabled=true", "keda.maxReplicas=6", "kafka.inTopicPartitions=6")

	var values struct {
		Kafka struct {
			InTopicPartitions int `json:"inTopicPartitions"`
		} `json:"kafka"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "charts/worker/values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	s := strimziResources(t)
	for _, o := range ofKind(s.objs, "KafkaTopic") {
		var tc topicCR
		decode(t, o, &tc)
		if o.Metadata.Name == messages.TopicIn && tc.Spec.Partitions != values.Kafka.InTopicPartitions {
			t.Errorf("k8s/ %s has %d partitions; the worker chart's kafka.inTopicPartitions default is %d",
				o.Metadata.Name, tc.Spec.Partitions, values.Kafka.InTopicPartitions)
		}
	}
}

// TestKEDATriggerPerRoutedTopic: keda.topics gives one Kafka trigger per topic
// the worker's routes consume, each on the worker's group, brokers and lag
// threshold, with the scaler's own credentials; the default is the in-topic
// alone. A topic listed twice, or a name Kafka refuses, is refused by the
// values schema.
func TestKEDATriggerPerRoutedTopic(t *testing.T) {
	worker := charts[1]
	routed := []string{"in-topic", "orders", "orders.retry"}
	rendered := mustRender(t, worker, nil, "keda.enabled=true", "keda.topics={"+strings.Join(routed, ",")+"}")
	if v, out, ok := kubectlValidate(t, writeFile(t, t.TempDir(), "keda-topics.yaml", rendered)); !ok {
		t.Fatalf("invalid:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
	}
	objs := parseObjects(t, rendered)
	env := envMap(onlyDeployment(t, objs).Spec.Template.Spec.Containers[0])
	var so scaledObject
	decode(t, ofKind(objs, "ScaledObject")[0], &so)
	auth := ofKind(objs, "TriggerAuthentication")
	if len(so.Spec.Triggers) != len(routed) || len(auth) != 1 {
		t.Fatalf("%d triggers and %d TriggerAuthentications, want %d and 1", len(so.Spec.Triggers), len(auth), len(routed))
	}
	for i, tr := range so.Spec.Triggers {
		for k, want := range map[string]string{
			"topic": routed[i], "bootstrapServers": env["KAFKA_BROKERS"], "consumerGroup": env["KAFKA_GROUP_ID"],
			"lagThreshold": "100", "allowIdleConsumers": "false", "sasl": "scram_sha512", "tls": "enable",
		} {
			if tr.Type != "kafka" || tr.Metadata[k] != want {
				t.Errorf("trigger %d (%s) %s=%q, want %q", i, tr.Type, k, tr.Metadata[k], want)
			}
		}
		if tr.AuthenticationRef == nil || tr.AuthenticationRef.Name != auth[0].Metadata.Name {
			t.Errorf("trigger %d does not use the scaler's TriggerAuthentication: %+v", i, tr.AuthenticationRef)
		}
	}

	var byDefault scaledObject
	decode(t, ofKind(parseObjects(t, mustRender(t, worker, nil, "keda.enabled=true", "kafka.topics.in=requests")), "ScaledObject")[0], &byDefault)
	if len(byDefault.Spec.Triggers) != 1 || byDefault.Spec.Triggers[0].Metadata["topic"] != "requests" {
		t.Errorf("without keda.topics: triggers %+v, want one on kafka.topics.in", byDefault.Spec.Triggers)
	}
	for _, set := range []string{"keda.topics={orders,orders}", "keda.topics={orders\\,results}", "keda.topics={or ders}"} {
		if out, err := helmTemplate(t, worker, nil, "keda.enabled=true", set); err == nil || !strings.Contains(out, "/keda/topics") {
			t.Errorf("--set %s rendered (%v), want the schema's refusal at /keda/topics:\n%s", set, err, out)
		}
	}
}
