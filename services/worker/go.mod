module github.com/streamgate/streamgate/services/worker

go 1.26.0
