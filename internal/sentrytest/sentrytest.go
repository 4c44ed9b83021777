package sentrytest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// PublicKey and ProjectID are what DSN() contains and the server accepts.
const (
	PublicKey = "0123456789abcdef0123456789abcdef"
	ProjectID = "42"
)

// maxBody is the largest request body accepted (Relay's default envelope
// limit is far higher; events above 1 MiB are rejected by Sentry anyway).
const maxBody = 20 << 20

// Item is one envelope item.
type Item struct {
	// Header is the item header, decoded.
	Header map[string]any
	// Type is Header["type"].
	Type string
	// Payload is the item payload bytes.
	Payload []byte
	// Report is the parsed payload of a "client_report" item, or nil.
	Report *ClientReport
}

// Envelope is one envelope the server accepted or refused.
type Envelope struct {
	// Raw is the request body after decompression.
	Raw []byte
	// Header is the envelope header, decoded.
	Header map[string]any
	// Items are the envelope items in order; when the server answered
	// under a rate limit, those it kept.
	Items []Item
	// RateLimited are the items the server dropped for its rate limit
	// (SetRateLimit), as Relay does: the rate-limited ones go, the rest
	// (client reports, which are never rate limited) are accepted.
	RateLimited []Item
	// Status is the HTTP status the server answered with.
	Status int
	// HTTPHeader is the request's HTTP header.
	HTTPHeader http.Header
}

// ClientReports returns the parsed "client_report" items.
func (e *Envelope) ClientReports() []ClientReport {
	var out []ClientReport
	for _, it := range e.Items {
		if it.Report != nil {
			out = append(out, *it.Report)
		}
	}
	return out
}

// Events returns the payloads of the "event" items, decoded.
func (e *Envelope) Events() []map[string]any {
	var out []map[string]any
	for _, it := range e.Items {
		if it.Type != "event" {
			continue
		}
		var m map[string]any
		if json.Unmarshal(it.Payload, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// Limit is a rate limit the server enforces, as Relay does: the items of
// its categories are dropped (an event's attachments with it; client
// reports never); an envelope left empty is answered 429 with the
// Retry-After and X-Sentry-Rate-Limits headers, any other 200 with
// X-Sentry-Rate-Limits.
type Limit struct {
	// RetryAfter is the value of Retry-After (seconds); 0 omits the header.
	RetryAfter int
	// Categories are the X-Sentry-Rate-Limits categories ("error",
	// "transaction", ...); empty means all categories. When both
	// Categories and Scope are empty the header is omitted.
	Categories []string
	// Scope is the rate limit's scope ("organization", "project", "key").
	Scope string
}

// Server is a Sentry envelope endpoint on 127.0.0.1. Its methods are safe
// for concurrent use.
type Server struct {
	srv *http.Server
	ln  net.Listener
	url string

	mu        sync.Mutex
	envelopes []*Envelope
	limit     *Limit
	status    int           // forced status (5xx) or 0
	delay     time.Duration // delay before answering
	paused    chan struct{} // non-nil while paused; closed by Resume
	hangUp    bool          // close connections without answering
	arrived   chan struct{}
	release   chan struct{} // closed by Close: slow handlers return
	closeOnce sync.Once
	requests  int
	soak      soakListener // SetRefused (soak.go)
}

// NewServer starts a server and stops it when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sentrytest: listen: %v", err)
	}
	s := &Server{
		ln:      ln,
		url:     "http://" + ln.Addr().String(),
		arrived: make(chan struct{}, 1),
		release: make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, ConnState: s.trackConn}
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(s.Close)
	return s
}

// DSN returns a DSN that points sentry-go at the server.
func (s *Server) DSN() string {
	return "http://" + PublicKey + "@" + strings.TrimPrefix(s.url, "http://") + "/" + ProjectID
}

// URL returns the server's base URL.
func (s *Server) URL() string { return s.url }

// Close stops the server, releasing requests held by SetDelay.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.closeListener()
		close(s.release)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
	})
}

// SetRateLimit makes every following request answer 429 with l's headers;
// nil restores normal answers.
func (s *Server) SetRateLimit(l *Limit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = l
}

// SetStatus makes every following request answer status (e.g. 503); 0
// restores normal answers.
func (s *Server) SetStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// SetDelay makes every following request wait d (or until Close) before
// it is answered.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Pause makes the requests that arrive from now on wait, unanswered,
// until Resume (or Close): Sentry hanging, then recovering.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused == nil {
		s.paused = make(chan struct{})
	}
}

// Resume answers the requests held by Pause and stops holding new ones.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused != nil {
		close(s.paused)
		s.paused = nil
	}
}

// SetHangUp makes every following request be read and its connection
// closed without an answer (the client sees a network error); false
// restores normal answers. Such requests are counted by Requests and
// recorded nowhere else.
func (s *Server) SetHangUp(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangUp = on
}

