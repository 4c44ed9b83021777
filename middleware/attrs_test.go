package middleware_test

import (
	"testing"

	"github.com/glassbox-obs/glassbox/middleware"
)

// The names the constants' documentation gives are their values.
func TestAttributeNames(t *testing.T) {
	for got, want := range map[string]string{
		middleware.ScopeName:                 "github.com/glassbox-obs/glassbox/middleware",
		middleware.AttrCorrelationID:         "correlation.id",
		middleware.AttrCorrelationIDRejected: "correlation.id_rejected",
		middleware.AttrErrorID:               "error.id",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
