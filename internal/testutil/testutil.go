package testutil

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Buffer is a bytes.Buffer safe for concurrent use. The zero value is
// ready to use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	waiters []waiter
}

type waiter struct {
	text string
	ch   chan struct{}
}

// Write appends p and wakes the Written channels whose text the buffer
// now holds.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if bytes.Contains(b.b.Bytes(), []byte(w.text)) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	b.waiters = kept
	return n, err
}

// Written returns a channel that is closed once the buffer holds text (at
// once if it already does): a signal to wait on instead of a sleep.
func (b *Buffer) Written(text string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan struct{})
	if bytes.Contains(b.b.Bytes(), []byte(text)) {
		close(ch)
	} else {
		b.waiters = append(b.waiters, waiter{text: text, ch: ch})
	}
	return ch
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Bytes returns a copy of what was written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.b.Bytes()...)
}

// WaitFor polls cond until it holds, failing t when d passes first. It is
// for conditions nothing signals (a counter an exporter keeps, say); where
// a signal exists, wait on it instead.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// JSONLines decodes one JSON object per non-empty line of s, failing t on
// a line that is not one.
func JSONLines(t testing.TB, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

// EachSpanString calls fn with every span's name and every string (or
// string-slice element) of its attributes, saying where it was found.
func EachSpanString(spans tracetest.SpanStubs, fn func(where, s string)) {
	for _, s := range spans {
		fn("span name", s.Name)
		for _, a := range s.Attributes {
			if a.Value.Type() == attribute.STRINGSLICE {
				for _, v := range a.Value.AsStringSlice() {
					fn("span attribute "+string(a.Key), v)
				}
				continue
			}
			fn("span attribute "+string(a.Key), a.Value.Emit())
		}
	}
}
