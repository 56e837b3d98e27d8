// Package cluster proves the Kubernetes path on a real single-node cluster
// (scripts/cluster: Kubernetes v1.32, containerd, CNI bridge, CoreDNS in a
// network + mount namespace of its own) with the project's real Kafka 4.3.1
// on the node: the images built from the unmodified Dockerfile, both charts
// installed with helm into a namespace enforcing Pod Security "restricted",
// rollout, port-forward + curl, logs, helm test, the containers' user and
// read-only root filesystem, a worker rolling restart under load and a scale
// to three replicas.
//
// Run it with `make cluster-e2e` (root; it builds what it needs). Set
// STREAMGATE_CLUSTER_KEEP=1 to leave the cluster up afterwards.
package cluster
