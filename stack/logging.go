package stack

import (
	"log/slog"
	"os"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/telemetry"
)

// NewLogger is the process's logger, at --log-level in --log-format, on stderr.
func NewLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	// Lines logged with a traced context name their trace (trace_id).
	if cfg.LogFormat == "json" {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
}

// quietLogger keeps the embedded server's chatter to warnings unless debugging.
func quietLogger(cfg config.Config) *slog.Logger {
	c := cfg
	if c.LogLevel != "debug" {
		c.LogLevel = "error"
	}
	return NewLogger(c)
}
