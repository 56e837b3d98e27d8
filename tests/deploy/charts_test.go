package deploy

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
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
// the HPA (gateway), PDB and NetworkPolicy, and 3 replicas.
func TestProductionValuesTurnOnEverything(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, []string{"ci/production-values.yaml"}))
			want := []string{"PodDisruptionBudget", "NetworkPolicy"}
			if c.name == "gateway" {
				want = append(want, "HorizontalPodAutoscaler")
			}
			for _, k := range want {
				if len(ofKind(objs, k)) != 1 {
					t.Errorf("production values render %d %s, want 1", len(ofKind(objs, k)), k)
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
			} else if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
				t.Errorf("worker replicas = %v, want 3", d.Spec.Replicas)
			}
		})
	}
}

// TestDefaultValuesAreMinimal: the defaults render no HPA, PDB or NetworkPolicy.
func TestDefaultValuesAreMinimal(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, nil))
			for _, k := range []string{"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"} {
				if n := len(ofKind(objs, k)); n != 0 {
					t.Errorf("default values render %d %s, want none", n, k)
				}
			}
		})
	}
}
