package otlp

import (
	"context"
	"sync"
)

// abandonment is how a SpanProcessor or Sink gives up at its Shutdown
// deadline: the exports still running are cancelled, the ones the SDK's
// batch goroutine still starts are skipped (their items are already
// counted in Dropped.Shutdown), and done tells when that goroutine has
// shut the exporter down.
type abandonment struct {
	ctx    context.Context // cancelled when Shutdown gives up
	cancel context.CancelFunc
	done   chan struct{} // closed when the exporter has been shut down
	once   sync.Once
}

func newAbandonment() *abandonment {
	ctx, cancel := context.WithCancel(context.Background())
	return &abandonment{ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// exportContext returns ctx, cancelled as well when Shutdown gives up.
func (a *abandonment) exportContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// exporterShutDown marks the end of the batch goroutine's work.
func (a *abandonment) exporterShutDown() { a.once.Do(func() { close(a.done) }) }
