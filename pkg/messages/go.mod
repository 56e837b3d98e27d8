module github.com/streamgate/streamgate/pkg/messages

go 1.26.0

require github.com/go-json-experiment/json v1.27.2
