module github.com/streamgate/streamgate/tests

go 1.26.0
