package glassbox

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
)

// shutdownProvider is a MeterProvider whose Shutdown is f.
type shutdownProvider struct {
	noop.MeterProvider
	f func(context.Context) error
}

func (p shutdownProvider) ForceFlush(context.Context) error   { return nil }
func (p shutdownProvider) Shutdown(ctx context.Context) error { return p.f(ctx) }

// TestComponentsShutDownSideBySideThenMetrics: a component whose backend
// hangs until the deadline does not shut the others down with an expired
// context, whatever the order they were set up in; the MeterProvider
// shuts down after every component, so that its last export has their
// final figures.
func TestComponentsShutDownSideBySideThenMetrics(t *testing.T) {
	var (
		mu    sync.Mutex
		order []string
	)
	done := func(name string) {
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
	}
	b := &builder{}
	fresh := make(chan bool, 1)
	b.onShutdown(func(ctx context.Context) error {
		fresh <- ctx.Err() == nil
		done("files")
		return nil
	})
	b.onShutdown(func(ctx context.Context) error {
		<-ctx.Done()
		done("hung")
		return ctx.Err()
	})
	b.meterProvider = shutdownProvider{f: func(context.Context) error { done("metrics"); return nil }}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := b.runShutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the hung component's deadline error", err)
	}
	if !<-fresh {
		t.Error("a component was shut down after another had used up the deadline, want each called with it ahead")
	}
	if len(order) != 3 || order[2] != "metrics" {
		t.Errorf("shut down in the order %v, want the MeterProvider last", order)
	}
}
