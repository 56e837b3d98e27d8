// Package buildinfo holds what the build stamps into a binary.
package buildinfo

// Version is set at build time:
//
//	go build -ldflags "-X github.com/streamgate/streamgate/pkg/platform/buildinfo.Version=1.2.3"
//
// APP_VERSION overrides it at run time.
var Version = "dev"
