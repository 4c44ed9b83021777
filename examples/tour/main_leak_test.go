package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The demo starts an HTTP server and telemetry; nothing may outlive run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
