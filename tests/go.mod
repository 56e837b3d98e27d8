module github.com/streamgate/streamgate/tests

go 1.26.0

require (
	github.com/evanphx/json-patch/v5 v5.9.11
	github.com/moby/patternmatcher v0.6.1
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/mod v0.43.0
	golang.org/x/text v0.42.0 // indirect
	sigs.k8s.io/yaml v1.6.0
)
