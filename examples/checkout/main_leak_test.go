package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The example starts three servers, their telemetry and clients; nothing
// may outlive run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
