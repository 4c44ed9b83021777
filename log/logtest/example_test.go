package logtest_test

import (
	"context"
	"fmt"

	"github.com/glassbox-obs/glassbox/log/logtest"
	"github.com/glassbox-obs/glassbox/trace"
)

// checkout is the code under test: it logs through log/slog.
func checkout(ctx context.Context, logger interface {
	InfoContext(context.Context, string, ...any)
}) {
	logger.InfoContext(ctx, "payment authorised", "amount", 129.95, "card_number", "4111111111111111")
}

// A test hands the code a logger whose records land in a Recorder, then
// asserts on what glassbox would have shipped: the message, the request's
// correlation ID, the attributes, redaction included.
func ExampleNewLogger() {
	logger, rec := logtest.NewLogger()
	ctx := trace.WithCorrelationID(context.Background(), "order-42")

	checkout(ctx, logger)

	for _, r := range rec.FilterCorrelationID("order-42") {
		amount, _ := r.Attr("amount")
		card, _ := r.Attr("card_number")
		fmt.Println(r.Level, r.Message, amount, card)
	}
	// Output:
	// INFO payment authorised 129.95 [REDACTED]
}
