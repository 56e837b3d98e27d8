package deploy

import (
	"fmt"
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
			Parameter     string `json:"parameter"`
			Name          string `json:"name"`
			ContainerName string `json:"containerName"`
		} `json:"env"`
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// TestKEDAScalesOnTheWorkersLag: the ScaledObject scales the worker's
// Deployment on the lag of the group, topic and brokers the worker itself
// uses, with the worker's own credentials when the cluster is secured, and
// validates against the KEDA CRDs.
func TestKEDAScalesOnTheWorkersLag(t *testing.T) {
	worker := charts[1]
	dir := t.TempDir()
	for name, set := range map[string][]string{
		"plaintext":      nil,
		"SCRAM over TLS": securedSets["SCRAM over TLS"],
		"mutual TLS":     securedSets["mutual TLS"],
	} {
		t.Run(name, func(t *testing.T) {
			rendered := mustRender(t, worker, nil, append([]string{"keda.enabled=true", "keda.maxReplicas=3"}, set...)...)
			p := writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".yaml", rendered)
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
			if name == "plaintext" {
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
			params := map[string]string{}
			for _, e := range ta.Spec.Env {
				if e.ContainerName != worker.container {
					t.Errorf("env %s from container %q", e.Name, e.ContainerName)
				}
				params[e.Parameter] = "env:" + env[e.Name]
			}
			for _, s := range ta.Spec.SecretTargetRef {
				params[s.Parameter] = s.Name + "/" + s.Key
			}
			want := map[string]string{"ca": "streamgate-kafka-cluster-ca-cert/ca.crt", "username": "env:streamgate-worker",
				"password": "streamgate-worker/password"}
			if name == "mutual TLS" {
				want = map[string]string{"ca": "ca/bundle.pem", "cert": "svc-cert/user.crt", "key": "svc-cert/user.key"}
			} else if tr.Metadata["sasl"] != "scram_sha512" {
				t.Errorf("sasl=%q, want scram_sha512", tr.Metadata["sasl"])
			}
			if fmt.Sprint(params) != fmt.Sprint(want) {
				t.Errorf("TriggerAuthentication gives %v, want %v", params, want)
			}
		})
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
