package otlp

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// envOf is a getenv over a map.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestSettingsAreTheConstructors: one table of environments through
// TraceSettings/LogSettings and through the constructors: the settings
// report exactly the error the exporter constructor returns and exactly
// the warnings the processor or sink reports to the error handler.
func TestSettingsAreTheConstructors(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
		{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "thrift", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		{"OTEL_EXPORTER_OTLP_TIMEOUT": "0"},
		{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2s", "OTEL_EXPORTER_OTLP_TIMEOUT": "10"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL": "udp", "OTEL_EXPORTER_OTLP_TIMEOUT": "x"},
		{"OTEL_BSP_MAX_QUEUE_SIZE": "-5", "OTEL_BSP_SCHEDULE_DELAY": "soon", "OTEL_BLRP_MAX_QUEUE_SIZE": "0"},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "-1", "OTEL_BSP_EXPORT_TIMEOUT": "100"},
	} {
		t.Run(fmt.Sprint(env), func(t *testing.T) {
			ctx := context.Background()
			opt := WithGetenv(envOf(env))
			for _, sig := range []string{"TRACES", "LOGS"} {
				var (
					settings func(...Option) (Settings, []error, error)
					build    func(Option, otel.ErrorHandler) (func(), error)
				)
				if sig == "TRACES" {
					settings = TraceSettings
					build = func(o Option, h otel.ErrorHandler) (func(), error) {
						exp, err := NewSpanExporter(ctx, o)
						if err != nil {
							return nil, err
						}
						p := NewSpanProcessor(exp, o, WithErrorHandler(h))
						return func() { _ = p.Shutdown(ctx) }, nil
					}
				} else {
					settings = LogSettings
					build = func(o Option, h otel.ErrorHandler) (func(), error) {
						exp, err := NewLogExporter(ctx, o)
						if err != nil {
							return nil, err
						}
						s := NewSink(exp, o, WithErrorHandler(h))
						return func() { _ = s.Shutdown(ctx) }, nil
					}
				}
				_, warnings, err := settings(opt)
				h := &collect{}
				stop, buildErr := build(opt, h)
				if stop != nil {
					stop()
				}
				if fmt.Sprint(err) != fmt.Sprint(buildErr) {
					t.Errorf("%s: settings error %v, constructor error %v", sig, err, buildErr)
				}
				if buildErr != nil {
					continue
				}
				if got, want := texts(warnings), texts(h.list()); !slices.Equal(got, want) {
					t.Errorf("%s: settings warn %q, the error handler got %q", sig, got, want)
				}
			}
		})
	}
}

type collect struct {
	mu   sync.Mutex
	errs []error
}

func (c *collect) Handle(err error) { c.mu.Lock(); c.errs = append(c.errs, err); c.mu.Unlock() }
func (c *collect) list() []error    { c.mu.Lock(); defer c.mu.Unlock(); return slices.Clone(c.errs) }

func texts(errs []error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return out
}

// TestWithGetenv: the variables this package reads come from WithGetenv's
// function, not the process environment, wherever the option is in the
// list; a nil function reads no environment at all; options still win.
func TestWithGetenv(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json") // would make every constructor fail
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "-1")
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "-1")

	env := envOf(map[string]string{
		"OTEL_EXPORTER_OTLP_PROTOCOL":       "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500",
		"OTEL_BSP_MAX_QUEUE_SIZE":           "7",
		"OTEL_BLRP_MAX_QUEUE_SIZE":          "9",
	})
	for _, tc := range []struct {
		name        string
		opts        []Option
		traces, log Settings
	}{
		{"getenv first", []Option{WithGetenv(env), WithEndpointURL("http://localhost:4317")},
			Settings{ProtocolGRPC, 2500 * time.Millisecond, 7}, Settings{ProtocolGRPC, DefaultTimeout, 9}},
		{"getenv last", []Option{WithMaxQueueSize(3), WithGetenv(env)},
			Settings{ProtocolGRPC, 2500 * time.Millisecond, 3}, Settings{ProtocolGRPC, DefaultTimeout, 3}},
		{"nil getenv", []Option{WithGetenv(nil)},
			Settings{DefaultProtocol, DefaultTimeout, DefaultMaxQueueSize}, Settings{DefaultProtocol, DefaultTimeout, DefaultMaxQueueSize}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, w, err := TraceSettings(tc.opts...)
			if err != nil || len(w) > 0 || s != tc.traces {
				t.Errorf("TraceSettings: got %+v %v %v, want %+v", s, w, err, tc.traces)
			}
			s, w, err = LogSettings(tc.opts...)
			if err != nil || len(w) > 0 || s != tc.log {
				t.Errorf("LogSettings: got %+v %v %v, want %+v", s, w, err, tc.log)
			}
		})
	}
	if _, _, err := TraceSettings(); err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") {
		t.Errorf("without WithGetenv: got %v, want the process environment's protocol refused", err)
	}
}

// TestWithGetenvExports: spans go out over the protocol WithGetenv's
// environment names, although the process environment names one the
// exporters would refuse.
func TestWithGetenvExports(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	srv := newServer(t, ProtocolGRPC)
	env := WithGetenv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}))
	ctx := context.Background()
	exp, err := NewSpanExporter(ctx, env, WithEndpointURL(srv.Endpoint()), WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewSpanProcessor(exp, env)))
	_, span := tp.Tracer("t").Start(ctx, "op")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.WaitSpans(t, 1); len(got) != 1 || got[0].Span.GetName() != "op" {
		t.Errorf("spans received over gRPC: %+v", got)
	}
}
