package grpcmw_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/trace"
)

// A handler other than glassbox's, wrapped in log.NewContextIDHandler,
// gets the call's IDs on the server's access record and the client's call
// record.
func TestRecordsCarryIDsWithAnySlogHandler(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, exp, "srv")
	var srvBuf, cliBuf syncBuffer
	srvLog := middleware.WithLogger(slog.New(log.NewContextIDHandler(slog.NewJSONHandler(&srvBuf, nil))))
	cliLog := middleware.WithLogger(slog.New(log.NewContextIDHandler(slog.NewJSONHandler(&cliBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	conn := bufServer(t, tel.opts(srvLog), tel.opts(cliLog), echoFuncs{unary: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return in, nil
	}})
	ctx := trace.WithCorrelationID(context.Background(), "call-5")
	if _, err := callUnary(ctx, conn, "x"); err != nil {
		t.Fatal(err)
	}
	for side, buf := range map[string]*syncBuffer{"server": &srvBuf, "client": &cliBuf} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &rec); err != nil {
			t.Fatalf("%s: want one JSON record: %v: %s", side, err, buf.String())
		}
		if rec["correlation.id"] != "call-5" {
			t.Errorf("%s record: correlation.id = %v, want call-5", side, rec["correlation.id"])
		}
		tid, _ := rec["trace.id"].(string)
		sid, _ := rec["span.id"].(string)
		var found bool
		for _, sp := range exp.GetSpans() {
			if sp.SpanContext.TraceID().String() == tid && sp.SpanContext.SpanID().String() == sid {
				found = true
			}
		}
		if !found {
			t.Errorf("%s record: trace.id %q span.id %q are not a recorded span's", side, tid, sid)
		}
	}
}
