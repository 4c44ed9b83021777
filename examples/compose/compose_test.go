// Package compose_test checks examples/compose/compose.yaml, which Docker
// cannot run here: it parses as Compose YAML, pins what the SDK supports,
// binds every port to 127.0.0.1, points the checkout example at the other
// services, and says what the README says, both ways.
package compose_test

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/kibana"
)

type service struct {
	Image       string            `yaml:"image"`
	Ports       []string          `yaml:"ports"`
	Environment map[string]string `yaml:"environment"`
	Command     []string          `yaml:"command"`
	Profiles    []string          `yaml:"profiles"`
	WorkingDir  string            `yaml:"working_dir"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Restart     string `yaml:"restart"`
	Healthcheck *struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
}

type composeFile struct {
	Name     string              `yaml:"name"`
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]any      `yaml:"volumes"`
}

func load(t *testing.T) *composeFile {
	t.Helper()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"elasticsearch", "kibana", "jaeger", "checkout"} {
		if c.Services[name] == nil {
			t.Fatalf("compose.yaml has no %s service", name)
		}
	}
	return &c
}

// interpolate resolves Compose's ${NAME:-default} to its default, as
// Compose does with NAME unset.
func interpolate(v string) string {
	return regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`).ReplaceAllString(v, "$1")
}

func tag(image string) string {
	_, t, _ := strings.Cut(image[strings.LastIndexByte(image, '/')+1:], ":")
	return t
}

// versionAtLeast compares dotted versions.
func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := range w {
		var hv int
		if i < len(h) {
			hv, _ = strconv.Atoi(h[i])
		}
		wv, _ := strconv.Atoi(w[i])
		if hv != wv {
			return hv > wv
		}
	}
	return true
}

func TestComposeFile(t *testing.T) {
	c := load(t)
	for name, s := range c.Services {
		if tg := tag(s.Image); tg == "" || tg == "latest" || !strings.ContainsAny(tg, "0123456789") {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		for _, p := range s.Ports {
			if parts := strings.Split(p, ":"); len(parts) != 3 || parts[0] != "127.0.0.1" {
				t.Errorf("%s: port %q is not bound to 127.0.0.1 (host_ip:host:container)", name, p)
			}
		}
		for dep := range s.DependsOn {
			if c.Services[dep] == nil {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if _, named := c.Volumes[src]; !named && !strings.HasPrefix(src, ".") {
				t.Errorf("%s: volume %q is neither named nor a relative path", name, v)
			}
		}
	}

	es, kb := c.Services["elasticsearch"], c.Services["kibana"]
	esv, kbv := tag(es.Image), tag(kb.Image)
	if esv != kbv || !strings.HasPrefix(esv, "8.") {
		t.Errorf("Elasticsearch %s and Kibana %s: want the same 8.x version", esv, kbv)
	}
	if !versionAtLeast(esv, elasticsearch.MinVersion) || !versionAtLeast(kbv, kibana.MinKibanaVersion) {
		t.Errorf("Elasticsearch %s / Kibana %s: older than what the templates (%s) and saved objects (%s) need", esv, kbv, elasticsearch.MinVersion, kibana.MinKibanaVersion)
	}
	if esv != estest.Version {
		t.Errorf("Elasticsearch %s: the test server speaks %s; keep them the same", esv, estest.Version)
	}
	if es.Environment["xpack.security.enabled"] != "true" || es.Environment["discovery.type"] != "single-node" {
		t.Errorf("Elasticsearch: security must be on, single node: %v", es.Environment)
	}
	if kb.Environment["ELASTICSEARCH_HOSTS"] != "http://elasticsearch:9200" || kb.Environment["ELASTICSEARCH_USERNAME"] != "kibana_system" {
		t.Errorf("Kibana does not log in to the elasticsearch service as kibana_system: %v", kb.Environment)
	}
	if kp := c.Services["kibana-password"]; kp == nil || kp.Image != es.Image || interpolate(kp.Environment["KIBANA_PASSWORD"]) != interpolate(kb.Environment["ELASTICSEARCH_PASSWORD"]) ||
		kb.DependsOn["kibana-password"].Condition != "service_completed_successfully" {
		t.Error("kibana-password must set the password Kibana logs in with, before Kibana starts")
	}
	for _, name := range []string{"elasticsearch", "kibana"} {
		if h := c.Services[name].Healthcheck; h == nil || len(h.Test) != 2 || h.Test[0] != "CMD-SHELL" {
			t.Errorf("%s: no health check for depends_on and up --wait", name)
		}
	}
	if j := c.Services["jaeger"]; j.Environment["COLLECTOR_OTLP_ENABLED"] != "true" {
		t.Errorf("Jaeger: OTLP is not enabled: %v", j.Environment)
	}

	ck := c.Services["checkout"]
	if !slices.Contains(ck.Profiles, "demo") || strings.Join(ck.Command, " ") != "go run ./examples/checkout" || ck.WorkingDir != "/src" || !slices.Contains(ck.Volumes, "../..:/src") {
		t.Errorf("checkout: want go run ./examples/checkout in the repository mounted at /src, profile demo: %+v", ck)
	}
	if mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod")); err != nil || !strings.Contains(string(mod), "module github.com/glassbox-obs/glassbox\n") {
		t.Error("../.. (mounted at /src) is not the repository's root")
	} else if goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(mod)); goVersion == nil || tag(ck.Image) != goVersion[1] {
		t.Errorf("checkout: image %s, want golang:%v (go.mod's go directive)", ck.Image, goVersion)
	}
	env := ck.Environment
	for k, want := range map[string]string{"ELASTICSEARCH_URL": "elasticsearch:9200", "OTEL_EXPORTER_OTLP_ENDPOINT": "jaeger:4318"} {
		if u, err := url.Parse(env[k]); err != nil || u.Host != want || c.Services[u.Hostname()] == nil {
			t.Errorf("checkout: %s=%q, want a URL of the service at %s", k, env[k], want)
		}
	}
	if u, err := url.Parse(env["GLASSBOX_KIBANA_URL"]); err != nil || !slices.Contains(kb.Ports, "127.0.0.1:"+u.Port()+":5601") {
		t.Errorf("checkout: GLASSBOX_KIBANA_URL=%q is not where Kibana is published on the host", env["GLASSBOX_KIBANA_URL"])
	}
	if interpolate(env["ELASTICSEARCH_PASSWORD"]) != interpolate(es.Environment["ELASTIC_PASSWORD"]) || env["ELASTICSEARCH_USERNAME"] != "elastic" {
		t.Error("checkout: not the elastic user's credentials")
	}
}

