package sentry_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/exporter/sentry"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/middleware"
)

func Example() {
	// In a service, glassbox.Start builds the Reporter from SENTRY_DSN.
	// Here nothing listens at the DSN: the event is dropped and counted.
	rep, err := sentry.New(
		sentry.WithDSN("http://public@127.0.0.1:9/1"),
		sentry.WithService(log.Service{Name: "checkout"}),
		sentry.WithErrorHandler(discardErrors{}),
	)
	if err != nil {
		panic(err)
	}
	defer rep.Shutdown(context.Background())

	// The Reporter observes requests and reads the logs.
	logger := slog.New(log.NewHandler(log.WithSink(rep)))
	handler := middleware.HTTP(middleware.WithObservers(rep), middleware.WithLogger(logger))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := errors.With(errors.New("card declined"), "order_id", 42)
			// The request's one event; its ID goes into the log record.
			id := sentry.Report(r.Context(), err)
			logger.ErrorContext(r.Context(), "payment failed", "err", err, "error.id", id)
			w.WriteHeader(http.StatusPaymentRequired)
		}))
	_ = handler

	id := rep.Report(context.Background(), errors.New("background job failed"))
	fmt.Println(len(id))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rep.Flush(ctx)
	st := rep.Stats()
	fmt.Println(st.Queued, st.Sent, st.Dropped)
	// Output:
	// 32
	// 1 0 1
}

// Check tells what New would make of an environment without starting a
// Reporter: here a map stands in for the process environment, as in
// "glassbox doctor".
func ExampleCheck() {
	env := map[string]string{"SENTRY_DSN": "https://0123abcd@o1.ingest.sentry.io/42"}
	getenv := sentry.WithGetenv(func(k string) string { return env[k] })
	d, err := sentry.Check(getenv)
	fmt.Println(d.EnvelopeURL(), d.ProjectID(), err)

	env["SENTRY_SAMPLE_RATE"] = "10%"
	_, err = sentry.Check(getenv)
	fmt.Println(err)
	// Output:
	// https://o1.ingest.sentry.io/api/42/envelope/ 42 <nil>
	// glassbox/sentry: SENTRY_SAMPLE_RATE: "10%" is not a number in (0, 1] (unset SENTRY_DSN to send nothing)
}

func ExampleParseDSN() {
	for _, s := range []string{"https://0123abcd@sentry.example.com/prefix/7", "https://sentry.example.com/7"} {
		d, err := sentry.ParseDSN(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(d.EnvelopeURL())
	}
	// Output:
	// https://sentry.example.com/prefix/api/7/envelope/
	// invalid DSN: no public key
}
