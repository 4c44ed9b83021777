package otlp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// docSink keeps the last document written, as a string.
type docSink struct{ doc string }

func (s *docSink) Write(_ context.Context, e *log.Entry) error { s.doc = string(e.Doc); return nil }
func (s *docSink) Shutdown(context.Context) error              { return nil }

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// TestDecodeHandlerDocuments decodes documents written by the real log
// handler.
func TestDecodeHandlerDocuments(t *testing.T) {
	t.Parallel()
	ctx := trace.WithCorrelationID(context.Background(), "c-1")
	tests := []struct {
		name    string
		msg     string
		args    []any
		want    map[string]any
		wantMsg string
	}{
		{"scalars", "hello", []any{"s", "x", "i", -3, "u", uint64(7), "f", 1.5, "b", true, "d", 1500 * time.Millisecond},
			map[string]any{"correlation.id": "c-1", "s": "x", "i": int64(-3), "u": int64(7), "f": 1.5, "b": true, "d": int64(1500000000)}, "hello"},
		{"escapes", "line1\nline2 \"q\" \\ é 😀", []any{"k", "tab\there\u2028"},
			map[string]any{"correlation.id": "c-1", "k": "tab\there\u2028"}, "line1\nline2 \"q\" \\ é 😀"},
		{"group", "g", []any{slog.Group("req", "method", "GET", slog.Group("inner", "n", 1))},
			map[string]any{"correlation.id": "c-1", "req": []attribute.KeyValue{attribute.String("method", "GET"), attribute.KeyValue{Key: "inner", Value: attribute.MapValue(attribute.Int64("n", 1))}}}, "g"},
		{"error", "failed", []any{"err", errors.New("boom")},
			map[string]any{"correlation.id": "c-1", "exception.message": "boom", "exception.type": "*errors.errorString"}, "failed"},
		{"big and special numbers", "n", []any{"big", uint64(math.MaxUint64), "nan", math.NaN()},
			map[string]any{"correlation.id": "c-1", "big": float64(math.MaxUint64), "nan": "NaN"}, "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &docSink{}
			slog.New(log.NewHandler(log.WithSink(s), log.WithService(log.Service{Name: "svc", HostName: "h", Dataset: "svc", Namespace: "default"}))).
				InfoContext(ctx, tt.msg, tt.args...)
			msg, kvs, err := decodeDoc(s.doc, nil)
			if err != nil {
				t.Fatalf("decodeDoc(%s): %v", s.doc, err)
			}
			if msg != tt.wantMsg {
				t.Errorf("message: got %q, want %q", msg, tt.wantMsg)
			}
			got := attrMap(kvs)
			for k, want := range tt.want {
				g, ok := got[k]
				if !ok {
					t.Errorf("attribute %q missing in %v (doc %s)", k, got, s.doc)
					continue
				}
				if wkv, isMap := want.([]attribute.KeyValue); isMap {
					want = attribute.MapValue(wkv...).AsInterface()
				}
				if k == "exception.type" {
					continue // the handler's type naming is its own business
				}
				if !reflect.DeepEqual(g, want) {
					t.Errorf("attribute %q: got %#v, want %#v", k, g, want)
				}
			}
			for k := range got {
				if skipFields[k] {
					t.Errorf("attribute %q: got it, want it left to the record or resource", k)
				}
			}
		})
	}
}

func TestDecodeDocEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     string
		want    map[string]any
		wantErr bool
	}{
		{"empty object", `{}`, map[string]any{}, false},
		{"array and null", `{"a":[1,"x",true,null,{"k":2}],"n":null}`, map[string]any{
			"a": attribute.SliceValue(attribute.Int64Value(1), attribute.StringValue("x"), attribute.BoolValue(true), attribute.MapValue(attribute.Int64("k", 2))).AsInterface(),
		}, false},
		{"surrogate pair", `{"e":"\ud83d\ude00"}`, map[string]any{"e": "😀"}, false},
		{"exponent", `{"f":1e3}`, map[string]any{"f": 1000.0}, false},
		{"not an object", `[1]`, nil, true},
		{"truncated", `{"a":"b`, nil, true},
		{"bad escape", `{"a":"\q"}`, nil, true},
		{"missing colon", `{"a" 1}`, nil, true},
		{"garbage value", `{"a":x}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, kvs, err := decodeDoc(tt.doc, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeDoc(%s): got error %v, want error %v", tt.doc, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got := attrMap(kvs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decodeDoc(%s): got %#v, want %#v", tt.doc, got, tt.want)
			}
		})
	}
}

// FuzzDecodeDoc checks that decoding never panics and accepts every valid
// JSON object, agreeing with encoding/json on string values.
func FuzzDecodeDoc(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"message":"m","x":{"y":[1,2.5,"s",false,null]}}`, `{"a":"\u00e9\n"}`, `{"a":-0.5e-3}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		_, kvs, err := decodeDoc(doc, nil)
		var obj map[string]any
		// The handler only writes valid UTF-8 (see log.Entry.Doc).
		if !utf8.ValidString(doc) || json.Unmarshal([]byte(doc), &obj) != nil || obj == nil {
			return
		}
		if err != nil {
			t.Fatalf("decodeDoc(%q): %v, but encoding/json accepts it", doc, err)
		}
		last := map[attribute.Key]attribute.KeyValue{} // duplicate keys: last wins, as in the SDK
		for _, kv := range kvs {
			last[kv.Key] = kv
		}
		for _, kv := range last {
			if want, ok := obj[string(kv.Key)].(string); ok && kv.Value.Type() == attribute.STRING && kv.Value.AsString() != want {
				t.Errorf("%q: got %q, want %q", kv.Key, kv.Value.AsString(), want)
			}
		}
	})
}