// Requests returns how many requests reached the server.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Envelopes returns the envelopes answered with 200 so far.
func (s *Server) Envelopes() []*Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Envelope
	for _, e := range s.envelopes {
		if e.Status == http.StatusOK {
			out = append(out, e)
		}
	}
	return out
}

// Events returns the payloads of all accepted "event" items, decoded.
func (s *Server) Events() []map[string]any {
	var out []map[string]any
	for _, e := range s.Envelopes() {
		out = append(out, e.Events()...)
	}
	return out
}

// ClientReports returns the client reports of the envelopes answered with
// 200, in the order they arrived.
func (s *Server) ClientReports() []ClientReport {
	var out []ClientReport
	for _, e := range s.Envelopes() {
		out = append(out, e.ClientReports()...)
	}
	return out
}

// Discarded adds up the quantities of the accepted client reports for the
// data category ("error", ...) by reason.
func (s *Server) Discarded(category string) map[string]int64 {
	out := map[string]int64{}
	for _, r := range s.ClientReports() {
		for _, d := range r.Discarded {
			if d.Category == category {
				out[d.Reason] += d.Quantity
			}
		}
	}
	return out
}

// WaitEvents waits until at least n events were accepted and returns them,
// or fails the test after timeout.
func (s *Server) WaitEvents(t testing.TB, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if ev := s.Events(); len(ev) >= n {
			return ev
		}
		select {
		case <-s.arrived:
		case <-deadline.C:
			t.Fatalf("sentrytest: got %d events, want %d within %v", len(s.Events()), n, timeout)
			return nil
		}
	}
}

