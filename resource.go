package glassbox

import (
	"context"
	"fmt"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

// newResource builds the OTel resource every span (Elasticsearch and OTLP)
// and every OTLP log record carries. Later sources win:
//
//  1. telemetry.sdk.*, host.name, and process.pid,
//     process.executable.name and process.runtime.* (not the command line
//     or the owner, which may hold secrets or personal data);
//  2. every attribute of OTEL_RESOURCE_ATTRIBUTES;
//  3. the service identity Start resolved (service.name, service.version,
//     deployment.environment.name, host.name), which already folds in
//     OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and the code options,
//     so resources and log documents always agree.
//
// A detector that fails is reported to the error handler; Start goes on
// with what was detected.
func (b *builder) newResource(ctx context.Context) (*sdkresource.Resource, error) {
	getenv := b.cfg.getenv
	envAttrs, err := parseResourceAttributes(getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return nil, fmt.Errorf("glassbox: OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	keys := make([]string, 0, len(envAttrs))
	for k := range envAttrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fromEnv := make([]attribute.KeyValue, 0, len(keys))
	for _, k := range keys {
		fromEnv = append(fromEnv, attribute.String(k, envAttrs[k]))
	}
	res, err := sdkresource.New(ctx,
		sdkresource.WithTelemetrySDK(),
		sdkresource.WithHost(),
		sdkresource.WithProcessPID(),
		sdkresource.WithProcessExecutableName(),
		sdkresource.WithProcessRuntimeName(),
		sdkresource.WithProcessRuntimeVersion(),
		sdkresource.WithProcessRuntimeDescription(),
		sdkresource.WithAttributes(fromEnv...),
		sdkresource.WithAttributes(b.service.ResourceAttributes()...),
	)
	if err != nil {
		if res == nil {
			return nil, fmt.Errorf("glassbox: resource: %w", err)
		}
		b.errorHandler.Handle(fmt.Errorf("glassbox: resource detection: %w", err))
	}
	return res, nil
}
