// Package config declares and loads the gateway's settings. It is exported so that
// deployment tests can check the Helm chart against EnvVars.
package config

import (
	"github.com/streamgate/streamgate/pkg/platform/config"
)

// HTTPAddr is where the gateway serves its API and probes.
var HTTPAddr = config.Var{Name: "HTTP_ADDR", Default: ":8080"}

// Config is everything the gateway reads at start-up.
type Config struct {
	config.Common
}

// vars lists every setting the gateway reads.
func vars() []config.Var {
	return config.CommonVars(HTTPAddr)
}

// EnvVars returns the primary names of the environment variables the gateway reads.
func EnvVars() []string {
	return config.Names(vars()...)
}

// Load reads the configuration from the environment; the error names every bad
// variable with its value.
func Load() (Config, error) {
	r := config.NewReader()
	cfg := Config{Common: r.Common(HTTPAddr)}
	if err := r.Err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
