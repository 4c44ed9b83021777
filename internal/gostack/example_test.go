package gostack_test

import (
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/gostack"
)

func ExampleCrashSite() {
	trace := "net/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2286\n" +
		"main.(*shop).checkout(0xc000010000)\n\t/src/shop/checkout.go:42 +0x3f5\n"
	if f, ok := gostack.CrashSite(trace); ok {
		fmt.Println("at", f.Function, f.Location())
	}
	// Output:
	// at main.(*shop).checkout /src/shop/checkout.go:42
}
