package kibana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/glassbox-obs/glassbox/internal/textsafe"
)

// Auth is how requests to Kibana authenticate: an API key
// ("Authorization: ApiKey <key>", the base64 id:key Elasticsearch hands
// out) or a user name and password (basic authentication). The zero value
// sends no credentials.
type Auth struct {
	APIKey   string
	Username string
	Password string
	// Source names the variables the credentials came from, for messages.
	Source string
}

// AuthFromEnv reads Kibana credentials from the environment, the first
// that is set winning: KIBANA_API_KEY, ELASTICSEARCH_API_KEY (Kibana
// accepts Elasticsearch API keys), then ELASTICSEARCH_USERNAME with
// ELASTICSEARCH_PASSWORD.
func AuthFromEnv(getenv func(string) string) Auth {
	for _, v := range []string{"KIBANA_API_KEY", "ELASTICSEARCH_API_KEY"} {
		if k := strings.TrimSpace(getenv(v)); k != "" {
			return Auth{APIKey: k, Source: v}
		}
	}
	if u := getenv("ELASTICSEARCH_USERNAME"); u != "" {
		return Auth{Username: u, Password: getenv("ELASTICSEARCH_PASSWORD"),
			Source: "ELASTICSEARCH_USERNAME/ELASTICSEARCH_PASSWORD"}
	}
	return Auth{}
}

func (a Auth) apply(r *http.Request) {
	switch {
	case a.APIKey != "":
		r.Header.Set("Authorization", "ApiKey "+a.APIKey)
	case a.Username != "":
		r.SetBasicAuth(a.Username, a.Password)
	}
}

// ImportResponse is the saved-objects import API's answer.
type ImportResponse struct {
	Success        bool           `json:"success"`
	SuccessCount   int            `json:"successCount"`
	SuccessResults []ImportResult `json:"successResults"`
	Errors         []ImportError  `json:"errors"`
}

// ImportResult is one imported object.
type ImportResult struct {
	Type      string     `json:"type"`
	ID        string     `json:"id"`
	Meta      ImportMeta `json:"meta"`
	Overwrite bool       `json:"overwrite"`
}

// ImportMeta describes an object in import results.
type ImportMeta struct {
	Title string `json:"title"`
}

// ImportError is one object Kibana did not import, and why.
type ImportError struct {
	Type  string     `json:"type"`
	ID    string     `json:"id"`
	Meta  ImportMeta `json:"meta"`
	Error struct {
		// Type is Kibana's error type: missing_references,
		// unsupported_type, conflict, ambiguous_conflict, unknown.
		Type       string `json:"type"`
		Message    string `json:"message"`
		StatusCode int    `json:"statusCode"`
		References []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"references"`
	} `json:"error"`
}

// Reason describes the error in one line.
func (e *ImportError) Reason() string {
	var b strings.Builder
	b.WriteString(e.Error.Type)
	switch {
	case len(e.Error.References) > 0:
		b.WriteString(": missing")
		for _, r := range e.Error.References {
			b.WriteString(" " + r.Type + "/" + r.ID)
		}
	case e.Error.Message != "":
		b.WriteString(": " + e.Error.Message)
	}
	return b.String()
}

// APIError is an import request Kibana refused as a whole.
type APIError struct {
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("Kibana answered HTTP %d: %s", e.StatusCode, e.Message)
}

// ValidSpace reports whether id is a Kibana space ID: lower-case letters,
// digits, "_" and "-".
func ValidSpace(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// ImportURL returns the import endpoint of base for a space ("" or
// "default" for the default space), with overwrite=true.
func ImportURL(base, space string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("Kibana URL %q is not an http(s) URL", base)
	}
	if strings.ContainsAny(base, "?#") {
		return "", fmt.Errorf("Kibana URL %q: give the base URL, without a query or fragment", base)
	}
	path := strings.TrimRight(u.Path, "/")
	if space != "" && space != "default" {
		if !ValidSpace(space) {
			return "", fmt.Errorf("space %q is not a Kibana space ID (lower-case letters, digits, _ and -)", space)
		}
		path += "/s/" + space
	}
	u.Path = path + "/api/saved_objects/_import"
	u.RawQuery = "overwrite=true"
	return u.String(), nil
}

// Import posts an NDJSON file of saved objects to Kibana's import API
// (multipart field "file", header kbn-xsrf, overwrite=true), into space
// ("" for the default space). A request Kibana refuses as a whole is an
// *APIError; objects it refuses one by one are in the response's Errors.
func Import(ctx context.Context, client *http.Client, base, space string, auth Auth, ndjson []byte) (*ImportResponse, error) {
	endpoint, err := ImportURL(base, space)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="glassbox-kibana.ndjson"`)
	h.Set("Content-Type", "application/ndjson")
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, err
	}
	if _, err := part.Write(ndjson); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("kbn-xsrf", "glassbox")
	auth.apply(req)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading Kibana's answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(raw)) // a proxy's page, say
		}
		return nil, &APIError{StatusCode: res.StatusCode, Message: textsafe.Sanitize(e.Message, 300)}
	}
	var out ImportResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("Kibana's import answer is not the import API's JSON: %w", err)
	}
	return &out, nil
}