// ServeHTTP implements the envelope endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	delay, limit, status, paused, hangUp := s.delay, s.limit, s.status, s.paused, s.hangUp
	s.mu.Unlock()
	if hangUp {
		hangUpOn(w, r)
		return
	}
	if paused != nil {
		select {
		case <-paused:
		case <-s.release:
		case <-r.Context().Done():
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.release:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	code, env, msg := s.handle(r, limit, status)
	if env != nil {
		env.Status = code
		s.mu.Lock()
		s.envelopes = append(s.envelopes, env)
		s.mu.Unlock()
		select {
		case s.arrived <- struct{}{}:
		default:
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if env != nil && len(env.RateLimited) > 0 {
		limit.writeHeaders(w.Header(), code)
	}
	w.WriteHeader(code)
	if code == http.StatusOK {
		id, _ := env.Header["event_id"].(string)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": msg})
}

// hangUpOn reads the request and closes its connection unanswered.
func hangUpOn(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// writeHeaders sets the rate limit headers of an answer with status code:
// X-Sentry-Rate-Limits always (Relay sends it with 200 too), Retry-After
// on 429. A limit without categories or scope answers 429 with
// Retry-After alone, the legacy form.
func (l *Limit) writeHeaders(h http.Header, code int) {
	ra := l.RetryAfter
	if ra == 0 {
		ra = 60
	}
	if code == http.StatusTooManyRequests && l.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(l.RetryAfter))
	}
	if len(l.Categories) > 0 || l.Scope != "" || code != http.StatusTooManyRequests {
		h.Set("X-Sentry-Rate-Limits", fmt.Sprintf("%d:%s:%s", ra, strings.Join(l.Categories, ";"), l.Scope))
	}
}

// enforce splits items into those l keeps and those it drops: items of a
// limited data category, and attachments of a dropped event. Client
// reports are never rate limited.
func (l *Limit) enforce(items []Item) (kept, dropped []Item) {
	eventDropped := false
	for _, it := range items {
		if (it.Type == "event" || it.Type == "transaction") && l.limits(itemCategory(it)) {
			eventDropped = true
		}
	}
	for _, it := range items {
		cat := itemCategory(it)
		if cat != "" && (l.limits(cat) || it.Type == "attachment" && eventDropped) {
			dropped = append(dropped, it)
		} else {
			kept = append(kept, it)
		}
	}
	return kept, dropped
}

func (l *Limit) limits(category string) bool {
	if len(l.Categories) == 0 {
		return true
	}
	for _, c := range l.Categories {
		if c == category {
			return true
		}
	}
	return false
}

// itemCategory is the rate-limiting data category of an item, or "" for
// items that are never rate limited.
func itemCategory(it Item) string {
	switch it.Type {
	case "event":
		if bytes.Contains(it.Payload, []byte(`"exception"`)) {
			return "error"
		}
		return "default"
	case "transaction":
		return "transaction"
	case "attachment":
		return "attachment"
	case "session", "sessions":
		return "session"
	case "check_in":
		return "monitor"
	case "log":
		return "log_item"
	case "span":
		return "span"
	case "client_report":
		return ""
	}
	return it.Type
}

// handle validates the request and parses the envelope. A parsed envelope
// is returned also for 429/5xx so that tests can see what was refused.
func (s *Server) handle(r *http.Request, limit *Limit, status int) (int, *Envelope, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, nil, "method not allowed"
	}
	project, ok := strings.CutPrefix(r.URL.Path, "/api/")
	project, ok2 := strings.CutSuffix(project, "/envelope/")
	if !ok || !ok2 || project == "" || strings.Contains(project, "/") {
		return http.StatusNotFound, nil, "not found"
	}
	if project != ProjectID {
		return http.StatusForbidden, nil, "project does not match the key"
	}
	key := authKey(r)
	if key == "" {
		return http.StatusUnauthorized, nil, "missing authorization information"
	}
	if key != PublicKey {
		return http.StatusUnauthorized, nil, "invalid api key"
	}
	body, err := readBody(r)
	if err != nil {
		return http.StatusBadRequest, nil, err.Error()
	}
	env, err := Parse(body)
	if err != nil {
		return http.StatusBadRequest, nil, "invalid envelope: " + err.Error()
	}
	env.HTTPHeader = r.Header.Clone()
	if limit != nil {
		env.Items, env.RateLimited = limit.enforce(env.Items)
		if len(env.Items) == 0 {
			return http.StatusTooManyRequests, env, "rate limited"
		}
	}
	if status != 0 {
		return status, env, "injected failure"
	}
	return http.StatusOK, env, ""
}

// authKey returns the sentry_key of the X-Sentry-Auth header, or of the
// query string.
func authKey(r *http.Request) string {
	if h := r.Header.Get("X-Sentry-Auth"); h != "" {
		rest, ok := strings.CutPrefix(h, "Sentry ")
		if !ok {
			return ""
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			if k == "sentry_key" {
				return v
			}
		}
		return ""
	}
	return r.URL.Query().Get("sentry_key")
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = io.LimitReader(r.Body, maxBody+1)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("bad gzip body: %w", err)
		}
		defer zr.Close()
		rd = io.LimitReader(zr, maxBody+1)
	case "deflate":
		zr := flate.NewReader(rd)
		defer zr.Close()
		rd = io.LimitReader(zr, maxBody+1)
	default:
		return nil, fmt.Errorf("unsupported content encoding %q", enc)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(b) > maxBody {
		return nil, errors.New("envelope too large")
	}
	return b, nil
}

// Parse parses an envelope: a JSON header line, then items, each a JSON
// header line followed by a payload of header "length" bytes, or up to the
// next newline when there is no length.
func Parse(b []byte) (*Envelope, error) {
	env := &Envelope{Raw: b}
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	if err := json.Unmarshal(line, &env.Header); err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	if id, ok := env.Header["event_id"]; ok {
		if s, ok := id.(string); !ok || !validEventID(s) {
			return nil, fmt.Errorf("envelope header: invalid event_id %v", id)
		}
	}
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\n"))
		if len(bytes.TrimSpace(h)) == 0 {
			continue // trailing newline
		}
		var it Item
		if err := json.Unmarshal(h, &it.Header); err != nil {
			return nil, fmt.Errorf("item %d header: %w", len(env.Items), err)
		}
		it.Type, _ = it.Header["type"].(string)
		if it.Type == "" {
			return nil, fmt.Errorf("item %d: missing type", len(env.Items))
		}
		if l, ok := it.Header["length"]; ok {
			n, ok := l.(float64)
			if !ok || n < 0 || int(n) > len(rest) || float64(int(n)) != n {
				return nil, fmt.Errorf("item %d: bad length %v (%d bytes left)", len(env.Items), l, len(rest))
			}
			it.Payload = rest[:int(n)]
			rest = rest[int(n):]
			if len(rest) > 0 {
				if rest[0] != '\n' {
					return nil, fmt.Errorf("item %d: payload not followed by a newline", len(env.Items))
				}
				rest = rest[1:]
			}
		} else {
			it.Payload, rest, _ = bytes.Cut(rest, []byte("\n"))
		}
		if it.Type == "client_report" {
			rep, err := parseClientReport(it.Payload)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", len(env.Items), err)
			}
			it.Report = rep
		}
		if it.Type == "event" || it.Type == "transaction" {
			var m map[string]any
			if err := json.Unmarshal(it.Payload, &m); err != nil {
				return nil, fmt.Errorf("item %d (%s): payload is not a JSON object: %w", len(env.Items), it.Type, err)
			}
			id, _ := env.Header["event_id"].(string)
			if err := validateEvent(m, id); err != nil {
				return nil, fmt.Errorf("item %d (%s): %w", len(env.Items), it.Type, err)
			}
		}
		env.Items = append(env.Items, it)
	}
	if len(env.Items) == 0 {
		return nil, errors.New("no items")
	}
	return env, nil
}

// validEventID accepts a UUID as 32 hex digits, with or without dashes.
func validEventID(s string) bool {
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
