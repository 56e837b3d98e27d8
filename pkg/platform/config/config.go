// Package config reads service settings from environment variables through viper and
// turns every bad value into an error that names the variable and the value.
//
// Each service declares its settings as Vars and reads them with a Reader; the same
// declarations list the variables the service reads (see Names), so documentation and
// deployment manifests can be checked against them.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Var declares one setting: its environment variable, older names that still work,
// and the value used when none of them is set.
type Var struct {
	Name    string
	Aliases []string // e.g. the Python original's FASTSTREAM_* names
	Default string
}

// Names returns the primary variable names of vars, in order.
func Names(vars ...Var) []string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}

// Reader reads Vars from the environment and collects every error, so that one start
// reports all bad settings at once.
type Reader struct {
	env  *viper.Viper
	errs []error
}

// NewReader returns a Reader over the process environment.
func NewReader() *Reader {
	env := viper.New()
	// A variable set to "" is a mistake to report, not a request for the default.
	env.AllowEmptyEnv(true)
	return &Reader{env: env}
}

// lookup returns the raw value and the name it came from: the primary name first, then
// each alias; the default when none is set.
func (r *Reader) lookup(v Var) (value, source string) {
	if value, name, ok := r.lookupSet(v); ok {
		return value, name
	}
	return v.Default, v.Name + " (default)"
}

// lookupSet returns the value of the first of v's names that is set, and that name.
func (r *Reader) lookupSet(v Var) (value, name string, ok bool) {
	for _, name := range append([]string{v.Name}, v.Aliases...) {
		// BindEnv only fails without a key; the key is always given here.
		_ = r.env.BindEnv(name)
		if r.env.IsSet(name) {
			return strings.TrimSpace(r.env.GetString(name)), name, true
		}
	}
	return "", "", false
}

func (r *Reader) fail(source, value, reason string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: %s", source, value, reason))
}

// String returns the value of v; an empty value is an error.
func (r *Reader) String(v Var) string {
	value, source := r.lookup(v)
	if value == "" {
		r.fail(source, value, "must not be empty")
	}
	return value
}

// OneOf returns the value of v, which must be one of allowed.
func (r *Reader) OneOf(v Var, allowed ...string) string {
	value, source := r.lookup(v)
	for _, a := range allowed {
		if value == a {
			return value
		}
	}
	r.fail(source, value, "must be one of "+strings.Join(allowed, ", "))
	return value
}

// Bool returns the value of v parsed as a boolean (true/false, 1/0, yes/no, on/off).
func (r *Reader) Bool(v Var) bool {
	value, source := r.lookup(v)
	switch strings.ToLower(value) {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	r.fail(source, value, "must be true or false")
	return false
}

// PositiveInt returns the value of v parsed as a whole number of at least 1 and at
// most limit.
func (r *Reader) PositiveInt(v Var, limit int) int {
	value, source := r.lookup(v)
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > limit {
		r.fail(source, value, fmt.Sprintf("must be a whole number from 1 to %d", limit))
	}
	return n
}

// Duration returns the value of v parsed as a positive Go duration such as 15s or 1m30s.
func (r *Reader) Duration(v Var) time.Duration {
	return r.duration(v, false)
}

// NonNegativeDuration returns the value of v as a duration that may be zero.
func (r *Reader) NonNegativeDuration(v Var) time.Duration {
	return r.duration(v, true)
}

func (r *Reader) duration(v Var, zeroAllowed bool) time.Duration {
	value, source := r.lookup(v)
	d, err := time.ParseDuration(value)
	switch {
	case err != nil:
		r.fail(source, value, "must be a duration such as 15s or 1m")
	case zeroAllowed && d < 0:
		r.fail(source, value, "must not be negative")
	case !zeroAllowed && d <= 0:
		r.fail(source, value, "must be positive")
	}
	return d
}

// Addr returns the value of v as a listen address: host:port or :port.
func (r *Reader) Addr(v Var) string {
	value, source := r.lookup(v)
	if _, err := parseHostPort(value, true); err != nil {
		r.fail(source, value, err.Error())
	}
	return value
}

// Brokers returns the value of v as a list of Kafka bootstrap addresses, separated by
// commas. A kafka:// prefix, as FastStream URLs may carry, is dropped.
func (r *Reader) Brokers(v Var) []string {
	value, source := r.lookup(v)
	var brokers []string
	failed := false
	for _, part := range strings.Split(value, ",") {
		addr := strings.TrimPrefix(strings.TrimSpace(part), "kafka://")
		if addr == "" {
			continue
		}
		if _, err := parseHostPort(addr, false); err != nil {
			r.fail(source, value, fmt.Sprintf("broker %q: %v", addr, err))
			failed = true
			continue
		}
		brokers = append(brokers, addr)
	}
	if len(brokers) == 0 && !failed {
		r.fail(source, value, "must list at least one broker as host:port")
	}
	return brokers
}

// Err returns every error met so far, joined, or nil.
func (r *Reader) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", errors.Join(r.errs...))
}

func parseHostPort(addr string, hostOptional bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errors.New("must be host:port")
	}
	if host == "" && !hostOptional {
		return "", errors.New("must name a host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", errors.New("port must be a number from 1 to 65535")
	}
	return host, nil
}

// Optional returns the value of v, or "" when v is not set at all (Default is ignored).
// A variable set to an empty value is still an error: deployments set these only when
// they have a value.
func (r *Reader) Optional(v Var) string {
	value, name, ok := r.lookupSet(v)
	if ok && value == "" {
		r.fail(name, value, "must not be empty when set")
	}
	return value
}

// OptionalFile returns the value of v, a path that must name a readable regular file
// when v is set, or "" when v is not set. What the file contains is not checked here.
func (r *Reader) OptionalFile(v Var) string {
	path := r.Optional(v)
	if path == "" {
		return ""
	}
	if err := checkReadable(path); err != nil {
		// The value is not echoed: a secret put in a *_FILE variable by mistake would
		// end up in the start-up error and the logs.
		r.errs = append(r.errs, fmt.Errorf("%s (value not shown, %d characters): %w", v.Name, len(path), err))
	}
	return path
}

// Check records a problem with a combination of settings; message names the variables.
func (r *Reader) Check(ok bool, message string) {
	if !ok {
		r.errs = append(r.errs, errors.New(message))
	}
}

func checkReadable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot open the file: %w", errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return fmt.Errorf("cannot read the file: %w", err)
	case info.IsDir():
		return errors.New("is a directory, not a file")
	}
	return nil
}
