// Package logging builds the zap logger both services use: JSON with the field names
// the Python original's log shippers expect (timestamp, level, message), or a colourful
// console format for people.
package logging

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Formats accepted by Options.Format.
const (
	FormatJSON    = "json"
	FormatConsole = "console"
)

// Options select the logger's shape.
type Options struct {
	Level   string // debug, info, warn or error
	Format  string // FormatJSON or FormatConsole
	Service string // added to every line as "service"
	Version string // added to every line as "version"
	// Output defaults to standard output, where container runtimes collect logs.
	Output io.Writer
}

// New returns a logger built from opts, or an error that names the bad option.
func New(opts Options) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(opts.Level)
	if err != nil {
		return nil, fmt.Errorf("logging: level %q: %w", opts.Level, err)
	}
	out := opts.Output
	if out == nil {
		out = os.Stdout
	}
	encoder, err := newEncoder(opts.Format, isTerminal(out))
	if err != nil {
		return nil, err
	}
	core := zapcore.NewCore(encoder, zapcore.Lock(zapcore.AddSync(out)), level)
	return zap.New(core, zap.ErrorOutput(zapcore.Lock(os.Stderr))).With(
		zap.String("service", opts.Service),
		zap.String("version", opts.Version),
	), nil
}

func newEncoder(format string, colour bool) (zapcore.Encoder, error) {
	cfg := zapcore.EncoderConfig{
		TimeKey:        "timestamp",
		LevelKey:       "level",
		MessageKey:     "message",
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeTime:     zapcore.RFC3339NanoTimeEncoder,
		EncodeDuration: zapcore.MillisDurationEncoder,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
	}
	switch format {
	case FormatJSON:
		return zapcore.NewJSONEncoder(cfg), nil
	case FormatConsole:
		cfg.EncodeLevel = zapcore.CapitalLevelEncoder
		if colour {
			cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		return zapcore.NewConsoleEncoder(cfg), nil
	default:
		return nil, fmt.Errorf("logging: format %q: want %q or %q", format, FormatJSON, FormatConsole)
	}
}

// isTerminal reports whether w is a terminal, where colour codes help rather than
// litter a file.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
