module github.com/streamgate/streamgate/pkg/platform

go 1.26.0
