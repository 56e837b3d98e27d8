module github.com/streamgate/streamgate/tests

go 1.26.0

require (
	github.com/IBM/sarama v1.61.1 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/eapache/go-resiliency v1.7.0 // indirect
	github.com/evanphx/json-patch/v5 v5.9.11
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/go-uuid v1.0.3 // indirect
	github.com/jcmturner/aescts/v2 v2.0.0 // indirect
	github.com/jcmturner/dnsutils/v2 v2.0.0 // indirect
	github.com/jcmturner/gofork v1.7.6 // indirect
	github.com/jcmturner/gokrb5/v8 v8.4.4 // indirect
	github.com/jcmturner/rpc/v2 v2.0.3 // indirect
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/moby/patternmatcher v0.6.1
	github.com/pierrec/lz4/v4 v4.1.31 // indirect
	github.com/rcrowley/go-metrics v0.0.0-20250401214520-65e299d6c5c9 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/streamgate/streamgate/pkg/messages v0.0.0
	github.com/streamgate/streamgate/pkg/platform v0.0.0
	github.com/streamgate/streamgate/services/worker v0.0.0
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/mod v0.43.0
	golang.org/x/net v0.59.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	sigs.k8s.io/yaml v1.6.0
)

replace github.com/streamgate/streamgate/services/worker => ../services/worker

replace github.com/streamgate/streamgate/pkg/messages => ../pkg/messages

replace github.com/streamgate/streamgate/pkg/platform => ../pkg/platform
