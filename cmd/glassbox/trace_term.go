package main

import (
	"os"
	"strconv"
	"strings"
)

// defaultWidth is the width when nothing tells it: not a terminal and no
// COLUMNS.
const defaultWidth = 100

// outputWidth picks the rendering width: the --width flag, then COLUMNS,
// then the terminal's size, then defaultWidth.
func outputWidth(flagWidth int, e *env) int {
	if flagWidth > 0 {
		return flagWidth
	}
	if n, err := strconv.Atoi(strings.TrimSpace(e.getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if f, ok := e.stdout.(*os.File); ok && isTerminal(f) {
		if n := terminalWidth(f); n > 0 {
			return n
		}
	}
	return defaultWidth
}

// useColor decides whether to colour the output: "always", "never", or
// "auto": only on a terminal, and never with NO_COLOR set (no-color.org)
// or TERM=dumb.
func useColor(mode string, e *env) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := e.stdout.(*os.File)
	return ok && isTerminal(f)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
