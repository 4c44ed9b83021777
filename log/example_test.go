package log_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

func ExampleNewHandler() {
	var buf bytes.Buffer
	logger := slog.New(gblog.NewHandler(
		gblog.WithWriter(&buf),
		gblog.WithService(gblog.Service{Name: "checkout", Version: "1.4.2"}),
	))

	ctx := trace.WithCorrelationID(context.Background(), "order-7781")
	logger.InfoContext(ctx, "payment authorised", "amount", 129.95, "password", "hunter2")

	var doc map[string]any
	_ = json.Unmarshal(buf.Bytes(), &doc)
	for _, k := range []string{"log.level", "message", "service.name", "correlation.id", "amount", "password"} {
		fmt.Printf("%s: %v\n", k, doc[k])
	}
	// Output:
	// log.level: info
	// message: payment authorised
	// service.name: checkout
	// correlation.id: order-7781
	// amount: 129.95
	// password: [REDACTED]
}

func ExampleNewWriterSink() {
	var buf bytes.Buffer
	h := gblog.NewHandler(gblog.WithSink(gblog.NewWriterSink(&buf, gblog.FormatText)))
	r := slog.NewRecord(testTime, slog.LevelWarn, "disk almost full", 0)
	r.AddAttrs(slog.String("mount", "/var"), slog.Int("free_pct", 4))
	_ = h.Handle(context.Background(), r)
	fmt.Print(buf.String())
	// Output: 08:15:00.000 WARN  disk almost full  mount=/var  free_pct=4
}

func ExampleRedactor() {
	r := gblog.NewRedactor("ssn")
	for _, k := range []string{"Authorization", "db_password", "userToken", "SSN", "user_id"} {
		fmt.Println(k, r.Match(k))
	}
	// Output:
	// Authorization true
	// db_password true
	// userToken true
	// SSN true
	// user_id false
}

func ExampleRedactor_RedactURL() {
	r := gblog.NewRedactor()
	fmt.Println(r.RedactURL("https://bob:hunter2@shop.example/cb?user[password]=p&page=2&X-Amz-Signature=f00#access_token=t", 2048))
	fmt.Println(r.RedactQuery("q=shoes&api_key=k", 1024))
	// Output:
	// https://shop.example/cb?user[password]=[REDACTED]&page=2&X-Amz-Signature=[REDACTED]
	// q=shoes&api_key=[REDACTED]
}
