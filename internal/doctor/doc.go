// Package doctor checks a glassbox deployment from the outside: it reads
// the environment glassbox.Start reads and asks every configured backend
// (Elasticsearch, an OTLP collector, Sentry) and the spool directory
// whether data can flow, each check ending in pass, warn, fail or skip
// with what to do. It is the engine of "glassbox doctor".
//
// The one call:
//
//	rep := doctor.Run(ctx, doctor.Options{Getenv: os.Getenv, Timeout: 5 * time.Second})
//	rep.WriteText(os.Stdout)
//	if !rep.Healthy() { os.Exit(1) }
package doctor
