package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// TemplateAction is what Cluster.InstallTemplates did (or, with DryRun,
// would do) with one template or policy.
type TemplateAction int

const (
	// TemplateUnchanged: installed at this TemplateVersion already, with
	// glassbox's content (see TemplateResult.Drift), left alone.
	TemplateUnchanged TemplateAction = iota
	// TemplateCreated: it was missing and was created.
	TemplateCreated
	// TemplateUpdated: an older glassbox version was replaced, or one of
	// this version whose content differs (another retention, an edited
	// body; see TemplateResult.Drift), or, with Force, one of another
	// owner or of a newer version.
	TemplateUpdated
	// TemplateNotOwned: an object of that name that glassbox does not manage
	// (no "_meta":{"managed_by":"glassbox"}) exists; it was left alone.
	TemplateNotOwned
	// TemplateNewer: a newer glassbox version is installed; it was left alone.
	TemplateNewer
)

// String returns "unchanged", "created", "updated", "not owned" or "newer".
func (a TemplateAction) String() string {
	switch a {
	case TemplateUnchanged:
		return "unchanged"
	case TemplateCreated:
		return "created"
	case TemplateUpdated:
		return "updated"
	case TemplateNotOwned:
		return "not owned"
	case TemplateNewer:
		return "newer"
	}
	return "TemplateAction(" + strconv.Itoa(int(a)) + ")"
}

// TemplateResult is the outcome for one object of Templates, in
// installation order.
type TemplateResult struct {
	// Kind is "ilm_policy", "component_template" or "index_template"; Name
	// the object's name; Path its API path.
	Kind, Name, Path string
	// Action is what was done (or would be, with DryRun).
	Action TemplateAction
	// Exists reports whether the object was installed before; ManagedBy is
	// its "_meta.managed_by" ("glassbox" for ours) and Version its glassbox
	// version (0 for one glassbox does not manage).
	Exists    bool
	ManagedBy string
	Version   int
	// Drift says, for an installed glassbox object of this TemplateVersion,
	// how its content differs from what glassbox installs: "retention 30d
	// to 7d" for the ILM policy, "the installed body differs from
	// glassbox's" for a template; "" when it does not (or the object is
	// missing, older, newer or not glassbox's).
	Drift string
}

// InstallOptions tune Cluster.InstallTemplates. The zero value installs
// what is missing, older or edited, with the cluster's retention.
type InstallOptions struct {
	// Retention is how long the ILM policy keeps data: the policy is
	// created with it, and an installed glassbox policy with another
	// retention is updated to it. Default: the Cluster's (WithRetention,
	// GLASSBOX_ELASTICSEARCH_RETENTION); without one, the policy is created
	// with 30 days and an installed one keeps its retention.
	Retention time.Duration
	// Force replaces objects glassbox does not manage and newer glassbox
	// versions too.
	Force bool
	// DryRun changes nothing: the results say what would be done.
	DryRun bool
}

// ErrNotOwned is wrapped by the error of InstallTemplates when an object
// of one of glassbox's names exists that glassbox does not manage; it was
// left alone (InstallOptions.Force replaces it).
var ErrNotOwned = errors.New("elasticsearch: left alone, not managed by glassbox (use Force to replace it)")

// ErrUnsupportedVersion is wrapped by the error of InstallTemplates on an
// Elasticsearch older than MinVersion.
var ErrUnsupportedVersion = errors.New("elasticsearch: version too old for the glassbox templates")

