package estest

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Version is the Elasticsearch version the server reports.
const Version = "8.19.7"

// Server is a strict in-process Elasticsearch. Its methods are safe for
// concurrent use.
type Server struct {
	addr   string
	hs     *http.Server
	apiKey string
	user   string
	pass   string

	tlsConf *tls.Config
	caPEM   []byte

	lnMu    sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{}
	refused bool
	serveWG sync.WaitGroup

	mu         sync.Mutex
	indices    map[string]*index
	components map[string]*stored
	templates  map[string]*stored
	policies   map[string]*stored
	seqNo      int64
	faults     []Fault
	itemFaults []itemFault
	maxContent int
	delay      time.Duration
	noProduct  bool
	pits       pitTable   // open points in time (search.go)
	deny       forbidden  // the privileges the user lacks (security.go)
	version    string     // the version the server reports
	soak       soakFaults // phase-long faults (soak.go)

	requests    atomic.Int64
	bulkDocs    atomic.Int64
	bytesOnWire atomic.Int64
	closed      atomic.Bool
	done        chan struct{}
}

// stored is a template or policy as it was PUT.
type stored struct {
	raw     json.RawMessage
	node    *node
	version int // of a policy: 1 for the first PUT, one more for each
}

// index is a data stream (with one backing index) or a plain index.
type index struct {
	name       string
	backing    string
	dataStream bool
	m          *mapping
	docs       []*Doc
	ids        map[string]*Doc
	visible    int // docs[:visible] are searchable (refreshed)
}

// Doc is a stored document.
type Doc struct {
	// Index is the data stream or index name the document was written to.
	Index string
	// ID is the document's _id.
	ID string
	// Source is the document's _source as sent.
	Source json.RawMessage
	// Ignored lists the fields that were not indexed (_ignored).
	Ignored []string
	terms   map[string][]string
}

// Fault is a failure the server answers the next Count requests to _bulk
// with, instead of processing them.
type Fault struct {
	// Status is the HTTP status to answer with (429, 500, 502, 503, 413...).
	Status int
	// Malformed answers 200 with a body that is not valid JSON.
	Malformed bool
	// Body, when not nil, answers 200 with these bytes as they are: a bulk
	// answer from a server that breaks the protocol, for fuzzing clients.
	Body []byte
	// Delay holds the request this long before answering; a Fault with
	// only a Delay then processes the request normally (use it to let a
	// request through before the next fault).
	Delay time.Duration
	// Count is how many requests the fault applies to; 0 means 1.
	Count int
}

type itemFault struct {
	status int
	count  int
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server require "Authorization: ApiKey <key>".
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithBasicAuth makes the server require HTTP basic authentication.
func WithBasicAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// WithTLS serves HTTPS with a fresh self-signed certificate for 127.0.0.1;
// CACert returns it in PEM for clients to trust.
func WithTLS() Option {
	return func(s *Server) {
		cert, pem, err := selfSigned()
		if err != nil {
			panic("estest: " + err.Error())
		}
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.caPEM = pem
	}
}

// CACert is the PEM certificate of a WithTLS server, nil otherwise.
func (s *Server) CACert() []byte { return s.caPEM }

func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "estest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}

// WithMaxContentLength sets http.max_content_length: larger _bulk bodies
// are answered with 413. Default 100 MiB, as Elasticsearch.
func WithMaxContentLength(n int) Option { return func(s *Server) { s.maxContent = n } }

// WithVersion makes the server report version v instead of Version (to
// test clients against an older or newer cluster); it serves the same
// API.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// New starts a server on 127.0.0.1 and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("estest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server on 127.0.0.1; the caller must Close it.
func Start(opts ...Option) (*Server, error) {
	s := &Server{
		indices:    map[string]*index{},
		components: map[string]*stored{},
		templates:  map[string]*stored{},
		policies:   map[string]*stored{},
		conns:      map[net.Conn]struct{}{},
		maxContent: 100 << 20,
		done:       make(chan struct{}),
		version:    Version,
	}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = ln.Addr().String()
	s.hs = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(c net.Conn, st http.ConnState) {
			s.lnMu.Lock()
			defer s.lnMu.Unlock()
			switch st {
			case http.StateNew:
				if s.refused {
					c.Close()
					return
				}
				s.conns[c] = struct{}{}
			case http.StateClosed, http.StateHijacked:
				delete(s.conns, c)
			}
		},
	}
	s.serve(ln)
	return s, nil
}

