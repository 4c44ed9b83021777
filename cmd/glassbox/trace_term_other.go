//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package main

import "os"

// terminalWidth is unknown here: COLUMNS or --width tell it.
func terminalWidth(*os.File) int { return 0 }