// InstallTemplates installs the ILM policy, component templates and index
// templates of Templates: what is missing is created; an older glassbox
// version updated, and so is one of this version whose content differs
// from glassbox's (the policy's retention, a template's body: see
// TemplateResult.Drift); the rest left alone (objects glassbox does not
// manage, newer versions) unless InstallOptions.Force. It returns one
// result per object, in installation order, also when it fails part way
// (the objects not reached are missing). It checks first that the cluster
// is Elasticsearch MinVersion or newer. It is idempotent: a second run
// with the same (or no) retention reports every object TemplateUnchanged
// and sends no PUT. The error wraps ErrNotOwned when an object was left alone
// because glassbox does not manage it.
func (c *Cluster) InstallTemplates(ctx context.Context, o InstallOptions) ([]TemplateResult, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Retention <= 0 {
		o.Retention = c.retention
	}
	info, err := c.Ping(ctx)
	if err != nil {
		return nil, err
	}
	if !info.Supported() {
		return nil, fmt.Errorf("%w: Elasticsearch %s is older than %s", ErrUnsupportedVersion, info.Version, MinVersion)
	}
	var results []TemplateResult
	var notOwned []string
	for _, t := range Templates(o.Retention) {
		r, installed, err := c.inspect(ctx, t)
		if err != nil {
			return results, err
		}
		// A policy's retention counts only when one was asked for.
		if r.Exists && r.ManagedBy == "glassbox" && r.Version == TemplateVersion && (r.Kind != "ilm_policy" || o.Retention > 0) {
			r.Drift = drift(r.Kind, installed, t.Body)
		}
		r.Action = plan(r, o.Force)
		if r.Action == TemplateNotOwned {
			notOwned = append(notOwned, r.Path)
		}
		if !o.DryRun && (r.Action == TemplateCreated || r.Action == TemplateUpdated) {
			if err := c.put(ctx, r, t.Body); err != nil {
				return results, err
			}
		}
		results = append(results, r)
	}
	if len(notOwned) > 0 {
		return results, fmt.Errorf("%w: %s", ErrNotOwned, strings.Join(notOwned, ", "))
	}
	return results, nil
}

// TemplatesStatus reports, without changing anything, what
// InstallTemplates would do with each object (InstallOptions.DryRun).
func (c *Cluster) TemplatesStatus(ctx context.Context) ([]TemplateResult, error) {
	return c.InstallTemplates(ctx, InstallOptions{DryRun: true})
}

// plan decides what to do with an object given what is installed.
func plan(r TemplateResult, force bool) TemplateAction {
	switch {
	case !r.Exists:
		return TemplateCreated
	case r.ManagedBy != "glassbox" && !force:
		return TemplateNotOwned
	case r.ManagedBy != "glassbox":
		return TemplateUpdated
	case r.Version < TemplateVersion:
		return TemplateUpdated
	case r.Version > TemplateVersion && !force:
		return TemplateNewer
	case r.Version > TemplateVersion:
		return TemplateUpdated
	case r.Drift != "":
		return TemplateUpdated
	}
	return TemplateUnchanged
}

// kindOf splits an API path ("_index_template/glassbox-logs") into kind
// and name.
func kindOf(path string) (kind, name string) {
	switch {
	case strings.HasPrefix(path, "_ilm/policy/"):
		return "ilm_policy", strings.TrimPrefix(path, "_ilm/policy/")
	case strings.HasPrefix(path, "_component_template/"):
		return "component_template", strings.TrimPrefix(path, "_component_template/")
	case strings.HasPrefix(path, "_index_template/"):
		return "index_template", strings.TrimPrefix(path, "_index_template/")
	}
	return "", path
}

// glassboxMeta is the "_meta" glassbox puts on what it installs.
type glassboxMeta struct {
	ManagedBy string `json:"managed_by"`
	Version   int    `json:"glassbox_version"`
}

