# A real single-node Kubernetes for tests, without Docker: images from the
# unmodified Dockerfile with buildah, the cluster in a network + mount
# namespace of its own (scripts/cluster/, scripts/images/). Needs root.
#   make cluster-up; scripts/cluster/exec.sh kubectl get pods -A; make cluster-down

CLUSTER_SCRIPTS := scripts/cluster

.PHONY: cluster-deps
cluster-deps: ## apt-get install what the local cluster and images-local need (containerd, runc, buildah, ...)
	@$(CLUSTER_SCRIPTS)/deps.sh

.PHONY: cluster-build
cluster-build: ## Build Kubernetes v1.32, etcd and CoreDNS from the Go module proxy (cached per version)
	@$(CLUSTER_SCRIPTS)/build.sh >/dev/null

.PHONY: images-local
images-local: cluster-deps ## Build both images from the Dockerfile with buildah, no Docker (VERSION)
	@VERSION=$(VERSION) scripts/images/local.sh all

.PHONY: cluster-up
cluster-up: cluster-deps cluster-build ## Start the local test cluster (idempotent); then scripts/cluster/exec.sh kubectl ...
	@$(CLUSTER_SCRIPTS)/up.sh

.PHONY: cluster-load
cluster-load: images-local ## Import the images-local images into the running local cluster
	@$(CLUSTER_SCRIPTS)/load-images.sh

.PHONY: cluster-down
cluster-down: ## Stop the local test cluster: no process, mount, cgroup or namespace left
	@$(CLUSTER_SCRIPTS)/down.sh

.PHONY: cluster-e2e
cluster-e2e: cluster-deps cluster-build images-local deploy-tools ## Both charts on the local cluster with real Kafka: rollout, curl, helm test, restart, scale
	cd tests && HELM=$(HELM) STREAMGATE_CLUSTER_IMAGES=$(CURDIR)/bin/images/images.env \
	  $(GO_TEST) -timeout 30m -v ./cluster

.PHONY: cluster-skaffold
cluster-skaffold: cluster-deps cluster-build images-local deploy-tools ## skaffold run -p existing-kafka,local-cluster on the local cluster, then curl (builds skaffold: heavy)
	@$(MAKE) --no-print-directory $(SKAFFOLD)
	cd tests && SKAFFOLD=$(SKAFFOLD) STREAMGATE_CLUSTER_IMAGES=$(CURDIR)/bin/images/images.env \
	  $(GO_TEST) -tags skaffold -run TestSkaffoldRun -timeout 30m -v ./cluster
