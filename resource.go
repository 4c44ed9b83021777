package glassbox

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

// WithServiceName sets service.name. Default: OTEL_SERVICE_NAME, then the
// service.name of OTEL_RESOURCE_ATTRIBUTES, then the executable's name.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.service.Name = name })
}

// WithServiceVersion sets service.version. Default: service.version of
// OTEL_RESOURCE_ATTRIBUTES.
func WithServiceVersion(v string) Option {
	return optionFunc(func(c *config) { c.service.Version = v })
}

// WithEnvironment sets service.environment. Default: deployment.environment.name
// (or deployment.environment) of OTEL_RESOURCE_ATTRIBUTES, then SENTRY_ENVIRONMENT.
func WithEnvironment(env string) Option {
	return optionFunc(func(c *config) { c.service.Environment = env })
}

// loadServiceEnv reads the service identity: OTEL_RESOURCE_ATTRIBUTES
// (parsed here, once; newResource uses the result), OTEL_SERVICE_NAME and,
// for the environment, SENTRY_ENVIRONMENT.
func (c *config) loadServiceEnv(getenv func(string) string) error {
	attrs, err := parseResourceAttributes(getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return fmt.Errorf("glassbox: OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	c.resourceAttrs = attrs
	c.service.Name = attrs["service.name"]
	c.service.Version = attrs["service.version"]
	c.service.Environment = attrs["deployment.environment.name"]
	if c.service.Environment == "" {
		c.service.Environment = attrs["deployment.environment"]
	}
	if v := getenv("OTEL_SERVICE_NAME"); v != "" {
		c.service.Name = v
	}
	if c.service.Environment == "" {
		c.service.Environment = getenv("SENTRY_ENVIRONMENT")
	}
	return nil
}

func (c *config) fillServiceDefaults() {
	if c.service.Name == "" {
		c.service.Name = defaultServiceName()
	}
}

func defaultServiceName() string {
	exe, err := os.Executable()
	if err != nil || exe == "" {
		return "unknown_service"
	}
	name := exe[strings.LastIndexAny(exe, `/\`)+1:]
	return "unknown_service:" + name
}

// parseResourceAttributes parses the W3C-baggage-like list of
// OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas, values
// percent-encoded.
func parseResourceAttributes(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("item %d %q is not key=value", i+1, part)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("item %d: value of %q is not valid percent-encoding", i+1, k)
		}
		m[k] = dv
	}
	return m, nil
}

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
	fromEnv := make([]attribute.KeyValue, 0, len(b.cfg.resourceAttrs))
	for k, v := range b.cfg.resourceAttrs {
		fromEnv = append(fromEnv, attribute.String(k, v))
	}
	slices.SortFunc(fromEnv, func(a, b attribute.KeyValue) int { return strings.Compare(string(a.Key), string(b.Key)) })
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
