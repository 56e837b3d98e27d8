# Observability proofs: alert rules and dashboards under a real promtool, and the suite
# against a real Prometheus and Jaeger (tests/e2e, build tag obs). Included by the root Makefile.
# The tools build from the Go module proxy into ~/.cache/streamgate, once per version
# (scripts/observability/tools.sh; minutes and GBs the first time).

.PHONY: obs-tools
obs-tools: ## Build (once, cached) the real Prometheus, promtool and Jaeger the observability tests use
	nice -n 10 scripts/observability/tools.sh all

.PHONY: rules-test
rules-test: $(HELM) ## promtool check/test rules on the charts' alerts (tests/rules) and the dashboards' queries under Operator labels
	promtool=$$(scripts/observability/tools.sh promtool) && cd tests && HELM=$(HELM) PROMTOOL=$$promtool \
	  go test -race -count=1 -run 'TestAlertRules|TestDashboards' -v ./deploy

.PHONY: obs-e2e
obs-e2e: $(HELM) ## A real Prometheus (Operator-style target labels, the charts' rules) and Jaeger over both services on real Kafka (tests/e2e, tag obs)
	@prometheus=$$(nice -n 10 scripts/observability/tools.sh prometheus) && \
	  jaeger=$$(nice -n 10 scripts/observability/tools.sh jaeger) && \
	  HELM=$(HELM) PROMETHEUS=$$prometheus JAEGER=$$jaeger \
	  $(GO_TEST) -tags obs -timeout 10m -v -run '^TestObservability' ./tests/e2e/...
