package grpcmw

import "testing"

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		target string
		host   string
		port   int
	}{
		{"api.example.com:8443", "api.example.com", 8443},
		{"api.example.com", "api.example.com", 443},
		{"dns:///api.example.com:50051", "api.example.com", 50051},
		{"dns://8.8.8.8/api.example.com:50051", "api.example.com", 50051},
		{"dns:///api.example.com", "api.example.com", 443},
		{"127.0.0.1:9000", "127.0.0.1", 9000},
		{"[::1]:9000", "::1", 9000},
		{"dns:///[2001:db8::1]:9000", "2001:db8::1", 9000},
		{"passthrough:///bufnet", "bufnet", 0},
		{"passthrough:///10.0.0.7:7000", "10.0.0.7", 7000},
		{"xds:///orders", "orders", 0},
		{"unix:///run/api.sock", "/run/api.sock", 0},
		{"unix://authority/run/api.sock", "/run/api.sock", 0},
		{"unix:api.sock", "api.sock", 0},
		{"unix-abstract:api", "api", 0},
		{"weird\x00host:1", "weird\uFFFDhost", 1},
		{"", "", 0},
	} {
		got := parseTarget(tc.target)
		if got.host != tc.host || got.port != tc.port {
			t.Errorf("parseTarget(%q) = %q %d, want %q %d", tc.target, got.host, got.port, tc.host, tc.port)
		}
	}
}
