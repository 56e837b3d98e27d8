package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// skaffoldSchema compiles the skaffold v4beta13 JSON schema from shared/.
func skaffoldSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	p := filepath.Join(sharedDir(t), "skaffold", "v4beta13.json")
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("skaffold schema: %v (shared/ must sit beside the repository, or set $STREAMGATE_SHARED_DIR)", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	c := jsonschema.NewCompiler()
	url := "file://" + filepath.ToSlash(p)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", p, err)
	}
	return sch
}

// skaffoldDocs returns the documents of skaffold.yaml (or of content) as JSON.
func skaffoldDocs(t *testing.T, content string) [][]byte {
	t.Helper()
	var docs [][]byte
	for _, doc := range docSeparator.Split(content, -1) {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("skaffold.yaml: %v", err)
		}
		if string(j) != "null" {
			docs = append(docs, j)
		}
	}
	if len(docs) == 0 {
		t.Fatal("skaffold.yaml is empty")
	}
	return docs
}

func validateSkaffold(t *testing.T, sch *jsonschema.Schema, j []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

// skaffoldConfig is the part of skaffold.yaml the tests read.
type skaffoldConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Build      struct {
		Artifacts []skaffoldArtifact `json:"artifacts"`
	} `json:"build"`
	Manifests struct {
		RawYaml []string `json:"rawYaml"`
	} `json:"manifests"`
	Deploy struct {
		Helm *struct {
			Releases []helmRelease `json:"releases"`
		} `json:"helm"`
		Kubectl map[string]any `json:"kubectl"`
	} `json:"deploy"`
	PortForward []portForward     `json:"portForward"`
	Profiles    []skaffoldProfile `json:"profiles"`
}

type skaffoldArtifact struct {
	Image   string `json:"image"`
	Context string `json:"context"`
	Docker  *struct {
		Dockerfile string            `json:"dockerfile"`
		BuildArgs  map[string]string `json:"buildArgs"`
	} `json:"docker"`
}

type portForward struct {
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
	Port         any    `json:"port"`
	LocalPort    int    `json:"localPort"`
}

type skaffoldProfile struct {
	Name    string          `json:"name"`
	Patches json.RawMessage `json:"patches"`
}

type helmRelease struct {
	Name              string            `json:"name"`
	ChartPath         string            `json:"chartPath"`
	RemoteChart       string            `json:"remoteChart"`
	Version           string            `json:"version"`
	Wait              bool              `json:"wait"`
	SkipBuildDeps     bool              `json:"skipBuildDependencies"`
	SetValueTemplates map[string]string `json:"setValueTemplates"`
	ValuesFiles       []string          `json:"valuesFiles"`
}

// TestSkaffoldConfigValidates: skaffold.yaml validates against the v4beta13
// schema, and so does the config its existing-kafka profile produces.
func TestSkaffoldConfigValidates(t *testing.T) {
	sch := skaffoldSchema(t)
	docs := skaffoldDocs(t, readFile(t, "skaffold.yaml"))
	for i, j := range docs {
		if err := validateSkaffold(t, sch, j); err != nil {
			t.Fatalf("skaffold.yaml document %d does not match the v4beta13 schema:\n%v", i, err)
		}
		var cfg skaffoldConfig
		if err := json.Unmarshal(j, &cfg); err != nil {
			t.Fatal(err)
		}
		for _, p := range cfg.Profiles {
			if len(p.Patches) == 0 {
				continue
			}
			patched := applyPatches(t, j, p.Patches)
			if err := validateSkaffold(t, sch, patched); err != nil {
				t.Errorf("profile %s yields a config that does not match the schema:\n%v", p.Name, err)
			}
		}
	}
}

func applyPatches(t *testing.T, doc []byte, patches json.RawMessage) []byte {
	t.Helper()
	patch, err := jsonpatch.DecodePatch(patches)
	if err != nil {
		t.Fatalf("profile patches: %v", err)
	}
	out, err := patch.Apply(doc)
	if err != nil {
		t.Fatalf("profile patches do not apply: %v", err)
	}
	return out
}

