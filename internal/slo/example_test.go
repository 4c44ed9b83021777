package slo_test

import (
	"fmt"

	"github.com/glassbox-obs/glassbox/internal/slo"
)

func ExampleRules() {
	avail, _ := slo.Parse("availability=99.9")
	lat, _ := slo.Parse("latency=250ms@99")
	rules, _ := slo.Rules([]slo.SLO{avail, lat}, slo.Options{Services: []string{"checkout"}})
	for _, r := range rules.Groups[0].Rules {
		if r.Alert != "" {
			fmt.Println(r.Alert, r.Labels["window"], r.Labels["burn_rate"], r.Labels["severity"])
		}
	}
	_, err := slo.Parse("latency=0.3s@99")
	fmt.Println(err != nil)
	// Output:
	// GlassboxAvailabilityBurn1h 1h/5m 14.4 page
	// GlassboxAvailabilityBurn6h 6h/30m 6 page
	// GlassboxAvailabilityBurn3d 3d/6h 1 ticket
	// GlassboxLatencyBurn1h 1h/5m 14.4 page
	// GlassboxLatencyBurn6h 6h/30m 6 page
	// GlassboxLatencyBurn3d 3d/6h 1 ticket
	// true
}
