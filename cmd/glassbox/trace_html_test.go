package main

import (
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/story"
)

// writePage runs "glassbox trace --html" on the recorded dataset and
// returns the page, with the story's JSON for reference.
func writePage(t *testing.T, vars map[string]string) (page string, j story.JSON) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "story.html")
	code, out, errs := runCLI(t, vars, "", "trace", failedID, "--dir", datasetDir, "--html", path)
	if code != exitOK || out != "" || !strings.Contains(errs, "wrote "+path) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0, nothing, and where the page is", code, out, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, js, _ := runCLI(t, nil, "", "trace", failedID, "--dir", datasetDir, "--json")
	if err := json.Unmarshal([]byte(js), &j); err != nil {
		t.Fatal(err)
	}
	return string(b), j
}

var (
	tagRE  = regexp.MustCompile(`(?is)<([a-z][a-z0-9-]*)\b([^>]*)>`)
	attrRE = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	urlRE  = regexp.MustCompile(`(?is)(url\s*\(|@import)`)
)

// externalRefs lists what in a page would make a browser fetch something:
// any src/href-like attribute of an element other than a link (<a>) that
// is not a data: URL, and any CSS url() or @import.
func externalRefs(page string) []string {
	var refs []string
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		tag := strings.ToLower(m[1])
		if tag == "a" {
			continue // a link is followed only when clicked
		}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			name := strings.ToLower(a[1])
			val := strings.TrimSpace(html.UnescapeString(strings.Trim(a[2], `"'`)))
			switch name {
			case "src", "href", "srcset", "poster", "data", "action", "formaction", "background", "manifest", "ping", "xlink:href":
				if !strings.HasPrefix(strings.ToLower(val), "data:") {
					refs = append(refs, "<"+tag+" "+name+"="+val+">")
				}
			case "style":
				if urlRE.MatchString(val) {
					refs = append(refs, "<"+tag+" style="+val+">")
				}
			}
		}
		if tag == "base" || tag == "iframe" || tag == "object" || tag == "embed" {
			refs = append(refs, "<"+tag+">")
		}
	}
	for _, css := range regexp.MustCompile(`(?is)<style[^>]*>(.*?)</style>`).FindAllStringSubmatch(page, -1) {
		if urlRE.MatchString(css[1]) {
			refs = append(refs, "url() or @import in <style>")
		}
	}
	return refs
}

// TestExternalRefsCatchesAssets: the check fails a page that loads
// anything from elsewhere, and passes links.
func TestExternalRefsCatchesAssets(t *testing.T) {
	bad := []string{
		`<script src="https://cdn.example/x.js"></script>`,
		`<link rel="stylesheet" href="http://cdn.example/x.css">`,
		`<img src=//cdn.example/x.png>`,
		`<style>body{background:url(https://x.example/bg.png)}</style>`,
		`<style>@import "http://x.example/a.css";</style>`,
		`<div style="background-image:url('http://x.example/y.png')"></div>`,
		`<iframe></iframe>`,
		`<img srcset="https://x.example/a.png 2x">`,
	}
	for _, b := range bad {
		if len(externalRefs("<html><body>"+b+"</body></html>")) == 0 {
			t.Errorf("not caught: %s", b)
		}
	}
	if r := externalRefs(`<a href="https://kibana.example/app/discover">k</a><link rel="icon" href="data:,">`); len(r) != 0 {
		t.Errorf("a link and a data: icon flagged: %v", r)
	}
}

// TestHTMLPage: the page is self-contained, holds every span and every
// log line of the story, and renders hostile text inert.
func TestHTMLPage(t *testing.T) {
	page, j := writePage(t, map[string]string{"GLASSBOX_KIBANA_URL": "https://kibana.example"})
	if refs := externalRefs(page); len(refs) != 0 {
		t.Errorf("the page fetches from elsewhere: %v", refs)
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script> elements, want the page's own one", n)
	}
	if strings.Contains(page, "<script>alert(") || !strings.Contains(page, "&lt;script&gt;alert(&#39;memo&#39;)&lt;/script&gt;") {
		t.Error("the memo's <script> is not escaped")
	}
	if strings.ContainsRune(page, 0x1b) {
		t.Error("a control character from a document reached the page")
	}
	for _, raw := range j.Spans {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		if !strings.Contains(page, `data-span-id="`+d["span.id"].(string)+`"`) {
			t.Errorf("span %v (%v) missing", d["span.id"], d["span.name"])
		}
	}
	for _, raw := range j.Logs {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		msg := html.EscapeString(strings.ReplaceAll(d["message"].(string), "\x1b", "\uFFFD"))
		if !strings.Contains(page, `<span class="msg">`+msg+`</span>`) {
			t.Errorf("log line %q missing", d["message"])
		}
	}
	checkCrashSite(t, page, j)
	if !strings.Contains(page, `href="https://kibana.example/app/discover#/?_g=`) {
		t.Error("no Kibana link with GLASSBOX_KIBANA_URL set")
	}
	if !strings.Contains(page, "Content-Security-Policy") {
		t.Error("no Content-Security-Policy")
	}
}

func TestHTMLToStdout(t *testing.T) {
	code, out, errs := runCLI(t, nil, "", "trace", "--dir", datasetDir, "--html", "-", failedID)
	if code != exitOK || errs != "" || !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Errorf("exit %d, stderr %q, stdout starts %.30q", code, errs, out)
	}
	code, _, errs = runCLI(t, nil, "", "trace", "--dir", datasetDir, "--html", filepath.Join(t.TempDir(), "no", "such", "dir", "x.html"), failedID)
	if code != exitUsage || !strings.Contains(errs, "--html") {
		t.Errorf("unwritable path: exit %d, stderr %q", code, errs)
	}
}

// checkCrashSite: the log line that carries a stack shows its crash site
// (here the first frame: the recorded ledger handler), and the span it
// was written in holds the whole stack in its details.
func checkCrashSite(t *testing.T, page string, j story.JSON) {
	t.Helper()
	found := 0
	for _, raw := range j.Logs {
		var d map[string]any
		_ = json.Unmarshal(raw, &d)
		stack, _ := d["error.stack_trace"].(string)
		if stack == "" {
			continue
		}
		found++
		lines := strings.Split(stack, "\n")
		fn, loc := lines[0], strings.TrimPrefix(lines[1], "\t")
		site := `<span class="site">at ` + fn + " (" + loc + ")</span>"
		if !strings.Contains(page, site) {
			t.Errorf("no crash site %s under %q", site, d["message"])
		}
		span, _ := d["span.id"].(string)
		i := strings.Index(page, `data-span-id="`+span+`"`)
		end := strings.Index(page[max(i, 0):], "</details>")
		if i < 0 || end < 0 || !strings.Contains(page[i:i+end], `<pre class="stack">`+html.EscapeString(fn)+"\n    "+loc+"\n") {
			t.Errorf("the details of span %s do not hold the stack of %q", span, d["message"])
		}
	}
	if found == 0 {
		t.Fatal("the dataset has no log line with error.stack_trace")
	}
}