func loadSkaffold(t *testing.T) (skaffoldConfig, []byte) {
	t.Helper()
	docs := skaffoldDocs(t, readFile(t, "skaffold.yaml"))
	if len(docs) != 1 {
		t.Fatalf("skaffold.yaml has %d documents, the tests expect 1", len(docs))
	}
	var cfg skaffoldConfig
	if err := json.Unmarshal(docs[0], &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg, docs[0]
}

// sanitize is how skaffold names an artifact in setValueTemplates.
func sanitize(image string) string {
	return strings.NewReplacer("/", "_", "-", "_", ".", "_", ":", "_").Replace(image)
}

// TestSkaffoldBuildsAndDeploysBoth: the Dockerfile is built for each service from the
// repository root, both charts get the built image, the Strimzi operator
// chart and k8s/ are deployed, and the gateway is forwarded to 8080.
func TestSkaffoldBuildsAndDeploysBoth(t *testing.T) {
	cfg, _ := loadSkaffold(t)
	if cfg.APIVersion != "skaffold/v4beta13" || cfg.Kind != "Config" {
		t.Errorf("apiVersion %q kind %q", cfg.APIVersion, cfg.Kind)
	}
	root := repoRoot(t)
	images := map[string]string{} // chart -> artifact image
	for _, c := range charts {
		i := slices.IndexFunc(cfg.Build.Artifacts, func(a skaffoldArtifact) bool {
			return a.Docker != nil && a.Docker.BuildArgs["SERVICE"] == c.name
		})
		if i < 0 {
			t.Errorf("no artifact builds the Dockerfile with SERVICE=%s", c.name)
			continue
		}
		a := cfg.Build.Artifacts[i]
		if a.Context != "." {
			t.Errorf("%s: context %q, want the repository root", a.Image, a.Context)
		}
		if a.Docker.Dockerfile != "Dockerfile" || !fileExists(filepath.Join(root, "Dockerfile")) {
			t.Errorf("%s: dockerfile %q, want the repository's one Dockerfile", a.Image, a.Docker.Dockerfile)
		}
		if !fileExists(filepath.Join(root, "services", c.name, "cmd", c.name)) {
			t.Errorf("%s: SERVICE=%s has no services/%[2]s/cmd/%[2]s", a.Image, c.name)
		}
		if _, ok := a.Docker.BuildArgs["VERSION"]; !ok {
			t.Errorf("%s: no VERSION build arg", a.Image)
		}
		images[c.name] = a.Image
	}

	if cfg.Deploy.Helm == nil {
		t.Fatal("no helm deploy")
	}
	rels := cfg.Deploy.Helm.Releases
	if len(rels) == 0 || rels[0].RemoteChart != "oci://quay.io/strimzi-helm/strimzi-kafka-operator" ||
		rels[0].Version != "1.2.0" || !rels[0].Wait {
		t.Errorf("the first release must be the Strimzi operator chart 1.2.0 with wait, got %+v", rels)
	}
	for _, c := range charts {
		i := slices.IndexFunc(rels, func(r helmRelease) bool { return r.ChartPath == "charts/"+c.name })
		if i < 0 {
			t.Errorf("no release of charts/%s", c.name)
			continue
		}
		r := rels[i]
		if !fileExists(filepath.Join(root, r.ChartPath, "Chart.yaml")) {
			t.Errorf("%s has no Chart.yaml", r.ChartPath)
		}
		// skaffold would otherwise run `helm dep build`, which rewrites the
		// vendored library archive on every deploy.
		if !r.SkipBuildDeps {
			t.Errorf("release %s: skipBuildDependencies must be true (the library chart is vendored)", r.Name)
		}
		art := sanitize(images[c.name])
		if !strings.Contains(r.SetValueTemplates["image.repository"], "IMAGE_REPO_"+art) ||
			!strings.Contains(r.SetValueTemplates["image.tag"], "IMAGE_TAG_"+art) {
			t.Errorf("release %s does not take the built image %s: %v", r.Name, images[c.name], r.SetValueTemplates)
		}
	}

	if cfg.Deploy.Kubectl == nil || !slices.Contains(cfg.Manifests.RawYaml, "k8s/*.yaml") {
		t.Errorf("k8s/*.yaml is not deployed with kubectl: manifests %v", cfg.Manifests.RawYaml)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "k8s", "*.yaml")); len(m) == 0 {
		t.Error("k8s/*.yaml matches nothing")
	}

	gw := slices.IndexFunc(cfg.PortForward, func(p portForward) bool {
		return strings.EqualFold(p.ResourceType, "service") && p.ResourceName == "gateway"
	})
	if gw < 0 {
		t.Fatalf("no port-forward of the gateway Service: %+v", cfg.PortForward)
	}
	if pf := cfg.PortForward[gw]; pf.Port != float64(8080) || pf.LocalPort != 8080 {
		t.Errorf("gateway port-forward %+v, want 8080 -> localhost:8080", pf)
	}
	// The Service the release creates is called "gateway", on port 8080.
	named(t, parseObjects(t, mustRender(t, charts[0], nil)), "Service", "gateway")
}

