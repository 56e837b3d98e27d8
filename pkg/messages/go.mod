module github.com/streamgate/streamgate/pkg/messages

go 1.26.0
