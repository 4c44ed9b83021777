package kibana_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/kibana"
	"github.com/glassbox-obs/glassbox/internal/kibanatest"
)

func TestImportGeneratedObjects(t *testing.T) {
	srv := kibanatest.New(t, kibanatest.WithAPIKey("a2V5"), kibanatest.WithSpaces("ops"))
	auth := kibana.Auth{APIKey: "a2V5"}
	objs := kibana.Objects()
	for round, wantOverwrite := range []bool{false, true} {
		res, err := kibana.Import(context.Background(), http.DefaultClient, srv.URL(), "ops", auth, ndjson(t))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !res.Success || res.SuccessCount != len(objs) || len(res.Errors) != 0 {
			t.Fatalf("round %d: got %+v", round, res)
		}
		for i, r := range res.SuccessResults {
			if r.Type != objs[i].Type || r.ID != objs[i].ID || r.Meta.Title != objs[i].Title() || r.Overwrite != wantOverwrite {
				t.Errorf("round %d: result %d is %+v, want %s %s %q overwrite=%v",
					round, i, r, objs[i].Type, objs[i].ID, objs[i].Title(), wantOverwrite)
			}
		}
	}
	if got := srv.Count("ops"); got != len(objs) {
		t.Errorf("space ops holds %d objects, want %d", got, len(objs))
	}
	if got := srv.Count("default"); got != 0 {
		t.Errorf("the default space holds %d objects, want none", got)
	}
}

func TestImportFailures(t *testing.T) {
	srv := kibanatest.New(t, kibanatest.WithBasicAuth("elastic", "changeme"))
	ctx := context.Background()

	_, err := kibana.Import(ctx, http.DefaultClient, srv.URL(), "", kibana.Auth{Username: "elastic", Password: "wrong"}, ndjson(t))
	var apiErr *kibana.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("wrong password: got %v, want a 401 APIError", err)
	}

	// Only the dashboard: its references are neither in the file nor stored.
	objs := kibana.Objects()
	dash, err := kibana.NDJSON(objs[len(objs)-1:])
	if err != nil {
		t.Fatal(err)
	}
	good := kibana.Auth{Username: "elastic", Password: "changeme"}
	res, err := kibana.Import(ctx, http.DefaultClient, srv.URL(), "", good, dash)
	if err != nil {
		t.Fatal(err)
	}
	if res.Success || len(res.Errors) != 1 || res.Errors[0].Error.Type != "missing_references" ||
		!strings.Contains(res.Errors[0].Reason(), "lens/glassbox-lens-requests-errors") {
		t.Errorf("dashboard alone: got %+v", res)
	}

	if _, err := kibana.Import(ctx, http.DefaultClient, srv.URL(), "no-such-space", good, ndjson(t)); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("unknown space: got %v, want a 404 APIError", err)
	}
	if _, err := kibana.Import(ctx, http.DefaultClient, srv.URL(), "Bad/Space", good, ndjson(t)); err == nil {
		t.Error("a space ID with / was accepted")
	}
}

func TestImportURL(t *testing.T) {
	for _, tc := range []struct{ base, space, want string }{
		{"https://kibana.example:5601", "", "https://kibana.example:5601/api/saved_objects/_import?overwrite=true"},
		{"https://kibana.example/", "default", "https://kibana.example/api/saved_objects/_import?overwrite=true"},
		{"http://proxy.example/kibana/", "ops", "http://proxy.example/kibana/s/ops/api/saved_objects/_import?overwrite=true"},
	} {
		got, err := kibana.ImportURL(tc.base, tc.space)
		if err != nil || got != tc.want {
			t.Errorf("ImportURL(%q, %q): got %q, %v; want %q", tc.base, tc.space, got, err, tc.want)
		}
	}
	for _, base := range []string{"kibana:5601", "ftp://k", "https://k/?x=1", "https://k/#/"} {
		if _, err := kibana.ImportURL(base, ""); err == nil {
			t.Errorf("ImportURL(%q) accepted it", base)
		}
	}
}

func TestAuthFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		env  func(string) string
		want kibana.Auth
	}{
		{env(), kibana.Auth{}},
		{env("ELASTICSEARCH_USERNAME", "u", "ELASTICSEARCH_PASSWORD", "p"), kibana.Auth{Username: "u", Password: "p", Source: "ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD"}},
		{env("ELASTICSEARCH_API_KEY", "es", "ELASTICSEARCH_USERNAME", "u"), kibana.Auth{APIKey: "es", Source: "ELASTICSEARCH_API_KEY"}},
		{env("KIBANA_API_KEY", "kb", "ELASTICSEARCH_API_KEY", "es"), kibana.Auth{APIKey: "kb", Source: "KIBANA_API_KEY"}},
	} {
		if got := kibana.AuthFromEnv(tc.env); got != tc.want {
			t.Errorf("got %+v, want %+v", got, tc.want)
		}
	}
}