// inspect reads what is installed under t's name: its result (not yet
// planned) and the installed object, as the GET answer shows it (for a
// policy its "policy").
func (c *Cluster) inspect(ctx context.Context, t Template) (TemplateResult, json.RawMessage, error) {
	r := TemplateResult{Path: t.Path}
	r.Kind, r.Name = kindOf(t.Path)
	var req esRequest
	switch r.Kind {
	case "ilm_policy":
		req = esapi.ILMGetLifecycleRequest{Policy: r.Name}
	case "component_template":
		req = esapi.ClusterGetComponentTemplateRequest{Name: []string{r.Name}}
	case "index_template":
		req = esapi.IndicesGetIndexTemplateRequest{Name: r.Name}
	default:
		return r, nil, fmt.Errorf("elasticsearch: unknown template path %q", t.Path)
	}
	status, body, err := roundTrip(ctx, c, req)
	if err != nil {
		return r, nil, fmt.Errorf("elasticsearch: GET %s: %w", t.Path, err)
	}
	switch status {
	case http.StatusNotFound:
		return r, nil, nil
	case http.StatusOK:
	default:
		return r, nil, &StatusError{Method: http.MethodGet, Path: t.Path, StatusCode: status, Body: trimBody(body)}
	}
	installed, err := installedObject(r.Kind, r.Name, body)
	if err != nil {
		return r, nil, fmt.Errorf("elasticsearch: GET %s: %w", t.Path, err)
	}
	if installed == nil {
		return r, nil, nil
	}
	var meta struct {
		Meta glassboxMeta `json:"_meta"`
	}
	if err := json.Unmarshal(installed, &meta); err != nil {
		return r, nil, fmt.Errorf("elasticsearch: GET %s: %w", t.Path, err)
	}
	r.Exists = true
	r.ManagedBy = meta.Meta.ManagedBy
	if r.ManagedBy == "glassbox" {
		r.Version = meta.Meta.Version
	}
	return r, installed, nil
}

// installedObject finds the object named name in a GET answer (for a
// policy its "policy"); nil when the answer does not list it.
func installedObject(kind, name string, body []byte) (json.RawMessage, error) {
	type entry struct {
		Name      string          `json:"name"`
		Component json.RawMessage `json:"component_template"`
		Index     json.RawMessage `json:"index_template"`
	}
	switch kind {
	case "ilm_policy": // {"<name>":{"version":3,"policy":{"_meta":{...},...}}}
		var v map[string]struct {
			Policy json.RawMessage `json:"policy"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		if p, ok := v[name]; ok {
			return orEmpty(p.Policy), nil
		}
	case "component_template", "index_template":
		var v struct {
			Components []entry `json:"component_templates"`
			Indices    []entry `json:"index_templates"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, err
		}
		for _, t := range append(v.Components, v.Indices...) {
			if t.Name == name && kind == "component_template" {
				return orEmpty(t.Component), nil
			}
			if t.Name == name {
				return orEmpty(t.Index), nil
			}
		}
	}
	return nil, nil
}

// orEmpty is raw, or an empty object when the answer left it out.
func orEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}")
	}
	return raw
}

// put installs one object.
func (c *Cluster) put(ctx context.Context, r TemplateResult, body []byte) error {
	var req esRequest
	switch r.Kind {
	case "ilm_policy":
		req = esapi.ILMPutLifecycleRequest{Policy: r.Name, Body: bytes.NewReader(body)}
	case "component_template":
		req = esapi.ClusterPutComponentTemplateRequest{Name: r.Name, Body: bytes.NewReader(body)}
	default:
		req = esapi.IndicesPutIndexTemplateRequest{Name: r.Name, Body: bytes.NewReader(body)}
	}
	status, answer, err := roundTrip(ctx, c, req)
	if err != nil {
		return fmt.Errorf("elasticsearch: PUT %s: %w", r.Path, err)
	}
	if status != http.StatusOK {
		return &StatusError{Method: http.MethodPut, Path: r.Path, StatusCode: status, Body: trimBody(answer)}
	}
	return nil
}

// esRequest is any esapi request.
type esRequest interface {
	Do(context.Context, esapi.Transport) (*esapi.Response, error)
}

// roundTrip sends an esapi request and reads its answer.
func roundTrip(ctx context.Context, c *Cluster, req esRequest) (int, []byte, error) {
	res, err := req.Do(ctx, c)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res.StatusCode, body, err
}

// versionAtLeast compares dotted version numbers ("8.19.7", "8.13.0");
// suffixes such as "-SNAPSHOT" are ignored.
func versionAtLeast(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := 0; i < len(w); i++ {
		var hv, wv int
		if i < len(h) {
			hv, _ = strconv.Atoi(strings.TrimFunc(h[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		wv, _ = strconv.Atoi(w[i])
		if hv != wv {
			return hv > wv
		}
	}
	return true
}
