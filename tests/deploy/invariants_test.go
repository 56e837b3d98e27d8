package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The parts of a Deployment and Pod the invariants look at. Unknown fields
// are left out; kubectl-validate checks the full schema.

type deployment struct {
	Spec struct {
		Replicas *int `json:"replicas"`
		Template struct {
			Metadata objectMeta `json:"metadata"`
			Spec     podSpec    `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type pod struct {
	Spec podSpec `json:"spec"`
}

type podSpec struct {
	ServiceAccountName            string           `json:"serviceAccountName"`
	AutomountServiceAccountToken  *bool            `json:"automountServiceAccountToken"`
	TerminationGracePeriodSeconds *int64           `json:"terminationGracePeriodSeconds"`
	SecurityContext               *podSecurity     `json:"securityContext"`
	Containers                    []container      `json:"containers"`
	InitContainers                []container      `json:"initContainers"`
	Volumes                       []map[string]any `json:"volumes"`
}

type podSecurity struct {
	RunAsNonRoot   *bool           `json:"runAsNonRoot"`
	RunAsUser      *int64          `json:"runAsUser"`
	SeccompProfile *seccompProfile `json:"seccompProfile"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

type container struct {
	Name            string             `json:"name"`
	Image           string             `json:"image"`
	Env             []envVar           `json:"env"`
	Ports           []containerPort    `json:"ports"`
	Resources       resources          `json:"resources"`
	LivenessProbe   *probe             `json:"livenessProbe"`
	ReadinessProbe  *probe             `json:"readinessProbe"`
	SecurityContext *containerSecurity `json:"securityContext"`
}

type envVar struct {
	Name      string         `json:"name"`
	Value     *string        `json:"value"`
	ValueFrom map[string]any `json:"valueFrom"`
}

type containerPort struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
}

type resources struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

type probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		Port any    `json:"port"`
	} `json:"httpGet"`
}

type containerSecurity struct {
	RunAsNonRoot             *bool `json:"runAsNonRoot"`
	ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
	Privileged               *bool `json:"privileged"`
	Capabilities             *struct {
		Drop []string `json:"drop"`
		Add  []string `json:"add"`
	} `json:"capabilities"`
	SeccompProfile *seccompProfile `json:"seccompProfile"`
}

func onlyDeployment(t testing.TB, objs []object) deployment {
	t.Helper()
	ds := ofKind(objs, "Deployment")
	if len(ds) != 1 {
		t.Fatalf("want exactly one Deployment, got %d", len(ds))
	}
	var d deployment
	decode(t, ds[0], &d)
	return d
}

// renderedCase is one chart rendered with one value set.
type renderedCase struct {
	chart  chart
	values valueSet
	objs   []object
}

func renderAll(t *testing.T) []renderedCase {
	t.Helper()
	var r []renderedCase
	for _, c := range charts {
		for _, vs := range valueSets(t, c) {
			r = append(r, renderedCase{chart: c, values: vs, objs: parseObjects(t, mustRender(t, c, vs.files))})
		}
	}
	return r
}

// TestContainersAreHardened: every container of every rendered workload and
// test Pod has requests and limits, the hardened securityContext and a pinned
// image; the service containers also have both probes on the right paths.
func TestContainersAreHardened(t *testing.T) {
	for _, rc := range renderAll(t) {
		t.Run(rc.chart.name+"/"+rc.values.name, func(t *testing.T) {
			d := onlyDeployment(t, rc.objs)
			spec := d.Spec.Template.Spec
			checkPodSecurity(t, "Deployment", spec)
			if len(spec.Containers) != 1 || spec.Containers[0].Name != rc.chart.container {
				t.Fatalf("the Deployment must run one container %q, has %+v", rc.chart.container, spec.Containers)
			}
			if len(spec.InitContainers) != 0 {
				t.Errorf("unexpected init containers: %v", spec.InitContainers)
			}
			// The only volumes are Secrets (the Kafka credentials).
			for _, v := range spec.Volumes {
				if v["secret"] == nil && v["projected"] == nil {
					t.Errorf("volume %v is not a Secret", v)
				}
			}
			c := spec.Containers[0]
			checkContainer(t, "Deployment", c)
			checkProbes(t, rc.chart, c)

			pods := ofKind(rc.objs, "Pod")
			if len(pods) == 0 {
				t.Fatal("no helm test Pod")
			}
			for _, o := range pods {
				if o.Metadata.Annotations["helm.sh/hook"] != "test" {
					t.Errorf("Pod %s is not a helm test hook", o.Metadata.Name)
				}
				var p pod
				decode(t, o, &p)
				checkPodSecurity(t, "Pod "+o.Metadata.Name, p.Spec)
				for _, pc := range p.Spec.Containers {
					checkContainer(t, "Pod "+o.Metadata.Name, pc)
				}
			}
		})
	}
}

func checkPodSecurity(t *testing.T, what string, spec podSpec) {
	t.Helper()
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false", what)
	}
	sc := spec.SecurityContext
	if sc == nil {
		t.Errorf("%s: no pod securityContext", what)
		return
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot must be true", what)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s: pod seccompProfile must be RuntimeDefault", what)
	}
}

