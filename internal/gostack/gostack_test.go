package gostack_test

import (
	"strings"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/gostack"
)

// panicStack is what the checkout example stored for its panic: the
// runtime/debug.Stack output of glassbox's gRPC recovery, the panic in
// package main between go-grpc-middleware and glassbox frames.
const panicStack = `goroutine 52 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
github.com/glassbox-obs/glassbox/middleware/grpcmw.recoverPanic({0xd9f058?, 0x25559b0cd80?}, {0xc3e1a0, 0x14486a0})
	/work/glassbox/middleware/grpcmw/server.go:123 +0x5a
github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery.recoverFrom({0xd9f058?, 0x25559b0cd80?}, {0xc3e1a0?, 0x14486a0?}, 0x25559a631df?)
	/root/go/pkg/mod/github.com/grpc-ecosystem/go-grpc-middleware/v2@v2.3.4/interceptors/recovery/interceptors.go:54 +0xea
github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery.UnaryServerInterceptor.func1.1()
	/root/go/pkg/mod/github.com/grpc-ecosystem/go-grpc-middleware/v2@v2.3.4/interceptors/recovery/interceptors.go:30 +0x59
panic({0xc3e1a0?, 0x14486a0?})
	/usr/local/go/src/runtime/panic.go:860 +0x13a
main.(*payments).charge(0x2555998db30, {0xd9f058, 0x25559b0cd80}, 0x0?)
	/work/glassbox/examples/checkout/payments.go:68 +0x3f5
main.init.func1.1({0xd9f058?, 0x25559b0cd80?}, {0xce8160?, 0x25559b0cc90?})
	/work/glassbox/examples/checkout/payments.go:126 +0x57
github.com/glassbox-obs/glassbox/middleware/grpcmw.(*callState).recoverUnaryImpl(...)
	/work/glassbox/middleware/grpcmw/call.go:88
google.golang.org/grpc.(*Server).processRPC(0x255599a0908, {0xd9f058, 0x25559b0cc00}, 0x255599b5340, 0x2555998dd40, 0x255599968e0, 0x0)
	/root/go/pkg/mod/google.golang.org/grpc@v1.85.0/server.go:1450 +0x122b
created by google.golang.org/grpc.(*Server).serveStreams.func2 in goroutine 39
	/root/go/pkg/mod/google.golang.org/grpc@v1.85.0/server.go:1107 +0x11d
`

// errorStack is what the log handler writes for an error of glassbox's
// errors package: function, then the tab-indented file:line.
const errorStack = `main.(*frontend).checkout
	/work/glassbox/examples/checkout/frontend.go:92
net/http.HandlerFunc.ServeHTTP
	/usr/local/go/src/net/http/server.go:2286
github.com/glassbox-obs/glassbox/middleware.(*handler).ServeHTTP
	/work/glassbox/middleware/http.go:168
runtime.goexit
	/usr/local/go/src/runtime/asm_amd64.s:1771
`

