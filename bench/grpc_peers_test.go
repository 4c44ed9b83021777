package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// The instrumented stacks BenchmarkGRPCUnary compares do the same job for
// a call without an ID: one access record carrying a server-chosen request
// ID and the call's trace, and that ID sent back in the header metadata.
func TestGRPCStacksDoTheSameJob(t *testing.T) {
	for name, idKey := range map[string]string{"glassbox": "correlation.id", "peers": "request.id"} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			client := benchHealth(t, grpcStack(t, name, &logs)...)
			var header metadata.MD
			resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{}, grpc.Header(&header))
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("Check: %v %v", resp, err)
			}
			sent := append(header.Get("x-correlation-id"), header.Get("x-request-id")...)
			if len(sent) != 1 || sent[0] == "" {
				t.Fatalf("header metadata %v: want the ID the server chose, once", header)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d records, want 1:\n%s", len(lines), logs.String())
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatalf("record %s: %v", lines[0], err)
			}
			if rec[idKey] != sent[0] {
				t.Errorf("record %s: %s = %v, want %s", lines[0], idKey, rec[idKey], sent[0])
			}
			for _, k := range []string{"trace.id", "span.id"} {
				if s, _ := rec[k].(string); len(s) < 16 {
					t.Errorf("record %s: no %s", lines[0], k)
				}
			}
		})
	}
}