func (s *Server) serve(ln net.Listener) {
	s.ln = ln
	if s.tlsConf != nil {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		_ = s.hs.Serve(ln)
	}()
}

// URL is the server's base URL, http://127.0.0.1:port (https with WithTLS).
func (s *Server) URL() string {
	if s.tlsConf != nil {
		return "https://" + s.addr
	}
	return "http://" + s.addr
}

// Close stops the server and closes every connection.
func (s *Server) Close() {
	if s.closed.Swap(true) {
		return
	}
	close(s.done)
	_ = s.hs.Close()
	s.serveWG.Wait()
}

// SetRefused stops (true) or resumes (false) accepting connections on the
// same address, closing open ones: clients see "connection refused".
func (s *Server) SetRefused(refused bool) error {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if refused == s.refused || s.closed.Load() {
		return nil
	}
	s.refused = refused
	if refused {
		err := s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
		return err
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after close
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	s.serve(ln)
	return nil
}

// Inject queues a fault for the next _bulk requests.
func (s *Server) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// FailItems makes the next n bulk items fail with status (429, 500, 503)
// instead of being indexed.
func (s *Server) FailItems(n, status int) {
	s.mu.Lock()
	s.itemFaults = append(s.itemFaults, itemFault{status: status, count: n})
	s.mu.Unlock()
}

// SetDelay holds every request d before answering it.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// SetProductHeader controls the X-Elastic-Product header (on by default),
// to test the client's product check.
func (s *Server) SetProductHeader(on bool) {
	s.mu.Lock()
	s.noProduct = !on
	s.mu.Unlock()
}

// Requests is how many HTTP requests reached the server.
func (s *Server) Requests() int64 { return s.requests.Load() }

// BulkDocs is how many documents were indexed through _bulk.
func (s *Server) BulkDocs() int64 { return s.bulkDocs.Load() }

// Docs returns the documents stored in the data streams or indices whose
// names match expr (wildcards allowed), refreshed or not, in write order.
func (s *Server) Docs(expr string) []Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Doc
	for _, name := range s.sortedIndexNames() {
		ix := s.indices[name]
		if !matchIndexPattern(expr, name) {
			continue
		}
		for _, d := range ix.docs {
			out = append(out, *d)
		}
	}
	return out
}