func checkContainer(t *testing.T, what string, c container) {
	t.Helper()
	what = fmt.Sprintf("%s container %s", what, c.Name)
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("%s: no %s request", what, r)
		}
		if c.Resources.Limits[r] == "" {
			t.Errorf("%s: no %s limit", what, r)
		}
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s: no securityContext", what)
		return
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	if !isTrue(sc.RunAsNonRoot) {
		t.Errorf("%s: runAsNonRoot must be true", what)
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Errorf("%s: readOnlyRootFilesystem must be true", what)
	}
	if !isFalse(sc.AllowPrivilegeEscalation) {
		t.Errorf("%s: allowPrivilegeEscalation must be false", what)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", what)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("%s: capabilities must drop ALL and add none, got %+v", what, sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s: seccompProfile must be RuntimeDefault", what)
	}
	if err := pinnedImage(c.Image); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// pinnedImage accepts repo:tag or repo:tag@sha256:... with a tag that is not
// "latest", or repo@sha256:...
func pinnedImage(image string) error {
	name, digest, hasDigest := strings.Cut(image, "@")
	if hasDigest && !strings.HasPrefix(digest, "sha256:") {
		return fmt.Errorf("image %q: digest must be sha256", image)
	}
	slash := strings.LastIndex(name, "/")
	colon := strings.LastIndex(name, ":")
	if colon <= slash {
		if hasDigest {
			return nil
		}
		return fmt.Errorf("image %q has no tag", image)
	}
	tag := name[colon+1:]
	if tag == "" || tag == "latest" {
		return fmt.Errorf("image %q: tag must pin a version, not %q", image, tag)
	}
	return nil
}

func TestPinnedImage(t *testing.T) {
	for image, ok := range map[string]bool{
		"ghcr.io/streamgate/gateway:0.1.0":                 true,
		"localhost:5000/gateway:abc123":                    true,
		"ghcr.io/streamgate/gateway:abc@sha256:0123abcdef": true,
		"ghcr.io/streamgate/gateway@sha256:0123abcdef":     true,
		"ghcr.io/streamgate/gateway":                       false,
		"localhost:5000/gateway":                           false,
		"ghcr.io/streamgate/gateway:latest":                false,
		"ghcr.io/streamgate/gateway:":                      false,
	} {
		if err := pinnedImage(image); (err == nil) != ok {
			t.Errorf("pinnedImage(%q) = %v, want ok=%v", image, err, ok)
		}
	}
}

func checkProbes(t *testing.T, ch chart, c container) {
	t.Helper()
	for _, p := range []struct {
		name  string
		probe *probe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: no httpGet %s", c.Name, p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s: %s path %q, want %q", c.Name, p.name, p.probe.HTTPGet.Path, p.path)
		}
		if port := resolvePort(c, p.probe.HTTPGet.Port); port != ch.port {
			t.Errorf("%s: %s port %v resolves to %d, want %d", c.Name, p.name, p.probe.HTTPGet.Port, port, ch.port)
		}
	}
	want := []containerPort{{Name: ch.portName, ContainerPort: ch.port}, {Name: "metrics", ContainerPort: ch.metricsPort}}
	if !slices.Equal(c.Ports, want) {
		t.Errorf("%s: container ports %+v, want %+v", c.Name, c.Ports, want)
	}
}

// resolvePort turns a probe port (number or container port name) into a number.
func resolvePort(c container, port any) int {
	switch p := port.(type) {
	case float64:
		return int(p)
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	return 0
}

// TestTerminationGraceExceedsShutdownTimeout: the kubelet waits longer than
// the service's own graceful shutdown before it kills the process.
func TestTerminationGraceExceedsShutdownTimeout(t *testing.T) {
	for _, rc := range renderAll(t) {
		t.Run(rc.chart.name+"/"+rc.values.name, func(t *testing.T) {
			spec := onlyDeployment(t, rc.objs).Spec.Template.Spec
			env := envMap(spec.Containers[0])
			raw, ok := env["SHUTDOWN_TIMEOUT"]
			if !ok {
				t.Fatal("SHUTDOWN_TIMEOUT is not set")
			}
			timeout, err := time.ParseDuration(raw)
			if err != nil {
				t.Fatalf("SHUTDOWN_TIMEOUT=%q is not a Go duration: %v", raw, err)
			}
			if spec.TerminationGracePeriodSeconds == nil {
				t.Fatal("terminationGracePeriodSeconds is not set")
			}
			grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
			if grace <= timeout {
				t.Fatalf("terminationGracePeriodSeconds %v must exceed SHUTDOWN_TIMEOUT %v", grace, timeout)
			}
		})
	}
}

// envMap returns a container's literal env values by name.
func envMap(c container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if e.Value != nil {
			m[e.Name] = *e.Value
		} else {
			m[e.Name] = ""
		}
	}
	return m
}

// envNames returns a container's env names, sorted, failing on duplicates.
func envNames(t *testing.T, c container) []string {
	t.Helper()
	var names []string
	for _, e := range c.Env {
		if slices.Contains(names, e.Name) {
			t.Errorf("env %s is set twice", e.Name)
		}
		names = append(names, e.Name)
	}
	sort.Strings(names)
	return names
}
