# Kubernetes delivery: images, Helm charts, Strimzi Kafka, skaffold.
# Included by the root Makefile (`include mk/*.mk`); also usable alone:
#   make -f mk/deploy.mk deploy-test
#
# Tools are pinned here and built with `go install` into bin/ (git-ignored),
# once: each is a file target named after its version.

# The root Makefile's `help` stays the default goal whatever the include
# order; run alone (make -f mk/deploy.mk), this file lists its own targets.
ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),deploy.mk)
.DEFAULT_GOAL := help
.PHONY: help
help: ## List the targets of mk/deploy.mk
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'
else ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := help
endif

HELM_VERSION             ?= v3.22.0
KUBECTL_VALIDATE_VERSION ?= v0.0.4
SKAFFOLD_VERSION         ?= v2.16.1
STRIMZI_VERSION          ?= 1.2.0
# Kubernetes version whose built-in OpenAPI schemas kubectl-validate uses.
K8S_SCHEMA_VERSION       ?= 1.30

TOOLS_BIN        := $(CURDIR)/bin
HELM             := $(TOOLS_BIN)/helm-$(HELM_VERSION)
KUBECTL_VALIDATE := $(TOOLS_BIN)/kubectl-validate-$(KUBECTL_VALIDATE_VERSION)
SKAFFOLD         := $(TOOLS_BIN)/skaffold-$(SKAFFOLD_VERSION)

# shared/ sits beside the repository (CI clones it the same way).
SHARED_DIR   ?= $(abspath $(CURDIR)/../shared)
STRIMZI_CRDS ?= $(SHARED_DIR)/strimzi/$(STRIMZI_VERSION)/crds

CHARTS        := charts/gateway charts/worker
# The library chart both service charts include (vendored into their charts/).
CHART_LIB     := charts/streamgate-lib
K8S_NAMESPACE ?= default
KAFKA_NAME    := streamgate-kafka
KAFKA_TIMEOUT ?= 15m

# Images: `make images` builds what `make deploy` installs.
VERSION        ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_REGISTRY ?= ghcr.io/streamgate
IMAGE_TAG      ?= $(VERSION)
GATEWAY_IMAGE  ?= $(IMAGE_REGISTRY)/gateway
WORKER_IMAGE   ?= $(IMAGE_REGISTRY)/worker
DOCKER         ?= docker
KIND_CLUSTER   ?= kind

# go install PKG@VERSION into bin/NAME-VERSION, and bin/NAME -> it.
# $(1)=name $(2)=package $(3)=version $(4)=extra -ldflags
define go-install-tool
	@mkdir -p $(TOOLS_BIN)
	@echo ">> building $(1) $(3) (go install $(2)@$(3); takes minutes, once)"
	@tmp=$$(mktemp -d) && \
	  GOWORK=off GOBIN=$$tmp go install -trimpath -ldflags "-s -w $(4)" $(2)@$(3) && \
	  mv $$tmp/$(1) $(TOOLS_BIN)/$(1)-$(3) && rm -rf $$tmp
	@ln -sf $(1)-$(3) $(TOOLS_BIN)/$(1)
endef

# What helm's own release build stamps in (its Makefile): the version, and the
# Kubernetes version of its client-go (v0.37 in helm v3.22.0 -> 1.37) as the
# default for template/lint. The proofs pass --kube-version anyway.
HELM_K8S_MINOR ?= 37
HELM_LDFLAGS := -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
  -X helm.sh/helm/v3/internal/version.metadata= \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR) \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR)

$(HELM):
	$(call go-install-tool,helm,helm.sh/helm/v3/cmd/helm,$(HELM_VERSION),$(HELM_LDFLAGS))

$(KUBECTL_VALIDATE):
	$(call go-install-tool,kubectl-validate,sigs.k8s.io/kubectl-validate,$(KUBECTL_VALIDATE_VERSION))

