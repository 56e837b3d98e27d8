module github.com/streamgate/streamgate/tools/devbroker

go 1.26.0
