module github.com/streamgate/streamgate/services/gateway

go 1.26.0
