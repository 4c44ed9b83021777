package selfmetrics

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the instruments.
const ScopeName = "github.com/glassbox-obs/glassbox/exporter"

// Attribute keys of the instruments.
const (
	// AttrExporter names the exporter: elasticsearch, otlp_spans,
	// otlp_logs, sentry, file (the fields of glassbox.Stats).
	AttrExporter = "glassbox.exporter"
	// AttrReason is why glassbox.exporter.dropped records were given up.
	AttrReason = "glassbox.reason"
)

// Counter names a cumulative count of an exporter.
type Counter int

// The counters. Each is the instrument glassbox.exporter.<name> (see
// Name), a monotonic observable counter.
const (
	Produced     Counter = iota // records handed to the exporter
	Delivered                   // records the backend acknowledged
	Retried                     // record re-sends
	Duplicates                  // records the backend already had
	DeadLettered                // records rejected for good, kept in the dead-letter file
	Repaired                    // records re-sent after repair
	Spooled                     // records put in the spool
	Replayed                    // records read back from the spool and settled
	Journaled                   // records written ahead to the spool
	Recovered                   // records a previous run left in the spool
	SpoolCorrupt                // spool records lost to a torn or corrupt tail
	Aggregated                  // events counted in an aggregation summary instead of sent
	SampledOut                  // events not sent because of the sample rate
	Requests                    // requests sent to the backend
	WireBytes                   // request body bytes as sent
	numCounters
)

// Gauge names a current value of an exporter.
type Gauge int

// The gauges, observable up-down counters glassbox.exporter.<name>.
const (
	InFlight   Gauge = iota // records held in memory: queued, being sent, waiting for a retry
	InSpool                 // records waiting in the spool
	QueueBytes              // memory held by records not yet delivered
	SpoolBytes              // size of the spool files
	numGauges
)

// def is an instrument's name, unit and description.
type def struct{ name, unit, desc string }

func (c Counter) def() def {
	switch c {
	case Produced:
		return def{"produced", "{record}", "Records handed to the exporter."}
	case Delivered:
		return def{"delivered", "{record}", "Records the backend acknowledged."}
	case Retried:
		return def{"retried", "{record}", "Record re-sends after a retryable failure."}
	case Duplicates:
		return def{"duplicates", "{record}", "Records the backend already had (stored once)."}
	case DeadLettered:
		return def{"dead_lettered", "{record}", "Records rejected for good, kept in the dead-letter file."}
	case Repaired:
		return def{"repaired", "{record}", "Records re-sent after repair."}
	case Spooled:
		return def{"spooled", "{record}", "Records put in the spool."}
	case Replayed:
		return def{"replayed", "{record}", "Records read back from the spool and settled."}
	case Journaled:
		return def{"journaled", "{record}", "Records written ahead to the spool."}
	case Recovered:
		return def{"recovered", "{record}", "Records a previous run left in the spool."}
	case SpoolCorrupt:
		return def{"spool_corrupt", "{record}", "Spool records lost to a torn or corrupt tail."}
	case Aggregated:
		return def{"aggregated", "{record}", "Events counted in an aggregation window's summary instead of sent."}
	case SampledOut:
		return def{"sampled_out", "{record}", "Events not sent because of the sample rate."}
	case Requests:
		return def{"requests", "{request}", "Requests sent to the backend."}
	case WireBytes:
		return def{"wire", "By", "Request body bytes as sent (after compression)."}
	}
	return def{}
}

func (g Gauge) def() def {
	switch g {
	case InFlight:
		return def{"in_flight", "{record}", "Records held in memory: queued, being sent or waiting for a retry."}
	case InSpool:
		return def{"in_spool", "{record}", "Records waiting in the spool for replay."}
	case QueueBytes:
		return def{"queue.size", "By", "Memory held by records not yet delivered."}
	case SpoolBytes:
		return def{"spool.size", "By", "Size of the spool files."}
	}
	return def{}
}

// Name returns the instrument name of c: glassbox.exporter.<name>.
func (c Counter) Name() string { return prefix + c.def().name }

// Name returns the instrument name of g.
func (g Gauge) Name() string { return prefix + g.def().name }

// DroppedName is the instrument of dropped records, by AttrReason.
const DroppedName = prefix + "dropped"

const prefix = "glassbox.exporter."

// Recorder observes one exporter's figures during a collection.
type Recorder struct {
	o    metric.Observer
	inst *instruments
	attr metric.ObserveOption // glassbox.exporter
	name attribute.KeyValue
}

// Count observes counter c at n.
func (r *Recorder) Count(c Counter, n int64) { r.o.ObserveInt64(r.inst.counters[c], n, r.attr) }

// Set observes gauge g at n.
func (r *Recorder) Set(g Gauge, n int64) { r.o.ObserveInt64(r.inst.gauges[g], n, r.attr) }

// Dropped observes the records dropped for reason at n.
func (r *Recorder) Dropped(reason string, n int64) {
	r.o.ObserveInt64(r.inst.dropped, n, metric.WithAttributes(r.name, attribute.String(AttrReason, reason)))
}

type instruments struct {
	counters [numCounters]metric.Int64ObservableCounter
	gauges   [numGauges]metric.Int64ObservableUpDownCounter
	dropped  metric.Int64ObservableCounter
}

// Register publishes an exporter's figures on mp: read is called at each
// collection and observes them through the Recorder. The registration
// lasts as long as mp: after the exporter's Shutdown the instruments
// report its final figures, so a last collection sees what Shutdown
// dropped. A nil mp registers nothing.
func Register(mp metric.MeterProvider, exporter string, read func(*Recorder)) error {
	if mp == nil {
		return nil
	}
	m := mp.Meter(ScopeName)
	inst := &instruments{}
	all := make([]metric.Observable, 0, int(numCounters)+int(numGauges)+1)
	var err error
	for c := range numCounters {
		d := c.def()
		if inst.counters[c], err = m.Int64ObservableCounter(prefix+d.name, metric.WithUnit(d.unit), metric.WithDescription(d.desc)); err != nil {
			return fmt.Errorf("instrument %s: %w", prefix+d.name, err)
		}
		all = append(all, inst.counters[c])
	}
	for g := range numGauges {
		d := g.def()
		if inst.gauges[g], err = m.Int64ObservableUpDownCounter(prefix+d.name, metric.WithUnit(d.unit), metric.WithDescription(d.desc)); err != nil {
			return fmt.Errorf("instrument %s: %w", prefix+d.name, err)
		}
		all = append(all, inst.gauges[g])
	}
	if inst.dropped, err = m.Int64ObservableCounter(DroppedName, metric.WithUnit("{record}"),
		metric.WithDescription("Records given up, by reason.")); err != nil {
		return fmt.Errorf("instrument %s: %w", DroppedName, err)
	}
	all = append(all, inst.dropped)
	name := attribute.String(AttrExporter, exporter)
	attr := metric.WithAttributeSet(attribute.NewSet(name))
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		read(&Recorder{o: o, inst: inst, attr: attr, name: name})
		return nil
	}, all...)
	return err
}
