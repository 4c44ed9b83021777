//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/glassbox-obs/glassbox/internal/testutil"
)

// openPTY opens a pseudo-terminal of cols columns: the terminal end a
// program writes to, as a user's shell gives it, and what reached the
// screen.
func openPTY(t *testing.T, cols uint16) (*os.File, *testutil.Buffer) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal on this machine: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	ioctl := func(f *os.File, req uintptr, arg unsafe.Pointer) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); e != 0 {
			t.Fatalf("ioctl %#x: %v", req, e)
		}
	}
	var unlock int32
	ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock))
	var n uint32
	ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n))
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ws := struct{ row, col, x, y uint16 }{24, cols, 0, 0}
	ioctl(s, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
	screen := &testutil.Buffer{}
	go func() { _, _ = io.Copy(screen, m) }() // read what is written, as a terminal does
	return s, screen
}

// TestTerminalWidthAndColour: on a terminal the width is the terminal's
// (COLUMNS and --width win) and colour is on unless NO_COLOR or TERM=dumb;
// off a terminal, colour is off and the width 100.
func TestTerminalWidthAndColour(t *testing.T) {
	tty, screen := openPTY(t, 77)
	vars := map[string]string{}
	e := &env{stdout: tty, getenv: func(k string) string { return vars[k] }}
	if w := outputWidth(0, e); w != 77 {
		t.Errorf("terminal width %d, want 77", w)
	}
	if !useColor("auto", e) {
		t.Error("no colour on a terminal")
	}
	vars["COLUMNS"] = "90"
	if w := outputWidth(0, e); w != 90 {
		t.Errorf("COLUMNS=90: width %d", w)
	}
	if w := outputWidth(50, e); w != 50 {
		t.Errorf("--width 50: width %d", w)
	}
	vars["NO_COLOR"] = "1"
	if useColor("auto", e) {
		t.Error("colour despite NO_COLOR")
	}
	if !useColor("always", e) {
		t.Error("--color always ignored")
	}
	delete(vars, "NO_COLOR")
	vars["TERM"] = "dumb"
	if useColor("auto", e) {
		t.Error("colour on TERM=dumb")
	}
	delete(vars, "TERM")
	if useColor("never", e) {
		t.Error("--color never ignored")
	}

	f, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off := &env{stdout: f, getenv: func(string) string { return "" }}
	if useColor("auto", off) || outputWidth(0, off) != defaultWidth {
		t.Error("a file gets colour or a terminal width")
	}

	// The whole command on the terminal: coloured at its width.
	delete(vars, "COLUMNS")
	var errb strings.Builder
	code := run(t.Context(), []string{"trace", "--dir", datasetDir, failedID}, &env{stdin: strings.NewReader(""), stdout: tty, stderr: &errb, getenv: e.getenv})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	fmt.Fprintln(tty, "END-OF-OUTPUT")
	select {
	case <-screen.Written("END-OF-OUTPUT"):
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal never showed the output")
	}
	out := strings.ReplaceAll(screen.String(), "\r", "")
	if !strings.Contains(out, "\x1b[") {
		t.Error("no colour on the terminal")
	}
	plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, "")
	for _, line := range strings.Split(plain, "\n") {
		if n := len([]rune(line)); n > 77 {
			t.Errorf("line of %d columns on a 77-column terminal: %q", n, line)
		}
	}
}
