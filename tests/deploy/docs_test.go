package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// documentedHelm is a helm install (or upgrade --install) of one of charts/
// written in a shell block of a docs/ page.
type documentedHelm struct {
	page, command string
	chart         chart
	sets          []string // its --set flags, unquoted
}

var (
	shellFence  = regexp.MustCompile("(?ms)^[ \t]*```sh\n(.*?)^[ \t]*```")
	helmInstall = regexp.MustCompile(`^helm (?:install|upgrade --install) \S+ charts/(\S+)`)
	setFlag     = regexp.MustCompile(`--set(?:-string)? ('[^']*'|\S+)`)
)

// documentedHelmCommands reads the helm installs of page's shell blocks,
// continuation lines joined.
func documentedHelmCommands(t *testing.T, page string) []documentedHelm {
	t.Helper()
	var out []documentedHelm
	for _, block := range shellFence.FindAllStringSubmatch(readFile(t, page), -1) {
		for _, line := range strings.Split(strings.ReplaceAll(block[1], "\\\n", " "), "\n") {
			line = strings.TrimSpace(line)
			m := helmInstall.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			i := slices.IndexFunc(charts, func(c chart) bool { return c.name == m[1] })
			if i < 0 {
				t.Errorf("%s installs charts/%s, which is not a chart of the repository: %s", page, m[1], line)
				continue
			}
			h := documentedHelm{page: page, command: line, chart: charts[i]}
			for _, f := range setFlag.FindAllStringSubmatch(line, -1) {
				h.sets = append(h.sets, strings.Trim(f[1], "'"))
			}
			out = append(out, h)
		}
	}
	return out
}

// renderDocumented renders what a documented helm command installs and
// returns the service container's environment.
func renderDocumented(t *testing.T, h documentedHelm) map[string]string {
	t.Helper()
	out, err := helmTemplate(t, h.chart, nil, h.sets...)
	if err != nil {
		t.Fatalf("%s: `%s` does not render: %v\n%s", h.page, h.command, err, out)
	}
	return envMap(onlyDeployment(t, parseObjects(t, out)).Spec.Template.Spec.Containers[0])
}

// TestRunOnKubernetesDocs: the walk-through in docs/kubernetes.md works on
// what the repository deploys: its helm commands render both charts (schema
// included), the services they install reach the Kafka k8s/ declares and
// the topics it creates, the Kafka it waits for is that one, the manifests
// it applies exist, and the port-forward reaches the gateway's Service.
func TestRunOnKubernetesDocs(t *testing.T) {
	const page = "docs/kubernetes.md"
	doc := readFile(t, page)
	s := strimziResources(t)
	installed := map[string]bool{}
	for _, h := range documentedHelmCommands(t, page) {
		env := renderDocumented(t, h)
		installed[h.chart.name] = true
		if env["KAFKA_BROKERS"] != s.bootstrap {
			t.Errorf("`%s` installs a %s reaching %q, not the bootstrap of k8s/'s Kafka %q", h.command, h.chart.name, env["KAFKA_BROKERS"], s.bootstrap)
		}
		if topic := env["KAFKA_IN_TOPIC"]; !slices.Contains(s.topics, topic) {
			t.Errorf("`%s` installs a %s reading %q, a topic k8s/ does not create (%v)", h.command, h.chart.name, topic, s.topics)
		}
	}
	for _, c := range charts {
		if !installed[c.name] {
			t.Errorf("%s never installs charts/%s", page, c.name)
		}
	}
	wait := regexp.MustCompile(`kubectl wait kafka/(\S+) --for=condition=Ready`).FindStringSubmatch(doc)
	if wait == nil || wait[1] != s.kafkaName {
		t.Errorf("%s waits for %v, want kafka/%s, what k8s/ deploys", page, wait, s.kafkaName)
	}
	for _, m := range regexp.MustCompile(`kubectl apply -f (\S+)`).FindAllStringSubmatch(doc, -1) {
		if !fileExists(filepath.Join(repoRoot(t), m[1])) {
			t.Errorf("%s applies %s, which does not exist", page, m[1])
		}
	}
	port := regexp.MustCompile(`kubectl port-forward svc/gateway \d+:(\d+)`).FindStringSubmatch(doc)
	if port == nil {
		t.Fatalf("%s has no port-forward to the gateway", page)
	}
	svc := named(t, parseObjects(t, mustRender(t, charts[0], nil)), "Service", "gateway")
	if !strings.Contains(string(svc.JSON), `"port":`+port[1]+`,`) {
		t.Errorf("%s forwards to port %s, which the gateway's Service does not serve: %s", page, port[1], svc.JSON)
	}
}

