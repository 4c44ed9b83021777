//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/internal/story"
)

// chromiumBin finds Debian's chromium. The page is checked in a real
// browser: without one the test fails (it never skips) and says how to
// install it.
func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the HTML page of glassbox trace is checked in a real browser. " +
		"Install it with: apt-get update && apt-get install -y chromium (.ci/run does this)")
	return ""
}

// runChromium runs headless chromium with a fresh profile and no
// background networking, killing its whole process group at the end.
func runChromium(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := chromiumBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--no-default-browser-check", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind, if any
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// pageServer serves the page on loopback and records every request.
type pageServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
}

func servePage(t *testing.T, page string) *pageServer {
	ps := &pageServer{}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.reqs = append(ps.reqs, r.Method+" "+r.URL.Path)
		ps.mu.Unlock()
		switch r.URL.Path {
		case "/story.html":
		case "/story-nojs.html": // as a browser with JavaScript off shows it
			w.Header().Set("Content-Security-Policy", "script-src 'none'")
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *pageServer) requests() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]string(nil), ps.reqs...)
}

// TestHTMLInBrowser renders the page in headless chromium, served from a
// loopback server: the DOM holds every span and every log line, the
// page's own script ran (its CSP hash is right) and the hostile one did
// not, the page asked the server for nothing but itself, and the
// screenshot shows the bars in every service's colour.
func TestHTMLInBrowser(t *testing.T) {
	page, j := writePage(t, nil)
	srv := servePage(t, page)
	url := srv.URL + "/story.html"

	shot := filepath.Join(t.TempDir(), "story.png")
	dom := string(runChromium(t, "--window-size=1400,1400", "--screenshot="+shot, "--dump-dom", url))
	checkDOM(t, dom, j, true)
	checkScreenshot(t, shot, len(j.Services))

	// Without JavaScript the essentials are all there (the tools that
	// need it stay hidden).
	noJS := string(runChromium(t, "--dump-dom", srv.URL+"/story-nojs.html"))
	checkDOM(t, noJS, j, false)

	for _, r := range srv.requests() {
		if r != "GET /story.html" && r != "GET /story-nojs.html" {
			t.Errorf("the page made a request: %s (all: %v)", r, srv.requests())
		}
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("got %d requests, want the page twice (with and without JavaScript): %v", n, srv.requests())
	}
}

func checkDOM(t *testing.T, dom string, j story.JSON, scripts bool) {
	t.Helper()
	if !strings.Contains(dom, "Story of") {
		t.Fatalf("chromium's DOM is not the page:\n%.500s", dom)
	}
	for _, raw := range j.Spans {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		id, _ := d["span.id"].(string)
		if !strings.Contains(dom, `data-span-id="`+id+`"`) {
			t.Errorf("span %s (%v) not in the DOM", id, d["span.name"])
		}
		name := html.EscapeString(d["span.name"].(string))
		if !strings.Contains(dom, `<span class="span-name">`+name+`</span>`) {
			t.Errorf("span name %q not in the DOM", name)
		}
	}
	for _, raw := range j.Logs {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		msg := strings.ReplaceAll(d["message"].(string), "\x1b", "\uFFFD")
		if !strings.Contains(dom, `<span class="msg">`+html.EscapeString(msg)+`</span>`) &&
			!strings.Contains(dom, `<span class="msg">`+strings.ReplaceAll(html.EscapeString(msg), "&#39;", "'")+`</span>`) {
			t.Errorf("log line %q not in the DOM", msg)
		}
	}
	if !strings.Contains(dom, `<span class="site">at github.com/glassbox-obs/glassbox/cmd/glassbox.ledgerHandler.func1 (`) {
		t.Error("the crash site of the ledger's error is not in the DOM")
	}
	if n := strings.Count(dom, "<script"); n != 1 {
		t.Errorf("%d script elements in the DOM, want 1: the memo's <script> became an element", n)
	}
	if !strings.Contains(dom, "&lt;script&gt;alert('memo')&lt;/script&gt;") {
		t.Error("the memo's text is not shown as text")
	}
	// The page's script shows the tools (display:none without it): proof
	// that the Content-Security-Policy lets the page's own script run.
	if ran := strings.Contains(dom, `class="tools js-only" style="display: block;"`); ran != scripts {
		t.Errorf("the page's script ran: %v, want %v (check the CSP hash)", ran, scripts)
	}
}

// checkScreenshot decodes the PNG and counts the pixels of each service's
// bar colour: the waterfall is drawn, not blank.
func checkScreenshot(t *testing.T, path string, services int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	counts := make([]int, services)
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl := rgb(img, x, y)
			if r < 245 || g < 245 || bl < 245 {
				nonWhite++
			}
			for i := 0; i < services; i++ {
				if near(r, g, bl, story.ServiceColors[i]) {
					counts[i]++
				}
			}
		}
	}
	total := b.Dx() * b.Dy()
	if nonWhite < total/50 {
		t.Errorf("screenshot is blank: %d of %d pixels are not white", nonWhite, total)
	}
	for i, n := range counts {
		// Bars are 12 pixels high; this story draws 8,000+ pixels per service
		// (the coloured service names alone, without bars, under 1,000).
		if n < 3000 {
			t.Errorf("service %d's bar colour %s covers %d pixels, want at least 3000: the bars are not drawn", i, story.ServiceColors[i], n)
		}
	}
	t.Logf("bar pixels per service: %v; non-white %d of %d", counts, nonWhite, total)
}

func rgb(img image.Image, x, y int) (int, int, int) {
	r, g, b, _ := img.At(x, y).RGBA()
	return int(r >> 8), int(g >> 8), int(b >> 8)
}

func near(r, g, b int, hex string) bool {
	var cr, cg, cb int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &cr, &cg, &cb); err != nil {
		return false
	}
	d := func(a, b int) bool { return a-b <= 6 && b-a <= 6 }
	return d(r, cr) && d(g, cg) && d(b, cb)
}
