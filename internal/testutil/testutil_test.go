package testutil

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBufferWrittenAndConcurrentWrites(t *testing.T) {
	var b Buffer
	done := b.Written("line 99\n")
	select {
	case <-done:
		t.Fatal("Written fired before the text was written")
	default:
	}
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(&b, "line %d\n", i)
		}()
	}
	<-done
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 100 {
		t.Errorf("got %d lines, want 100", got)
	}
	select {
	case <-b.Written("line 5\n"):
	default:
		t.Error("Written of text already there must fire at once")
	}
	if got, want := string(b.Bytes()), b.String(); got != want {
		t.Errorf("Bytes %q differs from String %q", got, want)
	}
}

func TestJSONLines(t *testing.T) {
	got := JSONLines(t, "{\"a\":1}\n\n{\"b\":\"x\"}\n")
	if len(got) != 2 || got[0]["a"] != float64(1) || got[1]["b"] != "x" {
		t.Errorf("got %v, want two objects", got)
	}
	ft := &fatalRecorder{}
	func() {
		defer func() { _ = recover() }()
		JSONLines(ft, "{\"a\":1}\nnot json\n")
	}()
	if !ft.failed {
		t.Error("a line that is not JSON must fail the test")
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

func TestWaitFor(t *testing.T) {
	var n atomic.Int32
	go func() {
		for i := 0; i < 3; i++ {
			n.Add(1)
		}
	}()
	WaitFor(t, 5*time.Second, "three increments", func() bool { return n.Load() == 3 })

	ft := &fatalRecorder{}
	func() {
		defer func() { _ = recover() }()
		WaitFor(ft, 20*time.Millisecond, "never", func() bool { return false })
	}()
	if !ft.failed {
		t.Error("a condition that never holds must fail the test")
	}
}