// readmeSection returns the README's "Set up Kibana in one minute" up to
// the next top-level section.
func readmeSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Set up Kibana in one minute\n")
	if i < 0 {
		t.Fatal(`README has no "Set up Kibana in one minute" section`)
	}
	s = s[i+1:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// table returns the rows of the README table whose header starts with
// header, as cells.
func table(t *testing.T, section, header string) [][]string {
	t.Helper()
	var rows [][]string
	in := false
	for _, l := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(l, header):
			in = true
		case in && strings.HasPrefix(l, "|---"):
		case in && strings.HasPrefix(l, "|"):
			var cells []string
			for _, c := range strings.Split(strings.Trim(l, "|"), "|") {
				cells = append(cells, strings.TrimSpace(c))
			}
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	if !in {
		t.Fatalf("README: no table with header %q", header)
	}
	return rows
}

var code = regexp.MustCompile("`([^`]*)`")

func codes(s string) []string {
	var out []string
	for _, m := range code.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// The README states the images, the ports, the password and the checkout
// service's variables; the compose file has exactly those.
func TestReadmeAgreesWithCompose(t *testing.T) {
	c := load(t)
	sec := readmeSection(t)

	var readmeImages, readmePorts []string
	names := map[string]string{"Elasticsearch": "elasticsearch", "Kibana": "kibana", "Jaeger": "jaeger", "checkout": "checkout"}
	for _, row := range table(t, sec, "| service | image | on the host |") {
		svc := c.Services[names[row[0]]]
		if svc == nil {
			t.Errorf("README lists a service %q the compose file does not have", row[0])
			continue
		}
		img := codes(row[1])
		if len(img) == 0 || img[0] != svc.Image {
			t.Errorf("README: %s runs %v, the compose file %s", row[0], img, svc.Image)
		}
		readmeImages = append(readmeImages, img[0])
		var ports []string
		for _, p := range codes(row[2]) {
			if strings.HasPrefix(p, "127.0.0.1:") {
				ports = append(ports, p)
			}
		}
		var published []string
		for _, p := range svc.Ports {
			published = append(published, p[:strings.LastIndexByte(p, ':')])
		}
		if !slices.Equal(sorted(ports), sorted(published)) {
			t.Errorf("README: %s on %v, the compose file publishes %v", row[0], ports, published)
		}
		readmePorts = append(readmePorts, ports...)
		if row[0] == "checkout" && !strings.Contains(row[1], "`go run ./examples/checkout`") {
			t.Errorf("README: checkout row %q does not say what it runs", row[1])
		}
	}
	var composeImages, composePorts []string
	for name, s := range c.Services {
		if name != "kibana-password" { // described in the README's text
			composeImages = append(composeImages, s.Image)
		}
		for _, p := range s.Ports {
			composePorts = append(composePorts, p[:strings.LastIndexByte(p, ':')])
		}
	}
	if !slices.Equal(sorted(readmeImages), sorted(composeImages)) || !slices.Equal(sorted(readmePorts), sorted(composePorts)) {
		t.Errorf("README images %v ports %v; compose images %v ports %v", readmeImages, readmePorts, composeImages, composePorts)
	}
	if !strings.Contains(sec, "`kibana-password`") {
		t.Error("README does not mention the kibana-password service")
	}

	password := interpolate(c.Services["elasticsearch"].Environment["ELASTIC_PASSWORD"])
	for _, want := range []string{"password `" + password + "`", "ELASTICSEARCH_PASSWORD=" + password + "\n", "docker compose -f examples/compose/compose.yaml up -d --wait", "docker compose -f examples/compose/compose.yaml run --rm checkout", "setup kibana --import http://localhost:5601"} {
		if !strings.Contains(sec, want) {
			t.Errorf("README section lacks %q", want)
		}
	}

	readmeEnv := map[string]string{}
	for _, row := range table(t, sec, "| variable | value |") {
		k, v := codes(row[0]), codes(row[1])
		if len(k) != 1 || len(v) == 0 {
			t.Fatalf("README variable row %v: want `NAME` | `value`", row)
		}
		readmeEnv[k[0]] = v[0]
	}
	composeEnv := map[string]string{}
	for k, v := range c.Services["checkout"].Environment {
		composeEnv[k] = interpolate(v)
	}
	for k, v := range composeEnv {
		if readmeEnv[k] != v {
			t.Errorf("checkout: %s=%s in the compose file, %q in the README", k, v, readmeEnv[k])
		}
	}
	for k := range readmeEnv {
		if _, ok := composeEnv[k]; !ok {
			t.Errorf("the README gives checkout %s, the compose file does not", k)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// yaml.v3 is for this test only: no package of the module links it.
func TestYAMLOnlyInTests(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "list", "-deps", "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps gave %d packages, want the module's dependencies", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "gopkg.in/yaml") {
			t.Errorf("a non-test package links %s", p)
		}
	}
}
