package kibanatest

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Version is the Kibana version the server reports and whose saved-object
// migrations it knows: the oldest the glassbox objects support.
const Version = "8.13.4"

// KnownTypes returns, per saved-object type the server accepts, the
// newest typeMigrationVersion it knows. An object of another type is
// unsupported; an object with a newer version fails the import.
func KnownTypes() map[string]string {
	return map[string]string{
		"index-pattern": "8.0.0",
		"search":        "8.0.0",
		"visualization": "8.5.0",
		"lens":          "8.9.0",
		"dashboard":     "8.9.0",
		"config":        "8.9.0",
		"tag":           "8.0.0",
	}
}

// maxImportObjects and maxPayload are Kibana's defaults
// (savedObjects.maxImportExportSize, savedObjects.maxImportPayloadBytes).
const (
	maxImportObjects = 10000
	maxPayload       = 26214400
)

// Server is the test Kibana. Its methods are safe for concurrent use.
type Server struct {
	hs     *httptest.Server
	apiKey string
	user   string
	pass   string

	disabled map[string]bool // types this Kibana lacks
	readOnly map[string]bool // types the user may not create (WithoutPrivilege)

	mu      sync.Mutex
	spaces  map[string]map[string]*Object // space -> "type/id" -> object
	imports int
}

// Object is a stored saved object.
type Object struct {
	Type                 string          `json:"type"`
	ID                   string          `json:"id"`
	Attributes           json.RawMessage `json:"attributes"`
	References           []Reference     `json:"references"`
	TypeMigrationVersion string          `json:"typeMigrationVersion,omitempty"`
}

// Reference is a saved object's reference.
type Reference struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server require "Authorization: ApiKey <key>".
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithBasicAuth makes the server require HTTP basic authentication.
func WithBasicAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// WithSpaces adds spaces besides "default"; an import into any other
// space is answered 404.
func WithSpaces(names ...string) Option {
	return func(s *Server) {
		for _, n := range names {
			s.spaces[n] = map[string]*Object{}
		}
	}
}

// WithoutTypes makes the server treat these types as unknown, like a
// Kibana whose plugin for them is disabled: their objects fail with
// unsupported_type, and references to them are missing.
func WithoutTypes(types ...string) Option {
	return func(s *Server) {
		for _, t := range types {
			s.disabled[t] = true
		}
	}
}

// WithoutPrivilege makes the authenticated user lack the Kibana privilege
// to create saved objects of these types in any space (a role with read
// or no access to the features that own them): an import whose file holds
// one is refused as a whole, as Kibana's security refuses it, with HTTP
// 403 and "Unable to bulk_create" followed by the types refused.
func WithoutPrivilege(types ...string) Option {
	return func(s *Server) {
		for _, t := range types {
			s.readOnly[t] = true
		}
	}
}

// New starts a server on 127.0.0.1 that stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{spaces: map[string]map[string]*Object{"default": {}}, disabled: map[string]bool{}, readOnly: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.hs.Close)
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.hs.URL }

// Put stores an object in a space, as if imported earlier.
func (s *Server) Put(space string, o Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spaces[space] == nil {
		s.spaces[space] = map[string]*Object{}
	}
	s.spaces[space][o.Type+"/"+o.ID] = &o
}

// Get returns a stored object.
func (s *Server) Get(space, typ, id string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.spaces[space][typ+"/"+id]
	if !ok {
		return Object{}, false
	}
	return *o, true
}

// Count returns how many objects a space holds.
func (s *Server) Count(space string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.spaces[space])
}

// Imports returns how many import requests reached the import handler
// (after authentication and the kbn-xsrf check).
func (s *Server) Imports() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.imports
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="kibana", charset="UTF-8", ApiKey`)
		writeError(w, http.StatusUnauthorized, "[security_exception]: unable to authenticate user for REST request")
		return
	}
	space, path := "default", r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/s/"); ok {
		name, p, _ := strings.Cut(rest, "/")
		space, path = name, "/"+p
	}
	switch {
	case path == "/api/status" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"name":    "kibanatest",
			"version": map[string]any{"number": Version, "build_snapshot": false},
			"status":  map[string]any{"overall": map[string]any{"level": "available"}},
		})
	case path == "/api/saved_objects/_import" && r.Method == http.MethodPost:
		if r.Header.Get("kbn-xsrf") == "" {
			writeError(w, http.StatusBadRequest, "Request must contain a kbn-xsrf header.")
			return
		}
		s.mu.Lock()
		_, known := s.spaces[space]
		s.mu.Unlock()
		if !known {
			writeError(w, http.StatusNotFound, "Saved object [space/"+space+"] not found")
			return
		}
		s.importObjects(w, r, space)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) authenticated(r *http.Request) bool {
	if s.apiKey == "" && s.user == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	if key, ok := strings.CutPrefix(h, "ApiKey "); ok && s.apiKey != "" {
		return subtle.ConstantTimeCompare([]byte(key), []byte(s.apiKey)) == 1
	}
	if enc, ok := strings.CutPrefix(h, "Basic "); ok && s.user != "" {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return false
		}
		want := s.user + ":" + s.pass
		return subtle.ConstantTimeCompare(raw, []byte(want)) == 1
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in Kibana's error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"statusCode": status,
		"error":      http.StatusText(status),
		"message":    msg,
	})
}
