package deploy

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestHelmLintStrict: helm lint --strict passes for every chart with the
// default values and with each production-like values file.
func TestHelmLintStrict(t *testing.T) {
	for _, c := range charts {
		for _, vs := range valueSets(t, c) {
			t.Run(c.name+"/"+vs.name, func(t *testing.T) {
				args := []string{"lint", "--strict", "--kube-version", kubeVersion + ".0", filepath.Join("charts", c.name)}
				for _, f := range vs.files {
					args = append(args, "-f", filepath.Join("charts", c.name, f))
				}
				out, err := helm(t, args...)
				if err != nil {
					t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				if !strings.Contains(out, "0 chart(s) failed") {
					t.Fatalf("helm lint did not report success:\n%s", out)
				}
				// Lint mode turns a template's `fail` into a log line: catch it.
				if strings.Contains(out, "[INFO] Fail:") || strings.Contains(out, "[ERROR]") || strings.Contains(out, "[WARNING]") {
					t.Fatalf("helm lint reported a problem:\n%s", out)
				}
			})
		}
	}
}

// TestRenderedManifestsValidate renders every chart with every value set and
// validates each object against the Kubernetes 1.30 OpenAPI schemas, where an
// unknown field or a wrong type is an error.
func TestRenderedManifestsValidate(t *testing.T) {
	dir := t.TempDir()
	for _, c := range charts {
		for _, vs := range valueSets(t, c) {
			t.Run(c.name+"/"+vs.name, func(t *testing.T) {
				rendered := mustRender(t, c, vs.files)
				objs := parseObjects(t, rendered)
				kinds := map[string]int{}
				for _, o := range objs {
					kinds[o.Kind]++
				}
				for _, want := range []string{"Deployment", "ServiceAccount", "Pod"} {
					if kinds[want] == 0 {
						t.Errorf("rendered %s/%s has no %s (kinds: %v)", c.name, vs.name, want, kinds)
					}
				}
				p := writeFile(t, dir, fmt.Sprintf("%s-%s.yaml", c.name, vs.name), rendered)
				v, out, ok := kubectlValidate(t, p)
				if !ok {
					t.Fatalf("kubectl-validate --version %s rejects the %s chart with %s values:\n%s\n%s",
						kubeVersion, c.name, vs.name, strings.Join(v.failures(), "\n"), out)
				}
				if v.documents() != len(objs) {
					t.Fatalf("kubectl-validate checked %d documents, the chart rendered %d objects", v.documents(), len(objs))
				}
				t.Logf("%d objects valid: %v", len(objs), kinds)
			})
		}
	}
}

// TestProductionValuesTurnOnEverything: the production-like values render
// the HPA (gateway) or KEDA ScaledObject (worker), PDB, NetworkPolicy,
// ServiceMonitor, PrometheusRule and dashboard.
func TestProductionValuesTurnOnEverything(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, []string{"ci/production-values.yaml"}))
			want := map[string]int{"PodDisruptionBudget": 1, "NetworkPolicy": 1, "ServiceMonitor": 1, "PrometheusRule": 1, "ConfigMap": 1}
			if c.name == "gateway" {
				want["HorizontalPodAutoscaler"] = 1
			} else {
				// The second ConfigMap holds KEDA's Kafka user name.
				want["ScaledObject"], want["TriggerAuthentication"], want["ConfigMap"] = 1, 1, 2
			}
			for k, n := range want {
				if len(ofKind(objs, k)) != n {
					t.Errorf("production values render %d %s, want %d", len(ofKind(objs, k)), k, n)
				}
			}
			d := onlyDeployment(t, objs)
			if c.name == "gateway" {
				if d.Spec.Replicas != nil {
					t.Errorf("with the HPA on, the Deployment must leave replicas to it, has %d", *d.Spec.Replicas)
				}
				var hpa struct {
					Spec struct {
						MinReplicas int `json:"minReplicas"`
					} `json:"spec"`
				}
				decode(t, ofKind(objs, "HorizontalPodAutoscaler")[0], &hpa)
				if hpa.Spec.MinReplicas != 3 {
					t.Errorf("HPA minReplicas = %d, want 3", hpa.Spec.MinReplicas)
				}
			} else if d.Spec.Replicas != nil {
				t.Errorf("with KEDA on, the Deployment must leave replicas to it, has %d", *d.Spec.Replicas)
			}
		})
	}
}

// TestDefaultValuesAreMinimal: the defaults render nothing optional: no
// autoscaler, PDB, Prometheus Operator or KEDA object, dashboard. (The
// NetworkPolicy is on by default: TestNetworkPolicyOnByDefault.)
func TestDefaultValuesAreMinimal(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, nil))
			for _, k := range []string{"HorizontalPodAutoscaler", "PodDisruptionBudget",
				"ServiceMonitor", "PrometheusRule", "ConfigMap", "ScaledObject", "TriggerAuthentication"} {
				if n := len(ofKind(objs, k)); n != 0 {
					t.Errorf("default values render %d %s, want none", n, k)
				}
			}
		})
	}
}

