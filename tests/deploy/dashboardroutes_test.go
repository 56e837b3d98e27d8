package deploy

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/streamgate/streamgate/pkg/messages"
	"github.com/streamgate/streamgate/pkg/router"
	"github.com/streamgate/streamgate/tests/internal/grafana"
)

// TestDashboardsByRoute: every worker metric with a route label (as the router
// registers them for a route) is shown in a panel that keeps route apart, so a worker
// with several routes shows each one's calls, durations, retries and dead letters.
func TestDashboardsByRoute(t *testing.T) {
	m, err := router.NewMetrics("worker", "test")
	if err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Config{Metrics: m})
	if err := router.Register(r, router.Route[messages.SampleReqMsg, messages.SampleResMsg]{
		Name: "ping", Topic: "in-topic", ReplyTopic: "out-topic", DeadLetterTopic: "in-topic.dlq",
		Request: router.CodecFuncs(messages.EncodeRequest, messages.DecodeRequest),
		Reply:   router.CodecFuncs(messages.EncodeResponse, messages.DecodeResponse),
		Handler: func(context.Context, router.Message[messages.SampleReqMsg]) (messages.SampleResMsg, error) {
			return messages.SampleResMsg{}, nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	m.HandlerDuration.WithLabelValues("ping").Observe(0.001) // a histogram's series start with its first call
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	for _, f := range families {
		for _, l := range f.GetMetric()[0].GetLabel() {
			if l.GetName() == "route" {
				routed = append(routed, f.GetName())
			}
		}
	}
	if len(routed) < 6 {
		t.Fatalf("route-labelled families %v, want at least the records, replies, dead letters and the handler's calls, duration and retries", routed)
	}

	d, _, err := grafana.Read(filepath.Join(repoRoot(t), "charts", "worker", "dashboards", "worker.json"))
	if err != nil {
		t.Fatal(err)
	}
	byRoute := map[string][]string{} // family -> panels that show it by route
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			e, err := promQL.ParseExpr(grafanaVariables.Replace(tg.Expr))
			if err != nil {
				t.Fatalf("panel %q: %v", p.Title, err)
			}
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				agg, ok := n.(*parser.AggregateExpr)
				if !ok || agg.Without || !slices.Contains(agg.Grouping, "route") {
					return nil
				}
				for _, name := range metricNames(t, agg.Expr.String()) {
					for _, f := range routed {
						if exported([]string{f}, name) {
							byRoute[f] = append(byRoute[f], p.Title)
						}
					}
				}
				return nil
			})
		}
	}
	for _, f := range routed {
		if len(byRoute[f]) == 0 {
			t.Errorf("no worker dashboard panel shows %s by route", f)
		}
	}
	t.Logf("by route: %v", byRoute)
}
