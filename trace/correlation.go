package trace

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// MaxCorrelationIDLen is the longest correlation ID glassbox accepts.
const MaxCorrelationIDLen = 128

// CorrelationAttribute is the span attribute and log field that carries the
// correlation ID.
const CorrelationAttribute = "correlation.id"

// correlationKey is the context key for the correlation ID. It is an
// unexported struct type so no other package can collide with it.
type correlationKey struct{}

// WithCorrelationID returns a copy of ctx that carries id as its correlation
// ID. An invalid id (see ValidCorrelationID) is not stored: ctx is returned
// unchanged, so a hostile value can never reach a log line through the
// context.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if !ValidCorrelationID(id) {
		return ctx
	}
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the correlation ID carried by ctx and whether there
// was one. It never panics, also not on a nil context.
func CorrelationID(ctx context.Context) (string, bool) {
	if ctx == nil {
		return "", false
	}
	id, ok := ctx.Value(correlationKey{}).(string)
	return id, ok && id != ""
}

// WithoutCorrelationID returns a copy of ctx that carries no correlation
// ID, whatever ctx carries: CorrelationID reports none, and
// EnsureCorrelationID makes a new one. Middleware uses it to keep a
// propagator from deciding the correlation ID.
func WithoutCorrelationID(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	if _, ok := CorrelationID(ctx); !ok {
		return ctx
	}
	return context.WithValue(ctx, correlationKey{}, "")
}

// ValidCorrelationID reports whether s is an acceptable correlation ID:
// 1 to 128 characters, each one of A-Z, a-z, 0-9, '.', '_', ':' or '-'.
// The check is byte-wise, so multi-byte UTF-8, control characters and
// separators such as CR, LF or U+2028 are all rejected.
func ValidCorrelationID(s string) bool {
	if len(s) == 0 || len(s) > MaxCorrelationIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idByte[s[i]] {
			return false
		}
	}
	return true
}

var idByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "._:-" {
		t[c] = true
	}
	return t
}()

// NewCorrelationID returns a fresh correlation ID: 32 lowercase hex
// characters from 128 bits of cryptographically strong randomness, the same
// shape as a W3C trace ID.
func NewCorrelationID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program irrecoverably instead if the kernel cannot supply randomness.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// EnsureCorrelationID returns ctx with a correlation ID and that ID. An ID
// already in ctx is kept. Otherwise the trace ID of the span in ctx is used
// when there is a valid one, so that one value finds both logs and spans;
// failing that a new random ID is generated.
func EnsureCorrelationID(ctx context.Context) (context.Context, string) {
	if ctx == nil {
		ctx = context.Background()
	}
	if id, ok := CorrelationID(ctx); ok {
		return ctx, id
	}
	var id string
	if sc := oteltrace.SpanContextFromContext(ctx); sc.TraceID().IsValid() {
		id = sc.TraceID().String()
	} else {
		id = NewCorrelationID()
	}
	return context.WithValue(ctx, correlationKey{}, id), id
}
