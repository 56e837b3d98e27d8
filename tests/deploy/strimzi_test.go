package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

// strimzi is what k8s/ declares.
type strimzi struct {
	objs      []object
	kafka     kafkaCR
	kafkaName string
	bootstrap string // host:port of the internal listener's bootstrap Service
	topics    []string
}

type kafkaCR struct {
	Spec struct {
		Kafka struct {
			Version         string `json:"version"`
			MetadataVersion string `json:"metadataVersion"`
			Listeners       []struct {
				Name string `json:"name"`
				Port int    `json:"port"`
				Type string `json:"type"`
				TLS  bool   `json:"tls"`
			} `json:"listeners"`
			Config map[string]any `json:"config"`
		} `json:"kafka"`
		EntityOperator *struct {
			TopicOperator map[string]any `json:"topicOperator"`
		} `json:"entityOperator"`
	} `json:"spec"`
}

type nodePoolCR struct {
	Spec struct {
		Replicas int      `json:"replicas"`
		Roles    []string `json:"roles"`
		Storage  struct {
			Type string `json:"type"`
		} `json:"storage"`
	} `json:"spec"`
}

type topicCR struct {
	Spec struct {
		TopicName  string `json:"topicName"`
		Partitions int    `json:"partitions"`
		Replicas   int    `json:"replicas"`
	} `json:"spec"`
}

