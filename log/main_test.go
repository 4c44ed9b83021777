package log_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The handler starts no goroutines; sinks and tests must not leave any.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