// TestSecuredKafkaDocs: the helm commands of docs/secured-kafka.md render, and
// install services that reach k8s/'s Kafka on its TLS listener, trust its
// cluster CA and log in as their own KafkaUser, whose Secret holds the password.
func TestSecuredKafkaDocs(t *testing.T) {
	const page = "docs/secured-kafka.md"
	s := strimziResources(t)
	users := map[string]bool{}
	for _, u := range ofKind(s.objs, "KafkaUser") {
		users[u.Metadata.Name] = true
	}
	var tlsBootstrap string
	for _, l := range s.kafka.Spec.Kafka.Listeners {
		if l.Type == "internal" && l.TLS {
			tlsBootstrap = fmt.Sprintf("%s-kafka-bootstrap:%d", s.kafkaName, l.Port)
		}
	}
	commands := documentedHelmCommands(t, page)
	if len(commands) != len(charts) {
		t.Fatalf("%s has %d helm installs, want one per chart", page, len(commands))
	}
	for _, h := range commands {
		env := renderDocumented(t, h)
		want := map[string]string{
			"KAFKA_BROKERS":       tlsBootstrap,
			"KAFKA_TLS_ENABLED":   "true",
			"KAFKA_SASL_USERNAME": "streamgate-" + h.chart.name,
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("`%s`: %s=%q, want %q", h.command, k, env[k], v)
			}
		}
		if !users[env["KAFKA_SASL_USERNAME"]] {
			t.Errorf("`%s` logs in as %q, not a KafkaUser of k8s/", h.command, env["KAFKA_SASL_USERNAME"])
		}
		for _, set := range h.sets {
			if name, ok := strings.CutPrefix(set, "kafka.sasl.passwordSecret.name="); ok && name != env["KAFKA_SASL_USERNAME"] {
				t.Errorf("`%s` reads the password of %s, not the Secret Strimzi makes for its user", h.command, name)
			}
			if name, ok := strings.CutPrefix(set, "kafka.tls.caSecret.name="); ok && name != s.kafkaName+"-cluster-ca-cert" {
				t.Errorf("`%s` trusts %s, not the cluster CA Secret of %s", h.command, name, s.kafkaName)
			}
		}
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

var (
	// A page of the repository named in a source file: docs/handlers.md, README.md
	// (a bare name like results.md is a file a tool writes).
	citedPage = regexp.MustCompile(`(?:^|[^\w./-])((?:[\w.-]+/)+[\w.-]+\.md|README\.md)\b`)
	// A section of the front page: "README.md, <Section>" or "README, <Section>".
	citedSection = regexp.MustCompile(`README(?:\.md)?, ([A-Z][\w' -]*[\w'])`)
	// The files whose comments may cite the documentation.
	sourceFile = regexp.MustCompile(`(\.(go|sh|mk|py|tpl|yaml|yml)|/Makefile|/Dockerfile)$`)
)

// TestSourceCitesExistingDocs: a comment in code, charts or scripts that sends the
// reader to a Markdown page names one that exists, and a README section one the front
// page still has; pages move, and the comments pointing at them rot silently.
func TestSourceCitesExistingDocs(t *testing.T) {
	root := repoRoot(t)
	sections := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(readFile(t, "README.md"), ""), -1) {
		sections[strings.ToLower(strings.TrimSpace(m[1]))] = true
	}
	checked := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "node_modules", "testdata", "swaggerui", "venv":
				return filepath.SkipDir
			}
			return nil
		}
		if !sourceFile.MatchString("/" + rel) {
			return nil
		}
		for i, line := range strings.Split(readFile(t, rel), "\n") {
			for _, m := range citedPage.FindAllStringSubmatch(line, -1) {
				page := m[1]
				if strings.Contains(line, "://") || strings.Contains(line, "github.com/") {
					continue // another project's page
				}
				checked++
				if !fileExists(filepath.Join(root, page)) && !fileExists(filepath.Join(filepath.Dir(p), page)) {
					t.Errorf("%s:%d cites %s: no such file", rel, i+1, page)
				}
			}
			for _, m := range citedSection.FindAllStringSubmatch(line, -1) {
				checked++
				if !sections[strings.ToLower(m[1])] {
					t.Errorf("%s:%d cites README section %q: README.md has no such heading", rel, i+1, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Errorf("checked %d citations; the sources have more, the patterns are broken", checked)
	}
}