func strimziResources(t testing.TB) strimzi {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no k8s/*.yaml (%v)", err)
	}
	var s strimzi
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s.objs = append(s.objs, parseObjects(t, string(b))...)
	}
	kafkas := ofKind(s.objs, "Kafka")
	if len(kafkas) != 1 {
		t.Fatalf("k8s/ declares %d Kafka resources, want 1", len(kafkas))
	}
	s.kafkaName = kafkas[0].Metadata.Name
	decode(t, kafkas[0], &s.kafka)
	for _, l := range s.kafka.Spec.Kafka.Listeners {
		if l.Type == "internal" {
			s.bootstrap = fmt.Sprintf("%s-kafka-bootstrap:%d", s.kafkaName, l.Port)
		}
	}
	for _, o := range ofKind(s.objs, "KafkaTopic") {
		var tc topicCR
		decode(t, o, &tc)
		name := tc.Spec.TopicName
		if name == "" {
			name = o.Metadata.Name
		}
		s.topics = append(s.topics, name)
	}
	sort.Strings(s.topics)
	return s
}

// TestStrimziResourcesValidate: every resource in k8s/ validates against the
// Strimzi 1.2.0 CRD schemas from shared/.
func TestStrimziResourcesValidate(t *testing.T) {
	s := strimziResources(t)
	v, out, ok := kubectlValidate(t, filepath.Join(repoRoot(t), "k8s"))
	if !ok {
		t.Fatalf("kubectl-validate rejects k8s/:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
	}
	if v.documents() != len(s.objs) {
		t.Fatalf("kubectl-validate checked %d documents, k8s/ has %d", v.documents(), len(s.objs))
	}
	for _, o := range s.objs {
		if o.APIVersion != "kafka.strimzi.io/v1" {
			t.Errorf("%s %s: apiVersion %s, want kafka.strimzi.io/v1 (Strimzi 1.2.0 serves v1 only)", o.Kind, o.Metadata.Name, o.APIVersion)
		}
	}
}

// TestKafkaCluster: Kafka 4.3.1 in KRaft with metadata 4.3-IV0, one dual-role
// ephemeral node, one internal listener and the topic operator.
func TestKafkaCluster(t *testing.T) {
	s := strimziResources(t)
	k := s.kafka.Spec.Kafka
	if k.Version != "4.3.1" || k.MetadataVersion != "4.3-IV0" {
		t.Errorf("Kafka version %q metadataVersion %q, want 4.3.1 and 4.3-IV0", k.Version, k.MetadataVersion)
	}
	if len(k.Listeners) != 1 || s.bootstrap == "" {
		t.Errorf("listeners %+v, want one internal listener (TestKafkaSecuredListener: TLS with SCRAM)", k.Listeners)
	}
	if s.kafka.Spec.EntityOperator == nil || s.kafka.Spec.EntityOperator.TopicOperator == nil {
		t.Error("no topic operator: the KafkaTopics would not be created")
	}
	pools := ofKind(s.objs, "KafkaNodePool")
	if len(pools) != 1 {
		t.Fatalf("%d KafkaNodePools, want 1", len(pools))
	}
	if got := pools[0].Metadata.Labels["strimzi.io/cluster"]; got != s.kafkaName {
		t.Errorf("node pool strimzi.io/cluster=%q, want %q", got, s.kafkaName)
	}
	var np nodePoolCR
	decode(t, pools[0], &np)
	roles := slices.Clone(np.Spec.Roles)
	sort.Strings(roles)
	if np.Spec.Replicas != 1 || !slices.Equal(roles, []string{"broker", "controller"}) || np.Spec.Storage.Type != "ephemeral" {
		t.Errorf("node pool %+v: want 1 replica, roles broker+controller, ephemeral storage", np.Spec)
	}
	// One broker: nothing may ask for more replicas than there are.
	for _, key := range []string{"offsets.topic.replication.factor", "transaction.state.log.replication.factor",
		"transaction.state.log.min.isr", "default.replication.factor", "min.insync.replicas"} {
		if v, ok := k.Config[key].(float64); !ok || int(v) != np.Spec.Replicas {
			t.Errorf("Kafka config %s = %v, want %d with %d broker(s)", key, k.Config[key], np.Spec.Replicas, np.Spec.Replicas)
		}
	}
}

// TestTopicsAreTheServicesDefaults: the KafkaTopics are exactly the topics
// the services use by default (pkg/messages), bound to the Kafka of k8s/.
func TestTopicsAreTheServicesDefaults(t *testing.T) {
	s := strimziResources(t)
	want := []string{messages.TopicIn, messages.TopicOut, messages.TopicDeadLetter, messages.ReplyTopic(messages.TopicIn)}
	sort.Strings(want)
	if !slices.Equal(s.topics, want) {
		t.Fatalf("k8s/ KafkaTopics %v, the services use %v", s.topics, want)
	}
	for _, o := range ofKind(s.objs, "KafkaTopic") {
		if got := o.Metadata.Labels["strimzi.io/cluster"]; got != s.kafkaName {
			t.Errorf("KafkaTopic %s: strimzi.io/cluster=%q, want %q", o.Metadata.Name, got, s.kafkaName)
		}
		var tc topicCR
		decode(t, o, &tc)
		if tc.Spec.Replicas != 1 || tc.Spec.Partitions < 1 {
			t.Errorf("KafkaTopic %s: replicas %d partitions %d: one broker allows one replica", o.Metadata.Name, tc.Spec.Replicas, tc.Spec.Partitions)
		}
	}
}

// TestNetworkPolicyEgressReachesKafka: with NetworkPolicy on, the default
// egress peer selects the broker pods of the k8s/ Kafka on the port of the
// listener kafka.brokers names: the policy follows the listener.
func TestNetworkPolicyEgressReachesKafka(t *testing.T) {
	s := strimziResources(t)
	for _, c := range charts {
		for _, l := range s.kafka.Spec.Kafka.Listeners {
			t.Run(c.name+"/"+l.Name, func(t *testing.T) {
				brokers := fmt.Sprintf("kafka.brokers={%s-kafka-bootstrap:%d}", s.kafkaName, l.Port)
				objs := parseObjects(t, mustRender(t, c, nil, "networkPolicy.enabled=true", brokers))
				nps := ofKind(objs, "NetworkPolicy")
				if len(nps) != 1 {
					t.Fatalf("%d NetworkPolicies, want 1", len(nps))
				}
				var np networkPolicy
				decode(t, nps[0], &np)
				checkNetworkPolicy(t, c, np, s.kafkaName, l.Port)
			})
		}
	}
}

type networkPolicy struct {
	Spec struct {
		PolicyTypes []string `json:"policyTypes"`
		Ingress     []struct {
			From  []map[string]any `json:"from"`
			Ports []npPort         `json:"ports"`
		} `json:"ingress"`
		Egress []struct {
			To    []npPeer `json:"to"`
			Ports []npPort `json:"ports"`
		} `json:"egress"`
	} `json:"spec"`
}

type npPort struct {
	Port     any    `json:"port"`
	Protocol string `json:"protocol"`
}

type npPeer struct {
	PodSelector *struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"podSelector"`
	NamespaceSelector *struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"namespaceSelector"`
	IPBlock map[string]any `json:"ipBlock"`
}

func checkNetworkPolicy(t *testing.T, c chart, np networkPolicy, kafkaName string, kafkaPort int) {
	t.Helper()
	types := slices.Clone(np.Spec.PolicyTypes)
	sort.Strings(types)
	if !slices.Equal(types, []string{"Egress", "Ingress"}) {
		t.Errorf("policyTypes %v, want Ingress and Egress", np.Spec.PolicyTypes)
	}
	// Ingress: the service's port (probes for the worker), and the metrics
	// port from the monitoring peers only.
	if len(np.Spec.Ingress) != 2 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port != c.portName ||
		len(np.Spec.Ingress[1].Ports) != 1 || np.Spec.Ingress[1].Ports[0].Port != "metrics" {
		t.Errorf("ingress %+v, want one rule on port %q and one on metrics", np.Spec.Ingress, c.portName)
	} else if len(np.Spec.Ingress[1].From) == 0 {
		t.Error("the metrics port is open to every source")
	}
	// Egress: the Kafka brokers, and DNS; nothing else.
	if len(np.Spec.Egress) < 2 {
		t.Fatalf("egress has %d rules, want 2 (Kafka, DNS): %+v", len(np.Spec.Egress), np.Spec.Egress)
	}
	kafka, dns := np.Spec.Egress[0], np.Spec.Egress[1]
	if len(kafka.Ports) != 1 || kafka.Ports[0].Port != float64(kafkaPort) {
		t.Errorf("Kafka egress ports %+v, want %d", kafka.Ports, kafkaPort)
	}
	if len(kafka.To) == 0 || kafka.To[0].PodSelector == nil ||
		kafka.To[0].PodSelector.MatchLabels["strimzi.io/cluster"] != kafkaName {
		t.Errorf("Kafka egress peers %+v do not select the pods of Kafka %q", kafka.To, kafkaName)
	}
	for _, p := range dns.Ports {
		if p.Port != float64(53) {
			t.Errorf("DNS egress port %v, want 53", p.Port)
		}
	}
	if len(dns.To) == 0 {
		t.Error("DNS egress allows every destination")
	}
}

// TestNetworkPolicyOnByDefault: the charts' default values render their
// NetworkPolicy, its egress on the k8s/ Kafka's listener port; the
// plaintext-Kafka values keep it, open to any address on the brokers' ports.
func TestNetworkPolicyOnByDefault(t *testing.T) {
	s := strimziResources(t)
	port := s.kafka.Spec.Kafka.Listeners[0].Port
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			nps := ofKind(parseObjects(t, mustRender(t, c, nil)), "NetworkPolicy")
			if len(nps) != 1 {
				t.Fatalf("default values: %d NetworkPolicies, want 1", len(nps))
			}
			var np networkPolicy
			decode(t, nps[0], &np)
			checkNetworkPolicy(t, c, np, s.kafkaName, port)

			nps = ofKind(parseObjects(t, mustRender(t, c, []string{plaintextValues}, "kafka.brokers={k1.example:9092}")), "NetworkPolicy")
			if len(nps) != 1 {
				t.Fatalf("plaintext values: %d NetworkPolicies, want 1", len(nps))
			}
			decode(t, nps[0], &np)
			kafka := np.Spec.Egress[0]
			if len(kafka.Ports) != 1 || kafka.Ports[0].Port != float64(9092) || len(kafka.To) == 0 || kafka.To[0].IPBlock["cidr"] != "0.0.0.0/0" {
				t.Errorf("plaintext values: Kafka egress %+v, want any address on 9092 only", kafka)
			}
		})
	}
}

// TestTopicsNeedNoOperatorToDelete: the topic operator puts no finalizer on
// the KafkaTopics, so deleting them never waits for an operator that
// `skaffold delete` may already have removed (they would stay Terminating).
func TestTopicsNeedNoOperatorToDelete(t *testing.T) {
	s := strimziResources(t)
	var k struct {
		Spec struct {
			EntityOperator struct {
				Template struct {
					TopicOperatorContainer struct {
						Env []struct {
							Name  string `json:"name"`
							Value string `json:"value"`
						} `json:"env"`
					} `json:"topicOperatorContainer"`
				} `json:"template"`
			} `json:"entityOperator"`
		} `json:"spec"`
	}
	decode(t, ofKind(s.objs, "Kafka")[0], &k)
	for _, e := range k.Spec.EntityOperator.Template.TopicOperatorContainer.Env {
		if e.Name == "STRIMZI_USE_FINALIZERS" && e.Value == "false" {
			return
		}
	}
	t.Fatalf("the topic operator adds finalizers (env %+v): set STRIMZI_USE_FINALIZERS=false", k.Spec.EntityOperator.Template.TopicOperatorContainer.Env)
}
