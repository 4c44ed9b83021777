package doctor_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if a check leaves a goroutine behind (a
// connection, a Sentry reporter).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
