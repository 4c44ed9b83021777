package glassbox

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine started by Start (or
// a component) outlives Shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