// TestSkaffoldExistingKafkaProfile: the profile for a cluster that already
// has Kafka drops the Strimzi operator and k8s/, keeps both services, takes
// the brokers from KAFKA_BROKERS and speaks plaintext to them (the charts'
// defaults are the k8s/ Kafka's TLS listener and KafkaUsers).
func TestSkaffoldExistingKafkaProfile(t *testing.T) {
	cfg, raw := loadSkaffold(t)
	i := slices.IndexFunc(cfg.Profiles, func(p skaffoldProfile) bool {
		return p.Name == "existing-kafka"
	})
	if i < 0 {
		t.Fatal("no existing-kafka profile")
	}
	var patched skaffoldConfig
	if err := json.Unmarshal(applyPatches(t, raw, cfg.Profiles[i].Patches), &patched); err != nil {
		t.Fatal(err)
	}
	if patched.Deploy.Kubectl != nil || len(patched.Manifests.RawYaml) != 0 {
		t.Error("existing-kafka still deploys k8s/")
	}
	if patched.Deploy.Helm == nil || len(patched.Deploy.Helm.Releases) != 2 {
		t.Fatalf("existing-kafka must keep exactly the two service releases: %+v", patched.Deploy.Helm)
	}
	for _, r := range patched.Deploy.Helm.Releases {
		if r.RemoteChart != "" || !strings.HasPrefix(r.ChartPath, "charts/") {
			t.Errorf("existing-kafka deploys %+v", r)
		}
		c := charts[slices.IndexFunc(charts, func(c chart) bool { return "charts/"+c.name == r.ChartPath })]
		// What skaffold does with the template: expand it with the
		// environment, then pass `--set kafka.brokers=<result>` to helm.
		tmpl, err := template.New(r.Name).Parse(r.SetValueTemplates["kafka.brokers"])
		if err != nil {
			t.Fatalf("release %s: kafka.brokers template: %v", r.Name, err)
		}
		for _, brokers := range []string{"k1.example:9092", "k1.example:9092,k2.example:9093,k3.example:9094"} {
			var set strings.Builder
			if err := tmpl.Execute(&set, map[string]string{"KAFKA_BROKERS": brokers}); err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, f := range r.ValuesFiles { // skaffold's are relative to the repository root
				files = append(files, filepath.Join("..", "..", f))
			}
			if !slices.Contains(r.ValuesFiles, "charts/values-plaintext-kafka.yaml") {
				t.Errorf("release %s: valuesFiles %v, want the plaintext-Kafka values", r.Name, r.ValuesFiles)
			}
			out := mustRender(t, c, files, "kafka.brokers="+set.String())
			env := envMap(onlyDeployment(t, parseObjects(t, out)).Spec.Template.Spec.Containers[0])
			for name := range env {
				if strings.HasPrefix(name, "KAFKA_TLS_") || strings.HasPrefix(name, "KAFKA_SASL_") {
					t.Errorf("release %s: existing-kafka sets %s", r.Name, name)
				}
			}
			if env["KAFKA_BROKERS"] != brokers {
				t.Errorf("release %s with KAFKA_BROKERS=%s: --set kafka.brokers=%s renders KAFKA_BROKERS=%q",
					r.Name, brokers, set.String(), env["KAFKA_BROKERS"])
			}
		}
	}
}

// TestBrokenSkaffoldConfigFailsSchema: the schema check has teeth.
func TestBrokenSkaffoldConfigFailsSchema(t *testing.T) {
	sch := skaffoldSchema(t)
	orig := readFile(t, "skaffold.yaml")
	for _, tc := range []struct{ name, old, new, want string }{
		{"misspelled chartPath", "chartPath: charts/gateway", "chartPth: charts/gateway", "'chartPth' not allowed"},
		{"localPort is a string", "localPort: 8080", "localPort: eighty", "/portForward/0/localPort"},
		{"unknown top-level field", "\nportForward:", "\nportForwards:", "'portForwards' not allowed"},
		{"wait is not a boolean", "wait: true", "wait: sometimes", "/deploy/helm/releases/0/wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := mutate(t, orig, tc.old, tc.new)
			err := validateSkaffold(t, sch, skaffoldDocs(t, broken)[0])
			if err == nil {
				t.Fatalf("the schema accepted skaffold.yaml with %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("rejected, but not for %s:\n%v", tc.want, err)
			}
			t.Logf("rejected as expected: %s", errLine(err.Error(), tc.want))
		})
	}
}

// errLine is the line of a multi-line error that mentions want.
func errLine(s, want string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, want) {
			return strings.TrimSpace(l)
		}
	}
	return s
}
