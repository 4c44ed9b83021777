package parallel_test

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/glassbox-obs/glassbox/internal/parallel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDoRunsSideBySide: every call runs while the others wait (none can
// finish before all have started), and the errors come back in order.
func TestDoRunsSideBySide(t *testing.T) {
	const n = 4
	started := make(chan struct{}, n)
	release := make(chan struct{})
	go func() {
		defer close(release)
		for range n {
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Error("the calls did not all start within 10 s: they run one after another")
				return
			}
		}
	}()
	errA, errC := errors.New("a"), errors.New("c")
	err := parallel.Do(n, func(i int) error {
		started <- struct{}{}
		<-release
		switch i {
		case 0:
			return errA
		case 2:
			return errC
		}
		return nil
	})
	if !errors.Is(err, errA) || !errors.Is(err, errC) || err.Error() != "a\nc" {
		t.Errorf("got %v, want the errors of calls 0 and 2, in that order", err)
	}
	if err := parallel.Do(0, func(int) error { return errA }); err != nil {
		t.Errorf("no calls: got %v, want nil", err)
	}
}
