// Command glassbox is the command-line companion of the glassbox SDK: it
// finds the story of one request by its ID, prepares Elasticsearch, Kibana,
// Prometheus and Grafana for glassbox data, checks a deployment's
// configuration, and mints break-glass debug tokens.
//
// Usage:
//
//	glassbox <command> [flags] [arguments]
//
// Run "glassbox help <command>" for a command's flags and examples.
//
// Exit status: 0 on success, 1 when the command ran but found nothing or
// found a problem (an unknown ID, an unhealthy check), 2 on a usage error or
// when a backend could not be reached.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}