# skaffold's go.mod has replace directives, which `go install pkg@version`
# refuses: build ./cmd/skaffold inside the downloaded module instead, with
# the tags and version stamp of its release build. Heavy; only `dev` needs it.
SKAFFOLD_MODULE := github.com/GoogleContainerTools/skaffold/v2
$(SKAFFOLD):
	@mkdir -p $(TOOLS_BIN)
	@echo ">> building skaffold $(SKAFFOLD_VERSION) from $(SKAFFOLD_MODULE)@$(SKAFFOLD_VERSION) (takes many minutes, once)"
	@dir=$$(cd / && GOWORK=off go mod download -json $(SKAFFOLD_MODULE)@$(SKAFFOLD_VERSION) | \
	    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && test -n "$$dir" && \
	  cd "$$dir" && GOWORK=off GOFLAGS=-mod=readonly go build -trimpath -tags "timetzdata release" \
	    -ldflags "-s -w -X $(SKAFFOLD_MODULE)/pkg/skaffold/version.version=$(SKAFFOLD_VERSION)" \
	    -o $(SKAFFOLD) ./cmd/skaffold
	@ln -sf skaffold-$(SKAFFOLD_VERSION) $(TOOLS_BIN)/skaffold

.PHONY: deploy-tools
deploy-tools: $(HELM) $(KUBECTL_VALIDATE) ## Build the pinned helm and kubectl-validate into bin/

.PHONY: charts-deps
charts-deps: $(HELM) ## Vendor charts/streamgate-lib into both charts (after editing it)
	@set -e; for c in $(CHARTS); do $(HELM) dependency update --skip-refresh $$c; done

.PHONY: charts-schema
charts-schema: ## Generate charts/*/values.schema.json from charts/schema/*.yaml
	cd tests && go test -count=1 -run 'TestValuesSchemaGenerated' ./deploy -update-schema

.PHONY: helm-lint
helm-lint: $(HELM) ## helm lint --strict every chart, default and production-like values
	$(HELM) lint --strict $(CHART_LIB)
	@set -e; for c in $(CHARTS); do \
	  echo ">> helm lint --strict $$c"; \
	  $(HELM) lint --strict --kube-version $(K8S_SCHEMA_VERSION).0 $$c; \
	  for f in $$c/ci/*-values.yaml; do \
	    echo ">> helm lint --strict $$c -f $$f"; \
	    $(HELM) lint --strict --kube-version $(K8S_SCHEMA_VERSION).0 $$c -f $$f; \
	  done; \
	done

.PHONY: kafka-validate
kafka-validate: $(KUBECTL_VALIDATE) ## Validate k8s/ (Kafka, node pool, topics) against the Strimzi CRDs in shared/
	$(KUBECTL_VALIDATE) --version $(K8S_SCHEMA_VERSION) --local-crds $(STRIMZI_CRDS) k8s/

.PHONY: deploy-test
deploy-test: helm-lint kafka-validate ## All offline deploy proofs: lint, schema validation, invariants, promtool rule and dashboard tests (tests/deploy)
	promtool=$$(scripts/observability/tools.sh promtool) && cd tests && \
	  HELM=$(HELM) KUBECTL_VALIDATE=$(KUBECTL_VALIDATE) PROMTOOL=$$promtool STREAMGATE_SHARED_DIR=$(SHARED_DIR) \
	  go test -race -count=1 -timeout 20m ./deploy

.PHONY: images
images: ## docker build the gateway and worker images from the one Dockerfile (VERSION, IMAGE_REGISTRY)
	$(DOCKER) build --build-arg SERVICE=gateway --build-arg VERSION=$(VERSION) -t $(GATEWAY_IMAGE):$(IMAGE_TAG) .
	$(DOCKER) build --build-arg SERVICE=worker --build-arg VERSION=$(VERSION) -t $(WORKER_IMAGE):$(IMAGE_TAG) .

.PHONY: kind-load
kind-load: images ## Load both images into the kind cluster KIND_CLUSTER
	kind load docker-image --name $(KIND_CLUSTER) $(GATEWAY_IMAGE):$(IMAGE_TAG) $(WORKER_IMAGE):$(IMAGE_TAG)

.PHONY: kafka-up
kafka-up: $(HELM) ## Strimzi operator + k8s/ Kafka, topics and users, then wait until they are Ready
	$(HELM) upgrade --install strimzi-cluster-operator oci://quay.io/strimzi-helm/strimzi-kafka-operator \
	  --version $(STRIMZI_VERSION) --namespace $(K8S_NAMESPACE) --create-namespace --wait
	kubectl --namespace $(K8S_NAMESPACE) apply -f k8s/
	kubectl --namespace $(K8S_NAMESPACE) wait kafka/$(KAFKA_NAME) --for=condition=Ready --timeout=$(KAFKA_TIMEOUT)
	kubectl --namespace $(K8S_NAMESPACE) wait kafkatopics,kafkausers -l strimzi.io/cluster=$(KAFKA_NAME) \
	  --for=condition=Ready --timeout=5m

.PHONY: kafka-down
kafka-down: $(HELM) ## Delete the k8s/ topics, Kafka and the Strimzi operator
	@# Topics first, while the topic operator still runs to finalize them.
	kubectl --namespace $(K8S_NAMESPACE) delete kafkatopics -l strimzi.io/cluster=$(KAFKA_NAME) \
	  --ignore-not-found --wait --timeout=2m
	kubectl --namespace $(K8S_NAMESPACE) delete -f k8s/ --ignore-not-found --wait --timeout=5m
	$(HELM) uninstall strimzi-cluster-operator --namespace $(K8S_NAMESPACE) --ignore-not-found

.PHONY: deploy
deploy: $(HELM) ## helm install both charts with IMAGE_TAG (after images/kind-load and kafka-up)
	$(HELM) upgrade --install gateway charts/gateway --namespace $(K8S_NAMESPACE) --create-namespace \
	  --set image.repository=$(GATEWAY_IMAGE) --set-string image.tag=$(IMAGE_TAG) --wait
	$(HELM) upgrade --install worker charts/worker --namespace $(K8S_NAMESPACE) --create-namespace \
	  --set image.repository=$(WORKER_IMAGE) --set-string image.tag=$(IMAGE_TAG) --wait
	@echo "next: kubectl --namespace $(K8S_NAMESPACE) port-forward svc/gateway 8080:8080 & curl -i localhost:8080/v1/ping"

.PHONY: undeploy
undeploy: $(HELM) ## helm uninstall both charts (and their kept helm test Pods)
	$(HELM) uninstall gateway worker --namespace $(K8S_NAMESPACE) --ignore-not-found
	kubectl --namespace $(K8S_NAMESPACE) delete pods --ignore-not-found \
	  -l app.kubernetes.io/part-of=streamgate,app.kubernetes.io/component=test

.PHONY: dev
dev: $(SKAFFOLD) $(HELM) ## skaffold dev: build, deploy Kafka and both services, forward localhost:8080
	PATH="$(TOOLS_BIN):$$PATH" STREAMGATE_VERSION=$(VERSION) $(SKAFFOLD) dev $(SKAFFOLD_FLAGS)
