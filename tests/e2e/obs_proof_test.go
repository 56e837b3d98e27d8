//go:build obs

package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// obsProof collects what TestObservabilityUnderTheOperator saw of each dashboard panel
// and alert, and logs it as one table at the end, so the proof can be listed (and
// pasted into docs/observability.md) from one run.
type obsProof struct {
	mu     sync.Mutex
	panels []string
	alerts []string
	traces []string
	driven map[string]bool
}

// panel notes one panel query's result: how many series, and their values.
func (p *obsProof) panel(dashboard, title, legend string, result []sample) {
	values := make([]string, 0, len(result))
	for _, s := range result {
		values = append(values, strconv.FormatFloat(value(s), 'g', 3, 64))
	}
	if len(values) > 4 {
		values = append(values[:4], "…")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.panels = append(p.panels, fmt.Sprintf("panel | %s | %s | %s | %d series: %v", dashboard, title, legend, len(result), values))
}

// alert notes that alert name reached state, after in the scenario.
func (p *obsProof) alert(name, state, scenario string, after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.driven == nil {
		p.driven = map[string]bool{}
	}
	p.driven[name] = true
	p.alerts = append(p.alerts, fmt.Sprintf("alert | %s | %s | %s | %.1f s after the fault", name, state, scenario, after.Seconds()))
}

// trace notes the trace Jaeger found for a correlation ID: its spans by service.
func (p *obsProof) trace(id string, tr jaegerTrace) {
	var spans []string
	for _, s := range tr.Spans {
		spans = append(spans, tr.Processes[s.ProcessID].ServiceName+": "+s.OperationName)
	}
	slices.Sort(spans)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.traces = append(p.traces, fmt.Sprintf("trace | correlation ID %s | trace %s | %d spans: %s", id, tr.TraceID, len(spans), strings.Join(spans, ", ")))
}

// log writes the table, with every loaded alert this suite does not drive.
func (p *obsProof) log(t *testing.T, prom *prometheus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range p.panels {
		t.Log(line)
	}
	for _, line := range p.alerts {
		t.Log(line)
	}
	for _, line := range p.traces {
		t.Log(line)
	}
	health, err := prom.ruleHealth()
	if err != nil {
		t.Logf("alert | (rules not listed: %v)", err)
		return
	}
	var names []string
	for name := range health {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !p.driven[name] {
			t.Logf("alert | %s | not driven here (evaluates %s; promtool unit tests in tests/rules) | | ", name, health[name])
		}
	}
}
