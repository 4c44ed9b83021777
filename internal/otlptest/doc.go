// Package otlptest is an OTLP collector for tests: it receives traces,
// logs and metrics over gRPC or HTTP/protobuf, records what arrives, and can answer with
// the faults real collectors produce (Unavailable, ResourceExhausted with
// RetryInfo, HTTP 429/503 with Retry-After, or no answer at all).
//
// It speaks the wire protocol of go.opentelemetry.io/proto/otlp as strictly
// as the OpenTelemetry Collector does, listens on 127.0.0.1 only and stops by
// itself when the test ends. The call most tests need:
//
//	srv := otlptest.NewHTTP(t) // or otlptest.NewGRPC(t)
//	// point an exporter at srv.Endpoint(), then:
//	spans := srv.WaitSpans(t, 1)
package otlptest
