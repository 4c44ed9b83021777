package metricsdk

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"

	"github.com/glassbox-obs/glassbox/middleware"
)

// NewMeterProvider builds the MeterProvider of Start over readers, with
// s's resource, and two views of the middleware's instruments: the
// request-duration histograms keep, with each exemplar's trace and span
// ID, the request's correlation ID (see correlationReservoir), and the
// active-request counter keeps no exemplar (an up-down counter's would
// never be exported).
func NewMeterProvider(s *Settings, readers []sdkmetric.Reader) Provider {
	opts := make([]sdkmetric.Option, 0, len(readers)+2)
	if s.Resource != nil {
		opts = append(opts, sdkmetric.WithResource(s.Resource))
	}
	for _, r := range readers {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	scope := instrumentation.Scope{Name: middleware.ScopeName}
	opts = append(opts, sdkmetric.WithView(
		sdkmetric.NewView(
			sdkmetric.Instrument{Scope: scope, Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{ExemplarReservoirProviderSelector: correlationSelector},
		),
		sdkmetric.NewView(
			sdkmetric.Instrument{Scope: scope, Kind: sdkmetric.InstrumentKindUpDownCounter},
			sdkmetric.Stream{ExemplarReservoirProviderSelector: func(sdkmetric.Aggregation) exemplar.ReservoirProvider {
				return func(attribute.Set) exemplar.Reservoir { return noReservoir{} }
			}},
		),
	))
	return sdkmetric.NewMeterProvider(opts...)
}

// noReservoir keeps no exemplar.
type noReservoir struct{}

func (noReservoir) Offer(context.Context, time.Time, exemplar.Value, []attribute.KeyValue) {}
func (noReservoir) Collect(dest *[]exemplar.Exemplar)                                      { *dest = (*dest)[:0] }
