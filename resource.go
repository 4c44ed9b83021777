package glassbox

import (
	"context"

	sdkresource "go.opentelemetry.io/otel/sdk/resource"
)

// newResource builds the OTel resource every span and exported log record
// carries, from the service identity.
func (b *builder) newResource(ctx context.Context) (*sdkresource.Resource, error) {
	attrs := b.service.ResourceAttributes()
	return sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(attrs...))
}
