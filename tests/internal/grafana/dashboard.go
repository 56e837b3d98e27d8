// Package grafana reads the charts' Grafana dashboards as the tests need them: the
// variables' label_values queries and the panels' PromQL.
package grafana

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Dashboard is the part of a dashboard JSON model the tests read.
type Dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is a templating variable; Query is a string or {query, refId}.
type Variable struct {
	Name  string `json:"name"`
	Query any    `json:"query"`
}

// Panel is a panel and its Prometheus queries.
type Panel struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

// Read parses the dashboard JSON at path.
func Read(path string) (Dashboard, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Dashboard{}, "", err
	}
	var d Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return Dashboard{}, "", fmt.Errorf("%s: not JSON: %w", path, err)
	}
	return d, string(raw), nil
}

// LabelValues returns the variable's label_values(selector, label) query, or ok false
// for a variable without one (the datasource).
func (v Variable) LabelValues() (selector, label string, ok bool, err error) {
	q, isQuery := v.Query.(map[string]any)
	if !isQuery {
		return "", "", false, nil
	}
	s, _ := q["query"].(string)
	inner, found := strings.CutPrefix(s, "label_values(")
	i := strings.LastIndex(inner, ",")
	if !found || i < 0 || !strings.HasSuffix(inner, ")") {
		return "", "", true, fmt.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, s)
	}
	return inner[:i], strings.TrimSpace(strings.TrimSuffix(inner[i+1:], ")")), true, nil
}