// TestSkaffoldImageValues: rendered with the values skaffold passes
// (image.tag = tag@digest), every object still validates and the container
// runs exactly the built image.
func TestSkaffoldImageValues(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dir := t.TempDir()
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			repo := "streamgate-" + c.name
			rendered := mustRender(t, c, nil, "image.repository="+repo, "image.tag=3f2a1bc-dirty@"+digest)
			p := writeFile(t, dir, c.name+".yaml", rendered)
			if v, out, ok := kubectlValidate(t, p); !ok {
				t.Fatalf("invalid with skaffold's image values:\n%s\n%s", strings.Join(v.failures(), "\n"), out)
			}
			d := onlyDeployment(t, parseObjects(t, rendered))
			if got, want := d.Spec.Template.Spec.Containers[0].Image, repo+":3f2a1bc-dirty@"+digest; got != want {
				t.Errorf("image %q, want %q", got, want)
			}
			if got := d.Spec.Template.Metadata.Labels["app.kubernetes.io/version"]; got != "3f2a1bc-dirty" {
				t.Errorf("version label %q, want the tag without the digest", got)
			}
		})
	}
}

// TestHelmTestPodNotSelected: the helm test Pod is not picked by the
// Service, and the NetworkPolicy lets it in when ingress is restricted.
func TestHelmTestPodNotSelected(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, []string{"ci/production-values.yaml"},
				"networkPolicy.ingressFrom[0].namespaceSelector.matchLabels.team=edge"))
			d := onlyDeployment(t, objs)
			var svc struct {
				Spec struct {
					Selector map[string]string `json:"selector"`
				} `json:"spec"`
			}
			decode(t, named(t, objs, "Service", c.name), &svc)
			for _, p := range ofKind(objs, "Pod") {
				if selects(svc.Spec.Selector, p.Metadata.Labels) {
					t.Errorf("Service selector %v picks the test Pod %s", svc.Spec.Selector, p.Metadata.Name)
				}
				var np networkPolicy
				decode(t, ofKind(objs, "NetworkPolicy")[0], &np)
				allowed := false
				for _, peer := range np.Spec.Ingress[0].From {
					if ps, ok := peer["podSelector"].(map[string]any); ok {
						ml, _ := ps["matchLabels"].(map[string]any)
						m := map[string]string{}
						for k, v := range ml {
							m[k], _ = v.(string)
						}
						if selects(m, p.Metadata.Labels) {
							allowed = true
						}
					}
				}
				if !allowed {
					t.Errorf("NetworkPolicy ingress %v does not let the test Pod in", np.Spec.Ingress[0].From)
				}
			}
			if !selects(svc.Spec.Selector, d.Spec.Template.Metadata.Labels) {
				t.Errorf("Service selector %v does not pick the Deployment's pods %v", svc.Spec.Selector, d.Spec.Template.Metadata.Labels)
			}
		})
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKubeVersionFloor: the charts claim the Kubernetes version they need
// (the gateway's preStop sleep is 1.30) and helm refuses an older cluster.
func TestKubeVersionFloor(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			var meta struct {
				KubeVersion string `json:"kubeVersion"`
			}
			if err := yaml.Unmarshal([]byte(readFile(t, "charts/"+c.name+"/Chart.yaml")), &meta); err != nil {
				t.Fatal(err)
			}
			if meta.KubeVersion != ">="+kubeVersion+".0-0" {
				t.Errorf("kubeVersion %q, want >=%s.0-0", meta.KubeVersion, kubeVersion)
			}
			out, err := helm(t, "template", c.name, "charts/"+c.name, "--kube-version", "1.29.9")
			if err == nil || !strings.Contains(out, "incompatible with Kubernetes v1.29.9") {
				t.Errorf("rendering for Kubernetes 1.29 must fail on kubeVersion: %v\n%s", err, out)
			}
		})
	}
}

// TestPodDisruptionBudgetNeedsTwoPods: an enabled PDB is rendered only when
// more than one pod runs (one pod and a budget block every node drain), and
// lets pods that are not Ready be evicted (they are all unready while Kafka
// is down; IfHealthyBudget would stall the drain).
func TestPodDisruptionBudgetNeedsTwoPods(t *testing.T) {
	type pdbCase struct {
		name string
		set  []string
		want bool
	}
	for _, c := range charts {
		all := []pdbCase{
			{"one replica", []string{"replicaCount=1"}, false},
			{"two replicas", []string{"replicaCount=2"}, true},
		}
		if c.name == "gateway" {
			all = append(all,
				pdbCase{"HPA from one pod", []string{"replicaCount=3", "autoscaling.enabled=true", "autoscaling.minReplicas=1"}, false},
				pdbCase{"HPA from two pods", []string{"replicaCount=1", "autoscaling.enabled=true", "autoscaling.minReplicas=2"}, true})
		} else {
			all = append(all,
				pdbCase{"KEDA from one pod", []string{"replicaCount=3", "keda.enabled=true", "keda.minReplicas=1"}, false},
				pdbCase{"KEDA from two pods", []string{"replicaCount=1", "keda.enabled=true", "keda.minReplicas=2"}, true})
		}
		for _, tc := range all {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				objs := parseObjects(t, mustRender(t, c, nil, append(tc.set, "podDisruptionBudget.enabled=true")...))
				pdbs := ofKind(objs, "PodDisruptionBudget")
				if got := len(pdbs) == 1; got != tc.want {
					t.Fatalf("%d PodDisruptionBudgets, want one: %v", len(pdbs), tc.want)
				}
				if !tc.want {
					return
				}
				var pdb struct {
					Spec struct {
						UnhealthyPodEvictionPolicy string `json:"unhealthyPodEvictionPolicy"`
					} `json:"spec"`
				}
				decode(t, pdbs[0], &pdb)
				if pdb.Spec.UnhealthyPodEvictionPolicy != "AlwaysAllow" {
					t.Errorf("unhealthyPodEvictionPolicy %q, want AlwaysAllow", pdb.Spec.UnhealthyPodEvictionPolicy)
				}
			})
		}
	}
}
