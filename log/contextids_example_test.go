package log_test

import (
	"context"
	"log/slog"
	"os"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// Another handler gets the context's IDs through NewContextIDHandler;
// glassbox's handler reads them itself.
func ExampleNewContextIDHandler() {
	plain := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // a fixed output for the example
			}
			return a
		},
	})
	logger := slog.New(gblog.NewContextIDHandler(plain))

	ctx := trace.WithCorrelationID(context.Background(), "order-7781")
	logger.InfoContext(ctx, "payment authorised", "amount", 129.95)
	// Output:
	// {"level":"INFO","msg":"payment authorised","correlation.id":"order-7781","amount":129.95}
}