func TestCrashSite(t *testing.T) {
	for _, tc := range []struct {
		name, trace string
		want        gostack.Frame
		ok          bool
	}{
		{"panic below the recovery machinery", panicStack,
			gostack.Frame{Function: "main.(*payments).charge", File: "/work/glassbox/examples/checkout/payments.go", Line: 68}, true},
		{"error created in a handler", errorStack,
			gostack.Frame{Function: "main.(*frontend).checkout", File: "/work/glassbox/examples/checkout/frontend.go", Line: 92}, true},
		{"a module of the program, past a dependency", "github.com/lib/pq.(*conn).Exec\n\t/home/u/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go:870\n" +
			"example.com/shop/orders.(*Store).Save\n\t/src/shop/orders/store.go:41\n",
			gostack.Frame{Function: "example.com/shop/orders.(*Store).Save", File: "/src/shop/orders/store.go", Line: 41}, true},
		{"-trimpath paths", "encoding/json.(*decodeState).object\n\tencoding/json/decode.go:641\n" +
			"example.com/lib.Parse\n\texample.com/lib@v1.2.0/parse.go:9\n" +
			"example.com/shop/api.handle\n\texample.com/shop/api/handle.go:17\n",
			gostack.Frame{Function: "example.com/shop/api.handle", File: "example.com/shop/api/handle.go", Line: 17}, true},
		{"vendored dependency", "example.com/lib.Parse\n\t/src/shop/vendor/example.com/lib/parse.go:9\nmain.main\n\t/src/shop/main.go:5\n",
			gostack.Frame{Function: "main.main", File: "/src/shop/main.go", Line: 5}, true},
		{"Windows line ends and paths", "main.run(...)\r\n\tC:\\src\\shop\\main.go:12 +0x1d\r\n",
			gostack.Frame{Function: "main.run", File: `C:\src\shop\main.go`, Line: 12}, true},
		{"glassbox, the standard library and OpenTelemetry only", "github.com/glassbox-obs/glassbox/errors.New\n\t/g/errors/errors.go:60\n" +
			"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp.(*middleware).serveHTTP\n\t/m/otelhttp/handler.go:178\n" +
			"net/http.(*conn).serve\n\t/usr/local/go/src/net/http/server.go:2067\n", gostack.Frame{}, false},
		{"nothing below the creator", "created by main.main in goroutine 1\n\t/src/main.go:9 +0x25\n", gostack.Frame{}, false},
		{"not a stack", "boom\n\nat line one\n\t\n", gostack.Frame{}, false},
		{"empty", "", gostack.Frame{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := gostack.CrashSite(tc.trace)
			if ok != tc.ok || got != tc.want {
				t.Errorf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// Parse keeps the frames below a panic, innermost first, without
// arguments and offsets, and stops at the goroutine's creator.
func TestParse(t *testing.T) {
	var got []string
	for _, f := range gostack.Parse(panicStack) {
		got = append(got, f.Function+" "+f.Location())
	}
	want := []string{
		"main.(*payments).charge /work/glassbox/examples/checkout/payments.go:68",
		"main.init.func1.1 /work/glassbox/examples/checkout/payments.go:126",
		"github.com/glassbox-obs/glassbox/middleware/grpcmw.(*callState).recoverUnaryImpl /work/glassbox/middleware/grpcmw/call.go:88",
		"google.golang.org/grpc.(*Server).processRPC /root/go/pkg/mod/google.golang.org/grpc@v1.85.0/server.go:1450",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestInApp(t *testing.T) {
	for fn, want := range map[string]bool{
		"main.main":                      true,
		"main.(*T).m":                    true,
		"example.com/shop.Run":           true,
		"runtime.goexit":                 false,
		"runtime/debug.Stack":            false,
		"net/http.HandlerFunc.ServeHTTP": false,
		"google.golang.org/grpc.(*S).Do": false,
		"google.golang.org/grpcx.Do":     true, // another module
		"github.com/glassbox-obs/glassbox/middleware.(*handler).ServeHTTP": false,
		"github.com/glassbox-obs/glassbox/errors.New":                      false,
		"github.com/glassbox-obs/glassbox/exporter/sentry_test.charge":     true,
		"github.com/glassbox-obs/glassbox/examples/tour/shop.(*Cart).Add":  true,
		"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors.X":   false,
		"go:buildid": false,
	} {
		if got := gostack.InApp(gostack.Frame{Function: fn, File: "/src/x.go", Line: 1}, gostack.Build{}); got != want {
			t.Errorf("InApp(%s): got %v, want %v", fn, got, want)
		}
	}
}

func TestGOROOT(t *testing.T) {
	if got := gostack.GOROOT(panicStack); got != "/usr/local/go" {
		t.Errorf("GOROOT of a panic stack: got %q, want /usr/local/go", got)
	}
	if got := gostack.GOROOT(errorStack); got != "/usr/local/go" {
		t.Errorf("GOROOT of an error stack (runtime.goexit): got %q, want /usr/local/go", got)
	}
	if got := gostack.GOROOT("main.f\n\tmain.go:3\n"); got != "" {
		t.Errorf("GOROOT of a trace without runtime frames: got %q, want none", got)
	}
}

// A module named without a dot ("myapp") is the application's when what
// is known of the build tells it from the standard library.
func TestInAppModuleWithoutDot(t *testing.T) {
	f := gostack.Frame{Function: "myapp/orders.(*H).load", File: "/srv/myapp/orders/load.go", Line: 9}
	tests := []struct {
		name string
		f    gostack.Frame
		b    gostack.Build
		want bool
	}{
		{"nothing known", f, gostack.Build{}, false},
		{"outside GOROOT", f, gostack.Build{GOROOT: "/usr/local/go"}, true},
		{"the main module", gostack.Frame{Function: f.Function, File: "myapp/orders/load.go"}, gostack.Build{MainModule: "myapp"}, true},
		{"stdlib under GOROOT", gostack.Frame{Function: "net/http.(*conn).serve", File: "/usr/local/go/src/net/http/server.go"}, gostack.Build{GOROOT: "/usr/local/go"}, false},
		{"stdlib, -trimpath", gostack.Frame{Function: "net/http.(*conn).serve", File: "net/http/server.go"}, gostack.Build{GOROOT: "/usr/local/go"}, false},
		{"glassbox as main module", gostack.Frame{Function: "github.com/glassbox-obs/glassbox/log.(*Handler).Handle", File: "/w/log/handler.go"}, gostack.Build{MainModule: "github.com/glassbox-obs/glassbox"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gostack.InApp(tt.f, tt.b); got != tt.want {
				t.Errorf("InApp(%s, %+v): got %v, want %v", tt.f.Function, tt.b, got, tt.want)
			}
		})
	}
	// CrashSite learns GOROOT from the trace itself.
	trace := "myapp/orders.(*H).load()\n\t/srv/myapp/orders/load.go:9 +0x1\nruntime.goexit()\n\t/usr/local/go/src/runtime/asm_amd64.s:1771 +0x1\n"
	if site, ok := gostack.CrashSite(trace); !ok || site.Function != "myapp/orders.(*H).load" {
		t.Errorf("CrashSite: got %+v %v, want myapp/orders.(*H).load", site, ok)
	}
}
