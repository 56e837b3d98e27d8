package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunOnKubernetesDocs: the walk-through in docs/kubernetes.md points at what
// the repository really deploys (the Kafka's name and bootstrap address, the
// charts, the manifests), so a rename elsewhere shows up here.
func TestRunOnKubernetesDocs(t *testing.T) {
	doc := readFile(t, "docs/kubernetes.md")
	s := strimziResources(t)
	for _, want := range []string{
		"kubectl wait kafka/" + s.kafkaName + " --for=condition=Ready",
		s.bootstrap,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/kubernetes.md does not mention %q, what k8s/ deploys", want)
		}
	}
	// Every chart and manifest directory the commands name exists.
	paths := regexp.MustCompile(`(?:helm install \S+|kubectl apply -f) ((?:charts|k8s)/\S*)`).FindAllStringSubmatch(doc, -1)
	if len(paths) < 3 {
		t.Fatalf("docs/kubernetes.md names %d chart or manifest paths; want both charts and k8s/", len(paths))
	}
	for _, m := range paths {
		if !fileExists(filepath.Join(repoRoot(t), m[1])) {
			t.Errorf("docs/kubernetes.md installs %s, which does not exist", m[1])
		}
	}
	// The port-forward reaches the port the gateway's Service listens on.
	port := regexp.MustCompile(`kubectl port-forward svc/gateway \d+:(\d+)`).FindStringSubmatch(doc)
	if port == nil {
		t.Fatal("docs/kubernetes.md has no port-forward to the gateway")
	}
	if values := readFile(t, "charts/gateway/values.yaml"); !regexp.MustCompile(`(?m)^\s+port: ` + port[1] + `\b`).MatchString(values) {
		t.Errorf("docs/kubernetes.md forwards to port %s, which charts/gateway/values.yaml does not serve", port[1])
	}
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+)$`)
	mdFence   = regexp.MustCompile("(?ms)^```.*?^```")
)

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(md string) map[string]bool {
	md = mdFence.ReplaceAllString(md, "")
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(md, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(m[1])) {
			switch {
			case r == ' ' || r == '-':
				b.WriteRune('-')
			case r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127:
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// TestDocLinks: every relative link and anchor in README.md, charts/README.md
// and docs/**/*.md resolves to a file, and to a heading of it.
func TestDocLinks(t *testing.T) {
	root := repoRoot(t)
	files := []string{"README.md", "charts/README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		body := mdFence.ReplaceAllString(readFile(t, f), "")
		for _, m := range mdLink.FindAllStringSubmatch(body, -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(link, "#")
			file := f
			if target != "" {
				file = filepath.Join(filepath.Dir(f), target)
			}
			checked++
			if !fileExists(filepath.Join(root, file)) {
				t.Errorf("%s links to %s: no such file", f, link)
				continue
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(file, ".md") || !anchors(readFile(t, file))[anchor] {
				t.Errorf("%s links to %s: %s has no heading #%s", f, link, file, anchor)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d relative links; the documentation has more, the link pattern is broken", checked)
	}
}
