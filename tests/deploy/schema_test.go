package deploy

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// Helm validates a chart's values against that chart's values.schema.json
// only; it has no way to share a schema between charts. So the two schemas
// are generated from one source: charts/schema/common.yaml, what both charts
// take, merged with charts/schema/<chart>.yaml, what only that chart takes.
// `make charts-schema` (this test with -update-schema) writes them.
var updateSchema = flag.Bool("update-schema", false, "write charts/*/values.schema.json from charts/schema/")

// TestValuesSchemaGenerated: every committed values.schema.json is exactly
// what charts/schema/ generates, so a fix to the common part lands in both.
func TestValuesSchemaGenerated(t *testing.T) {
	root := repoRoot(t)
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			want, err := generateSchema(filepath.Join(root, "charts", "schema"), c.name)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "charts", c.name, "values.schema.json")
			if *updateSchema {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("charts/%s/values.schema.json is not what charts/schema/ generates: edit charts/schema/*.yaml, then run `make charts-schema`", c.name)
			}
		})
	}
}

// TestSchemaMerge: mappings merge key by key, lists gain the overlay's new
// items (so "required" and "enum" extend), anything else is replaced.
func TestSchemaMerge(t *testing.T) {
	base := "a: {x: 1, l: [p, q]}\nb: keep\n"
	overlay := "a: {y: true, l: [q, r]}\nb: replaced\nc: null\n"
	got, err := mergedJSON([]byte(base), []byte(overlay))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"a":{"x":1,"l":["p","q","r"],"y":true},"b":"replaced","c":null}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatal(err)
	}
	if compact.String() != want {
		t.Fatalf("merged %s, want %s", compact.String(), want)
	}
}

// generateSchema returns the values.schema.json of a chart.
func generateSchema(dir, chart string) ([]byte, error) {
	base, err := os.ReadFile(filepath.Join(dir, "common.yaml"))
	if err != nil {
		return nil, err
	}
	overlay, err := os.ReadFile(filepath.Join(dir, chart+".yaml"))
	if err != nil {
		return nil, err
	}
	return mergedJSON(base, overlay)
}

// mergedJSON merges overlay into base (both YAML) and writes the result as
// indented JSON, keys in source order.
func mergedJSON(base, overlay []byte) ([]byte, error) {
	var b, o yaml.Node
	if err := yaml.Unmarshal(base, &b); err != nil {
		return nil, fmt.Errorf("common schema: %w", err)
	}
	if err := yaml.Unmarshal(overlay, &o); err != nil {
		return nil, fmt.Errorf("chart schema: %w", err)
	}
	merged := mergeNodes(b.Content[0], o.Content[0])
	var buf bytes.Buffer
	if err := writeJSON(&buf, merged); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func mergeNodes(base, overlay *yaml.Node) *yaml.Node {
	switch {
	case base.Kind == yaml.MappingNode && overlay.Kind == yaml.MappingNode:
		merged := *base
		merged.Content = append([]*yaml.Node(nil), base.Content...)
		for i := 0; i < len(overlay.Content); i += 2 {
			key, value := overlay.Content[i], overlay.Content[i+1]
			found := false
			for j := 0; j < len(merged.Content); j += 2 {
				if merged.Content[j].Value == key.Value {
					merged.Content[j+1] = mergeNodes(merged.Content[j+1], value)
					found = true
					break
				}
			}
			if !found {
				merged.Content = append(merged.Content, key, value)
			}
		}
		return &merged
	case base.Kind == yaml.SequenceNode && overlay.Kind == yaml.SequenceNode:
		merged := *base
		merged.Content = append([]*yaml.Node(nil), base.Content...)
		for _, item := range overlay.Content {
			if !containsScalar(merged.Content, item) {
				merged.Content = append(merged.Content, item)
			}
		}
		return &merged
	default:
		return overlay
	}
}

func containsScalar(nodes []*yaml.Node, n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	for _, m := range nodes {
		if m.Kind == yaml.ScalarNode && m.Value == n.Value && m.Tag == n.Tag {
			return true
		}
	}
	return false
}

// writeJSON writes a YAML node as compact JSON, keeping the key order.
func writeJSON(w *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		w.WriteByte('{')
		for i := 0; i < len(n.Content); i += 2 {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeString(w, n.Content[i].Value); err != nil {
				return err
			}
			w.WriteByte(':')
			if err := writeJSON(w, n.Content[i+1]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	case yaml.SequenceNode:
		w.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, item); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return writeString(w, n.Value)
		case "!!null":
			w.WriteString("null")
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return err
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			w.Write(b)
		default:
			return fmt.Errorf("line %d: unsupported YAML tag %s", n.Line, n.Tag)
		}
	default:
		return fmt.Errorf("line %d: unsupported YAML node (anchors and aliases are not used in schemas)", n.Line)
	}
	return nil
}

func writeString(w *bytes.Buffer, s string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("string %s: %w", strconv.Quote(s), err)
	}
	w.Truncate(w.Len() - 1) // Encode's newline
	return nil
}
