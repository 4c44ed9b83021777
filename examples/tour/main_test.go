package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// TestTour runs the tour as README's first command does and checks
// what a newcomer sees: every stdout line is an ECS JSON document, the
// caller's correlation ID reaches the downstream call, and the panic is
// logged with its stack.
func TestTour(t *testing.T) {
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	savedOut, savedErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(errR); done <- b }()
	lines := make(chan []map[string]any)
	go func() {
		var docs []map[string]any
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
				continue
			}
			docs = append(docs, m)
		}
		lines <- docs
	}()
	err := run()
	os.Stdout, os.Stderr = savedOut, savedErr
	outW.Close()
	errW.Close()
	docs, stderr := <-lines, string(<-done)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}

	byID := map[string][]string{}
	var panicDoc map[string]any
	for _, d := range docs {
		id, _ := d["correlation.id"].(string)
		msg, _ := d["message"].(string)
		byID[id] = append(byID[id], msg)
		if msg == "panic recovered" {
			panicDoc = d
		}
	}
	if got := strings.Join(byID["demo-order-42"], ","); !strings.Contains(got, "inventory checked") || strings.Count(got, "request completed") < 2 {
		t.Errorf("records with the caller's ID: %s; want the inventory call and both access logs", got)
	}
	if panicDoc == nil || !strings.Contains(panicDoc["error.stack_trace"].(string), "main.") {
		t.Errorf("panic record: %v", panicDoc)
	}
	if !strings.Contains(stderr, "X-Correlation-ID: demo-order-42") {
		t.Errorf("stderr does not show the echoed ID:\n%s", stderr)
	}
}
