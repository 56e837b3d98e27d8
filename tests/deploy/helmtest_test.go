package deploy

import (
	"regexp"
	"strings"
	"testing"
)

// helmTestPod is the part of a helm test Pod these tests read.
type helmTestPod struct {
	Spec struct {
		Containers []struct {
			Image           string   `json:"image"`
			ImagePullPolicy string   `json:"imagePullPolicy"`
			Command         []string `json:"command"`
		} `json:"containers"`
	} `json:"spec"`
}

// wgetTimeoutFlag is busybox wget's own timeout, which Debian's busybox
// (built without it) answers with a segfault.
var wgetTimeoutFlag = regexp.MustCompile(`wget[^|;\n]*\s-T\s`)

// TestHelmTestPods: the test Pods stay after a pass so `helm test --logs` can
// read them (hook-succeeded would delete them first), bound every call with
// `timeout N wget`, and run the image tests.image names.
func TestHelmTestPods(t *testing.T) {
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			objs := parseObjects(t, mustRender(t, c, nil,
				"tests.image.repository=localhost:5000/busybox", "tests.image.tag=1.35-local", "tests.image.pullPolicy=Never"))
			pods := ofKind(objs, "Pod")
			if len(pods) != 1 {
				t.Fatalf("%d test Pods, want 1", len(pods))
			}
			if got := pods[0].Metadata.Annotations["helm.sh/hook-delete-policy"]; got != "before-hook-creation" {
				t.Errorf("hook-delete-policy %q, want before-hook-creation", got)
			}
			var p helmTestPod
			decode(t, pods[0], &p)
			ctr := p.Spec.Containers[0]
			if ctr.Image != "localhost:5000/busybox:1.35-local" || ctr.ImagePullPolicy != "Never" {
				t.Errorf("image %s (%s), want the tests.image values", ctr.Image, ctr.ImagePullPolicy)
			}
			script := strings.Join(ctr.Command, "\n")
			if wgetTimeoutFlag.MatchString(script) {
				t.Errorf("the script uses wget -T:\n%s", script)
			}
			if n, m := strings.Count(script, "wget "), strings.Count(script, "timeout "); n == 0 || m < n {
				t.Errorf("every wget must run under `timeout N` (%d wget, %d timeout):\n%s", n, m, script)
			}
		})
	}
}
