package errorhandler

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

func TestRateLimitedPassesOnePerIntervalAndCountsTheRest(t *testing.T) {
	var got []string
	now := time.Unix(0, 0)
	h := RateLimited(otel.ErrorHandlerFunc(func(err error) { got = append(got, err.Error()) })).(*limiter)
	h.now = func() time.Time { return now }

	h.Handle(errors.New("first"))
	for i := 0; i < 5; i++ {
		h.Handle(errors.New("storm"))
	}
	h.Handle(nil) // ignored
	now = now.Add(Interval)
	h.Handle(errors.New("later"))

	if len(got) != 2 || got[0] != "first" {
		t.Fatalf("got %q, want first and one more after the interval", got)
	}
	if !strings.HasPrefix(got[1], "later") || !strings.Contains(got[1], "5 more errors suppressed") {
		t.Errorf("got %q, want the later error with the count of suppressed ones", got[1])
	}
}