// Mapping returns the mapped field types of an index: field -> type.
func (s *Server) Mapping(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		return nil
	}
	out := map[string]string{}
	for k, d := range ix.m.fields {
		out[k] = d.typ
	}
	return out
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	delay, noProduct := s.delay, s.noProduct
	s.mu.Unlock()
	if !noProduct {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	// Read the body before any delay, so that the request's context is
	// canceled when the client goes away.
	body, berr := readBody(r)
	if delay > 0 && !s.hold(r, delay) {
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", `ApiKey`)
		writeError(w, 401, "security_exception", "missing authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	if berr != nil {
		writeError(w, 400, "parse_exception", berr.Error())
		return
	}
	s.bytesOnWire.Add(r.ContentLength)
	p := strings.Trim(r.URL.Path, "/")
	parts, ok := s.permit(w, r.Method, strings.Split(p, "/"))
	if !ok {
		return
	}
	p = strings.Join(parts, "/")
	switch {
	case p == "":
		s.info(w)
	case parts[len(parts)-1] == "_bulk":
		idx := ""
		if len(parts) == 2 {
			idx = parts[0]
		}
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			writeError(w, 405, "illegal_argument_exception", "Incorrect HTTP method for uri ["+r.URL.Path+"] and method ["+r.Method+"], allowed: [POST, PUT]")
			return
		}
		s.bulk(w, r, idx, body)
	case len(parts) == 2 && (parts[0] == "_index_template" || parts[0] == "_component_template"):
		s.template(w, r, parts[0], parts[1], body)
	case len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		s.policy(w, r, parts[2], body)
	case len(parts) == 2 && parts[1] == "_refresh":
		s.refresh(w, parts[0])
	case len(parts) == 2 && (parts[1] == "_search" || parts[1] == "_count"):
		s.search(w, r, parts[0], body, parts[1] == "_count")
	case p == "_search":
		s.search(w, r, "", body, false)
	case len(parts) == 2 && parts[1] == "_pit" && r.Method == http.MethodPost:
		s.openPIT(w, r, parts[0])
	case p == "_pit" && r.Method == http.MethodDelete:
		s.closePIT(w, body)
	case len(parts) == 2 && parts[0] == "_data_stream" && r.Method == http.MethodDelete:
		s.deleteDataStream(w, parts[1])
	case len(parts) == 2 && parts[1] == "_mapping":
		s.getMapping(w, parts[0])
	default:
		writeError(w, 400, "illegal_argument_exception", "unsupported by the test server: "+r.Method+" "+r.URL.Path)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.apiKey == "" && s.user == "" {
		return true
	}
	// Authentication schemes are case-insensitive (RFC 7235): clients send
	// "ApiKey" or "APIKey".
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if s.apiKey != "" && strings.EqualFold(scheme, "ApiKey") && subtle.ConstantTimeCompare([]byte(cred), []byte(s.apiKey)) == 1 {
		return true
	}
	if s.user != "" && strings.EqualFold(scheme, "Basic") {
		want := base64.StdEncoding.EncodeToString([]byte(s.user + ":" + s.pass))
		if subtle.ConstantTimeCompare([]byte(cred), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

// hold delays a request; false means the client or the server went away.
func (s *Server) hold(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	switch strings.ToLower(r.Header.Get("Content-Encoding")) {
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("invalid gzip body: %v", err)
		}
		rd = zr
	case "", "identity":
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("invalid body: %v", err)
	}
	return b, nil
}

func (s *Server) info(w http.ResponseWriter) {
	writeJSON(w, 200, map[string]any{
		"name":         "estest",
		"cluster_name": "estest",
		"cluster_uuid": "estest-uuid",
		"version": map[string]any{
			"number": s.version, "build_flavor": "default", "lucene_version": "9.12.0",
			"minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

// writeError answers with Elasticsearch's error envelope.
func writeError(w http.ResponseWriter, status int, typ, reason string) {
	e := map[string]any{"type": typ, "reason": reason}
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"root_cause": []any{e}, "type": typ, "reason": reason},
		"status": status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) sortedIndexNames() []string {
	names := make([]string, 0, len(s.indices))
	for n := range s.indices {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}

func (s *Server) getMapping(w http.ResponseWriter, expr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for name, ix := range s.indices {
		if matchIndexPattern(expr, name) {
			out[ix.backing] = map[string]any{"mappings": ix.m.describe()}
		}
	}
	if len(out) == 0 {
		writeError(w, 404, "index_not_found_exception", "no such index ["+expr+"]")
		return
	}
	writeJSON(w, 200, out)
}

func (s *Server) deleteDataStream(w http.ResponseWriter, expr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name, ix := range s.indices {
		if ix.dataStream && matchIndexPattern(expr, name) {
			delete(s.indices, name)
			n++
		}
	}
	if n == 0 && !strings.Contains(expr, "*") {
		writeError(w, 404, "index_not_found_exception", "no such index ["+expr+"]")
		return
	}
	writeJSON(w, 200, map[string]any{"acknowledged": true})
}

// bodyPreview is used in error messages.
func bodyPreview(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
