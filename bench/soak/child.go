package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// child is the service process, seen from the soak: its addresses and
// its control endpoint. The service runs in a process of its own so that
// its heap, RSS and goroutines are its own, not the test servers'.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	addrs  serviceAddrs
	client *http.Client
	stderr *limitedBuffer
	exited chan error
}

// startChild re-executes the current binary as the service (see
// MaybeServe) and waits for its addresses.
func startChild(cfg serviceConfig) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	c := &child{client: &http.Client{Timeout: 30 * time.Second}, stderr: &limitedBuffer{max: 64 << 10}, exited: make(chan error, 1)}
	c.cmd = exec.Command(exe, "-test.run=^$")
	c.cmd.Env = append(os.Environ(), serviceEnv+"="+string(raw))
	c.cmd.Stderr = c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.exited <- c.cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &c.addrs)
	}
	if err != nil {
		c.kill()
		return nil, fmt.Errorf("service did not start: %v; stderr: %s", err, c.stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return c, nil
}

// sample reads the service's counters and runtime figures.
func (c *child) sample(ctx context.Context) (sample, error) {
	return c.call(ctx, http.MethodGet, "/sample")
}

// shutdown calls the service's Telemetry.Shutdown with timeout and
// returns the final figures; the process then exits.
func (c *child) shutdown(ctx context.Context, timeout time.Duration) (sample, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.addrs.Control+"/shutdown?timeout="+timeout.String(), nil)
	if err != nil {
		return sample{}, "", err
	}
	s, hdr, err := c.do(req)
	if err != nil {
		return s, "", err
	}
	select {
	case err = <-c.exited:
		if err != nil {
			err = fmt.Errorf("service exited: %v; stderr: %s", err, c.stderr)
		}
	case <-time.After(10 * time.Second):
		c.kill()
		err = fmt.Errorf("service did not exit after Shutdown; stderr: %s", c.stderr)
	}
	return s, hdr.Get("X-Shutdown-Error"), err
}

func (c *child) call(ctx context.Context, method, path string) (sample, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addrs.Control+path, nil)
	if err != nil {
		return sample{}, err
	}
	s, _, err := c.do(req)
	return s, err
}

func (c *child) do(req *http.Request) (sample, http.Header, error) {
	var s sample
	resp, err := c.client.Do(req)
	if err != nil {
		return s, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return s, resp.Header, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, b)
	}
	return s, resp.Header, json.NewDecoder(resp.Body).Decode(&s)
}

// kill ends the service at once (a failed run) and waits for it.
func (c *child) kill() {
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
	}
	c.client.CloseIdleConnections()
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
