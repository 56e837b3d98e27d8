package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// kafkaListener is one listener of the k8s/ Kafka, as the security tests read it.
type kafkaListener struct {
	Name           string `json:"name"`
	Port           int    `json:"port"`
	Type           string `json:"type"`
	TLS            bool   `json:"tls"`
	Authentication *struct {
		Type string `json:"type"`
	} `json:"authentication"`
	NetworkPolicyPeers []npPeer `json:"networkPolicyPeers"`
}

type kafkaSecurity struct {
	Spec struct {
		Kafka struct {
			Listeners     []kafkaListener `json:"listeners"`
			Authorization *struct {
				Type       string   `json:"type"`
				SuperUsers []string `json:"superUsers"`
			} `json:"authorization"`
		} `json:"kafka"`
		EntityOperator struct {
			UserOperator map[string]any `json:"userOperator"`
		} `json:"entityOperator"`
	} `json:"spec"`
}

// TestKafkaSecuredListener: the k8s/ Kafka has a TLS listener on 9093 with
// SCRAM-SHA-512, simple authorization without super users and a User Operator;
// no listener admits a client without authentication; every listener is
// reachable only from the streamgate pods (Strimzi makes the NetworkPolicy).
func TestKafkaSecuredListener(t *testing.T) {
	s := strimziResources(t)
	var k kafkaSecurity
	decode(t, ofKind(s.objs, "Kafka")[0], &k)
	i := slices.IndexFunc(k.Spec.Kafka.Listeners, func(l kafkaListener) bool { return l.TLS })
	if i < 0 {
		t.Fatal("no TLS listener")
	}
	tls := k.Spec.Kafka.Listeners[i]
	if tls.Port != 9093 || tls.Type != "internal" || tls.Authentication == nil || tls.Authentication.Type != "scram-sha-512" {
		t.Errorf("TLS listener %+v, want internal on 9093 with scram-sha-512", tls)
	}
	if a := k.Spec.Kafka.Authorization; a == nil || a.Type != "simple" {
		t.Errorf("authorization %+v, want simple", a)
	} else if len(a.SuperUsers) != 0 {
		// No client may bypass its ACLs (issue 16).
		t.Errorf("superUsers %v, want none", a.SuperUsers)
	}
	if k.Spec.EntityOperator.UserOperator == nil {
		t.Error("no user operator: the KafkaUsers would get no credentials")
	}
	podLabels := onlyDeployment(t, parseObjects(t, mustRender(t, charts[0], nil))).Spec.Template.Metadata.Labels
	for _, l := range k.Spec.Kafka.Listeners {
		if l.Authentication == nil {
			t.Errorf("listener %s admits clients without authentication (User:ANONYMOUS)", l.Name)
		}
		ok := false
		for _, p := range l.NetworkPolicyPeers {
			if p.PodSelector != nil && selects(p.PodSelector.MatchLabels, podLabels) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("listener %s: networkPolicyPeers %+v do not admit the chart's pods %v (or admit everyone)", l.Name, l.NetworkPolicyPeers, podLabels)
		}
		// KEDA's Kafka scaler reads the group's lag from its own namespace.
		if !slices.ContainsFunc(l.NetworkPolicyPeers, func(p npPeer) bool {
			return p.NamespaceSelector != nil && p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "keda" && p.PodSelector != nil
		}) {
			t.Errorf("listener %s does not admit KEDA's operator", l.Name)
		}
	}
}

// TestKafkaUsersLeastPrivilege: one SCRAM-SHA-512 KafkaUser per service with
// exactly the ACLs issue 6 gives it (and the reply topic of POST /v1/requests, the
// worker group's offsets the gateway reads for its lag, and the
// worker's transactional IDs for DELIVERY=exactly-once), on the services' default topics and group.
func TestKafkaUsersLeastPrivilege(t *testing.T) {
	s := strimziResources(t)
	group := envMap(onlyDeployment(t, parseObjects(t, mustRender(t, charts[1], nil))).Spec.Template.Spec.Containers[0])["KAFKA_GROUP_ID"]
	want := map[string][]string{
		"streamgate-gateway": {
			"topic/" + messages.TopicIn + ": Describe,Write",
			"topic/" + messages.ReplyTopic(messages.TopicIn) + ": Describe,Read",
			// The worker group's committed offsets, for its lag (LAG_GROUP_ID).
			"group/" + group + ": Describe",
			"cluster/: IdempotentWrite",
		},
		// KEDA's scaler: the group's committed offsets and the topic's end offsets.
		"streamgate-keda": {
			"group/" + group + ": Describe",
			"topic/" + messages.TopicIn + ": Describe",
		},
		"streamgate-worker": {
			"topic/" + messages.TopicIn + ": Describe,Read",
			"group/" + group + ": Read",
			"topic/" + messages.TopicOut + ": Describe,Write",
			"topic/" + messages.TopicDeadLetter + ": Describe,Write",
			"topic/" + messages.ReplyTopic(messages.TopicIn) + ": Describe,Write",
			"cluster/: IdempotentWrite",
			// DELIVERY=exactly-once: the instances' transactional IDs, <group>-<instance>.
			"transactionalId/" + group + "-: Describe,Write",
		},
	}
	users := ofKind(s.objs, "KafkaUser")
	if len(users) != len(want) {
		t.Fatalf("%d KafkaUsers, want %d", len(users), len(want))
	}
	for _, o := range users {
		wantACLs, ok := want[o.Metadata.Name]
		if !ok {
			t.Errorf("unexpected KafkaUser %s", o.Metadata.Name)
			continue
		}
		if got := o.Metadata.Labels["strimzi.io/cluster"]; got != s.kafkaName {
			t.Errorf("KafkaUser %s: strimzi.io/cluster=%q, want %q", o.Metadata.Name, got, s.kafkaName)
		}
		var u testkit.KafkaUser
		decode(t, o, &u)
		if u.Spec.Authentication.Type != "scram-sha-512" || u.Spec.Authorization.Type != "simple" {
			t.Errorf("KafkaUser %s: authentication %q authorization %q, want scram-sha-512 and simple",
				o.Metadata.Name, u.Spec.Authentication.Type, u.Spec.Authorization.Type)
		}
		var got []string
		for _, a := range u.Spec.Authorization.ACLs {
			if a.Type != "" && a.Type != "allow" {
				t.Errorf("KafkaUser %s: a %s rule", o.Metadata.Name, a.Type)
			}
			// Only the transactional IDs are a prefix (one per worker instance).
			wantPattern := "literal"
			if a.Resource.Type == "transactionalId" {
				wantPattern = "prefix"
			}
			if a.Resource.Type != "cluster" && a.Resource.PatternType != wantPattern {
				t.Errorf("KafkaUser %s: %s %s is a %q pattern, want %s", o.Metadata.Name, a.Resource.Type, a.Resource.Name, a.Resource.PatternType, wantPattern)
			}
			ops := slices.Clone(a.Operations)
			sort.Strings(ops)
			got = append(got, fmt.Sprintf("%s/%s: %s", a.Resource.Type, a.Resource.Name, strings.Join(ops, ",")))
		}
		sort.Strings(got)
		sort.Strings(wantACLs)
		if !slices.Equal(got, wantACLs) {
			t.Errorf("KafkaUser %s ACLs\n got %v\nwant %v", o.Metadata.Name, got, wantACLs)
		}
	}
}
