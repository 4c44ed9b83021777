package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine (a test server, an
// HTTP connection of the Elasticsearch client) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
