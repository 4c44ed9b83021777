package log

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// ParseLevel parses a level name as used in GLASSBOX_LOG_LEVEL: debug, info,
// warn (or warning), error, any of them with an offset ("info+2",
// "ERROR-1"), or a number. Case is ignored.
func ParseLevel(s string) (slog.Level, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "warning" {
		t = "warn"
	}
	if n, err := strconv.Atoi(t); err == nil {
		return slog.Level(n), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(t)); err != nil {
		return 0, fmt.Errorf("unknown level %q (want debug, info, warn, error, optionally with +N/-N, or a number)", s)
	}
	return l, nil
}

// levelNames holds the ECS log.level values of the standard levels.
var levelNames = [...]string{"debug", "info", "warn", "error"}

// levelString returns the ECS log.level for l: "debug", "info", "warn",
// "error", or the nearest one with an offset ("info+2").
func levelString(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return levelNames[0]
	case slog.LevelInfo:
		return levelNames[1]
	case slog.LevelWarn:
		return levelNames[2]
	case slog.LevelError:
		return levelNames[3]
	}
	return strings.ToLower(l.String())
}
