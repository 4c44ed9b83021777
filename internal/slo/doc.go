// Package slo turns service-level objectives into what Prometheus and
// Grafana need: recording rules, multi-window multi-burn-rate alerts (the
// Google SRE workbook's 1h/5m at 14.4x, 6h/30m at 6x, 3d/6h at 1x) and a
// RED dashboard, all over the metric contract of glassbox's middleware
// (Metrics, Buckets, the labels named Label*).
//
// The call most people need (what `glassbox setup prometheus` does):
//
//	o, err := slo.Parse("availability=99.9")
//	rules, err := slo.Rules([]slo.SLO{o}, slo.Options{})
//	os.WriteFile("rules.yml", []byte(rules.YAML()), 0o644)
package slo
