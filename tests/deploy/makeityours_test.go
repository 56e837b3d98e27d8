package deploy

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

// yamlFence is a YAML block of a docs/ page; a block whose first line is a comment
// naming a .yaml file is a chart's values file, the others are manifests.
var (
	yamlFence  = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")
	valuesFile = regexp.MustCompile(`^# (\S+\.yaml)\n`)
)

// TestMakeItYoursTopicsACLsAndCharts: the topics, users and worker values
// docs/make-it-yours.md gives a new flow are what they claim. The manifests
// validate against the Strimzi 1.2.0 CRDs; every ACL names a documented topic;
// the worker values render with the chart; the worker's KafkaUser reads every
// topic KEDA scales on, in the worker's group, and writes its reply and
// dead-letter topics; the scaler's KafkaUser may only Describe the group and
// each of those topics.
func TestMakeItYoursTopicsACLsAndCharts(t *testing.T) {
	const page = "docs/make-it-yours.md"
	dir := t.TempDir()
	var manifests []string
	values := map[string]string{} // file name -> path
	for _, block := range yamlFence.FindAllStringSubmatch(readFile(t, page), -1) {
		if m := valuesFile.FindStringSubmatch(block[1]); m != nil {
			values[m[1]] = writeFile(t, dir, m[1], block[1])
			continue
		}
		manifests = append(manifests, block[1])
	}
	stream := strings.Join(manifests, "---\n")
	objs := parseObjects(t, stream)
	v, out, ok := kubectlValidate(t, writeFile(t, dir, "manifests.yaml", stream))
	if !ok || v.documents() != len(objs) || len(objs) == 0 {
		t.Fatalf("%s: kubectl-validate checked %d of %d documents:\n%s\n%s", page, v.documents(), len(objs), strings.Join(v.failures(), "\n"), out)
	}
	topics := map[string]bool{}
	for _, o := range ofKind(objs, "KafkaTopic") {
		topics[o.Metadata.Name] = true
	}
	acls := map[string]map[string][]string{} // user -> "type/name" -> operations
	for _, o := range ofKind(objs, "KafkaUser") {
		var u testkit.KafkaUser
		decode(t, o, &u)
		acls[o.Metadata.Name] = map[string][]string{}
		for _, a := range u.Spec.Authorization.ACLs {
			if a.Resource.Type == "topic" && !topics[a.Resource.Name] {
				t.Errorf("%s: KafkaUser %s has an ACL on topic %s, which the page does not declare", page, o.Metadata.Name, a.Resource.Name)
			}
			key := a.Resource.Type + "/" + a.Resource.Name
			acls[o.Metadata.Name][key] = append(acls[o.Metadata.Name][key], a.Operations...)
		}
	}
	allows := func(user, resource string, ops ...string) bool {
		for _, op := range ops {
			if !slices.Contains(acls[user][resource], op) {
				return false
			}
		}
		return true
	}

	file, ok := values["orders-worker.yaml"]
	if !ok {
		t.Fatalf("%s has no orders-worker.yaml values block (found %v)", page, values)
	}
	rendered, err := helm(t, "template", "orders-worker", filepath.Join("charts", "worker"), "-f", file,
		"--namespace", testNamespace, "--kube-version", kubeVersion+".0")
	if err != nil {
		t.Fatalf("the worker chart with %s: %v\n%s", file, err, rendered)
	}
	if v, out, ok := kubectlValidate(t, writeFile(t, dir, "orders-worker-rendered.yaml", rendered)); !ok {
		t.Fatalf("the rendered worker is invalid:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
	}
	chartObjs := parseObjects(t, rendered)
	env := envMap(onlyDeployment(t, chartObjs).Spec.Template.Spec.Containers[0])
	user, group := env["KAFKA_SASL_USERNAME"], "group/"+env["KAFKA_GROUP_ID"]
	if !allows(user, group, "Read") {
		t.Errorf("the worker's user %q may not Read its group %s: %v", user, group, acls[user])
	}
	for _, name := range []string{"ORDERS_RESULTS_TOPIC", "ORDERS_DLQ_TOPIC", "KAFKA_OUT_TOPIC", "KAFKA_DLQ_TOPIC"} {
		if !allows(user, "topic/"+env[name], "Write", "Describe") {
			t.Errorf("the worker's user %q may not write %s=%q", user, name, env[name])
		}
	}
	var so scaledObject
	decode(t, ofKind(chartObjs, "ScaledObject")[0], &so)
	var cm struct {
		Data map[string]string `json:"data"`
	}
	decode(t, named(t, chartObjs, "ConfigMap", "orders-worker-keda"), &cm)
	scaler := cm.Data["username"]
	if len(so.Spec.Triggers) == 0 || scaler == "" || scaler == user {
		t.Fatalf("ScaledObject triggers %d, scaler user %q (the worker's is %q)", len(so.Spec.Triggers), scaler, user)
	}
	var scaled []string
	for _, tr := range so.Spec.Triggers {
		topic := "topic/" + tr.Metadata["topic"]
		scaled = append(scaled, tr.Metadata["topic"])
		if !allows(user, topic, "Read", "Describe") {
			t.Errorf("KEDA scales on %s, which the worker's user %q may not read", topic, user)
		}
		if !allows(scaler, topic, "Describe") || !allows(scaler, "group/"+tr.Metadata["consumerGroup"], "Describe") {
			t.Errorf("the scaler's user %q may not Describe %s and group %s: %v", scaler, topic, tr.Metadata["consumerGroup"], acls[scaler])
		}
	}
	if !slices.Contains(scaled, env["ORDERS_TOPIC"]) {
		t.Errorf("KEDA scales on %v, not on the topic the worker routes (ORDERS_TOPIC=%q)", scaled, env["ORDERS_TOPIC"])
	}
	for resource, ops := range acls[scaler] {
		if slices.ContainsFunc(ops, func(op string) bool { return op != "Describe" }) {
			t.Errorf("the scaler's user %q may %v %s: Describe only", scaler, ops, resource)
		}
	}
}
