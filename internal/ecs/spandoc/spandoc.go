package spandoc

import (
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/ecs"
	"github.com/glassbox-obs/glassbox/internal/jsonenc"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// CorrelationKey is the span attribute holding the correlation ID; it is
// written as the ECS keyword field correlation.id.
const CorrelationKey = ecs.CorrelationID

var keysPool = sync.Pool{New: func() any { return &ecs.Keys{Doc: ecs.SpanDoc} }}

// Append appends s as one ECS JSON document (no trailing newline). svc
// supplies service.*, host.name and the data stream names; its empty
// fields are taken from the span's resource (service.name, service.version,
// deployment.environment.name, host.name).
//
// Fields: @timestamp (start, nanoseconds), ecs.version, service.*, host.name,
// event.dataset, data_stream.*, trace.id, span.id, parent.id, span.name,
// span.kind, event.duration (ns), event.outcome, span.status.code,
// error.* (from the status and the first "exception" event),
// correlation.id, otel.scope.*, span.events, span.links, then every span
// attribute at the top level under its own dotted name, made safe and
// unique by ecs.Keys (an attribute named like a field above, or like an
// Elasticsearch metadata field, gets a numeric suffix: "span.name_2").
// A start time @timestamp cannot hold (ecs.InTimestampRange) is written
// as event.start, and @timestamp is then the time of encoding.
//
// The value of a span or event attribute whose key r matches is written as
// log.Redacted (a nil r redacts nothing). The correlation.id attribute is
// written only when trace.ValidCorrelationID accepts it; an invalid one is
// left out.
func Append(b []byte, s sdktrace.ReadOnlySpan, svc *log.Service, r *log.Redactor) []byte {
	keys := keysPool.Get().(*ecs.Keys)
	keys.Reset()
	b = appendSpan(b, s, svc, r, keys)
	keysPool.Put(keys)
	return b
}

func appendSpan(b []byte, s sdktrace.ReadOnlySpan, svc *log.Service, r *log.Redactor, keys *ecs.Keys) []byte {
	start := s.StartTime()
	ts := start
	if !ecs.InTimestampRange(ts) {
		ts = ecs.ClampTimestamp(time.Now())
	}
	b = append(b, `{"`+ecs.Timestamp+`":`...)
	b = jsonenc.AppendTime(b, ts)
	b = append(b, `,"`+ecs.ECSVersion+`":"`+ecs.Version+`"`...)
	b = appendService(b, s, svc)
	b = append(b, `,"`+ecs.EventKind+`":"event","`+ecs.ProcessorEvent+`":"span","`+ecs.TraceID+`":`...)
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	b = jsonenc.AppendHex(b, tid[:])
	b = append(b, `,"`+ecs.SpanID+`":`...)
	b = jsonenc.AppendHex(b, sid[:])
	if p := s.Parent(); p.SpanID().IsValid() {
		pid := p.SpanID()
		b = append(b, `,"`+ecs.ParentID+`":`...)
		b = jsonenc.AppendHex(b, pid[:])
	}
	b = field(b, ecs.SpanName, s.Name())
	b = field(b, ecs.SpanKind, kindName(s.SpanKind()))
	b = append(b, `,"`+ecs.EventDuration+`":`...)
	d := s.EndTime().Sub(start)
	if d < 0 {
		d = 0
	}
	b = jsonenc.AppendInt(b, int64(d))
	if !ts.Equal(start) {
		b = append(b, `,"`+ecs.EventStart+`":`...)
		b = jsonenc.AppendTime(b, start)
	}
	b = appendStatus(b, s)
	attrs := s.Attributes()
	for _, kv := range attrs {
		if kv.Key == CorrelationKey && kv.Value.Type() == attribute.STRING {
			if id := kv.Value.AsString(); trace.ValidCorrelationID(id) {
				b = field(b, ecs.CorrelationID, id)
			}
			break
		}
	}
	scope := s.InstrumentationScope()
	b = field(b, ecs.OTelScopeName, scope.Name)
	b = field(b, ecs.OTelScopeVersion, scope.Version)
	b = appendEvents(b, s.Events(), r, keys)
	b = appendLinks(b, s.Links())
	b = appendAttrs(b, attrs, true, r, keys)
	return append(b, '}')
}

// appendService writes service.*, host.name and the data stream fields.
func appendService(b []byte, s sdktrace.ReadOnlySpan, svc *log.Service) []byte {
	name, version, env, host := svc.Name, svc.Version, svc.Environment, svc.HostName
	if res := s.Resource(); res != nil {
		for _, kv := range res.Attributes() {
			switch kv.Key {
			case "service.name":
				if name == "" {
					name = kv.Value.Emit()
				}
			case "service.version":
				if version == "" {
					version = kv.Value.Emit()
				}
			case "deployment.environment.name", "deployment.environment":
				if env == "" {
					env = kv.Value.Emit()
				}
			case "host.name":
				if host == "" {
					host = kv.Value.Emit()
				}
			}
		}
	}
	b = field(b, ecs.ServiceName, name)
	b = field(b, ecs.ServiceVersion, version)
	b = field(b, ecs.ServiceEnvironment, env)
	b = field(b, ecs.HostName, host)
	b = field(b, ecs.EventDataset, svc.Dataset)
	if svc.Dataset != "" {
		b = field(b, ecs.DataStreamType, "traces")
		b = field(b, ecs.DataStreamDataset, svc.Dataset)
		b = field(b, ecs.DataStreamNamespace, svc.Namespace)
	}
	return b
}

// appendStatus writes event.outcome, span.status.code and error.*.
func appendStatus(b []byte, s sdktrace.ReadOnlySpan) []byte {
	st := s.Status()
	switch st.Code {
	case codes.Error:
		b = append(b, `,"`+ecs.EventOutcome+`":"failure","`+ecs.SpanStatusCode+`":"error"`...)
	case codes.Ok:
		b = append(b, `,"`+ecs.EventOutcome+`":"success","`+ecs.SpanStatusCode+`":"ok"`...)
	default:
		b = append(b, `,"`+ecs.EventOutcome+`":"unknown","`+ecs.SpanStatusCode+`":"unset"`...)
	}
	errMsg, errType, errStack := "", "", ""
	if st.Code == codes.Error {
		errMsg = st.Description
	}
	for _, ev := range s.Events() {
		if ev.Name != "exception" {
			continue
		}
		for _, kv := range ev.Attributes {
			switch kv.Key {
			case "exception.message":
				errMsg = kv.Value.Emit()
			case "exception.type":
				errType = kv.Value.Emit()
			case "exception.stacktrace":
				errStack = kv.Value.Emit()
			}
		}
		break
	}
	b = field(b, ecs.ErrorMessage, errMsg)
	b = field(b, ecs.ErrorType, errType)
	return field(b, ecs.ErrorStackTrace, errStack)
}

// appendEvents writes span.events: name, time and attributes of each.
// An event time date_nanos cannot hold stays as it is: span.events.time
// is not the data stream's timestamp, so the templates' ignore_malformed
// leaves it unindexed instead of rejecting the document.
func appendEvents(b []byte, evs []sdktrace.Event, r *log.Redactor, keys *ecs.Keys) []byte {
	if len(evs) == 0 {
		return b
	}
	b = append(b, `,"`+ecs.SpanEvents+`":[`...)
	for i, ev := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = jsonenc.AppendString(b, ev.Name)
		b = append(b, `,"time":`...)
		b = jsonenc.AppendTime(b, ev.Time)
		if len(ev.Attributes) > 0 {
			b = append(b, `,"attributes":{`...)
			saved := keys.Open()
			b = appendAttrs(b, ev.Attributes, false, r, keys)
			keys.Close(saved)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendLinks writes span.links: the trace and span ID of each.
func appendLinks(b []byte, links []sdktrace.Link) []byte {
	if len(links) == 0 {
		return b
	}
	b = append(b, `,"`+ecs.SpanLinks+`":[`...)
	for i, l := range links {
		if i > 0 {
			b = append(b, ',')
		}
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		b = append(b, `{"`+ecs.TraceID+`":`...)
		b = jsonenc.AppendHex(b, ltid[:])
		b = append(b, `,"`+ecs.SpanID+`":`...)
		b = jsonenc.AppendHex(b, lsid[:])
		b = append(b, '}')
	}
	return append(b, ']')
}

func field(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return jsonenc.AppendString(b, v)
}

func kindName(k oteltrace.SpanKind) string {
	switch k {
	case oteltrace.SpanKindServer:
		return "server"
	case oteltrace.SpanKindClient:
		return "client"
	case oteltrace.SpanKindProducer:
		return "producer"
	case oteltrace.SpanKindConsumer:
		return "consumer"
	}
	return "internal"
}

// appendAttrs writes `,"k":v` for each attribute (no comma after '{'),
// keys through keys (top: the document's own level, where the fields
// above are reserved). Values under a key r matches are written as
// log.Redacted.
func appendAttrs(b []byte, attrs []attribute.KeyValue, top bool, r *log.Redactor, keys *ecs.Keys) []byte {
	for _, kv := range attrs {
		k := string(kv.Key)
		if top && k == CorrelationKey && kv.Value.Type() == attribute.STRING {
			continue // written as correlation.id already, or invalid and left out
		}
		b = keys.AppendKey(b, k, top)
		if r.Match(k) {
			b = jsonenc.AppendString(b, log.Redacted)
			continue
		}
		b = appendValue(b, kv.Value)
	}
	return b
}

func appendValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return jsonenc.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return jsonenc.AppendInt(b, v.AsInt64())
	case attribute.FLOAT64:
		return jsonenc.AppendFloat(b, v.AsFloat64())
	case attribute.STRING:
		return jsonenc.AppendString(b, v.AsString())
	case attribute.BOOLSLICE:
		return appendArray(b, v.AsBoolSlice(), jsonenc.AppendBool)
	case attribute.INT64SLICE:
		return appendArray(b, v.AsInt64Slice(), jsonenc.AppendInt)
	case attribute.FLOAT64SLICE:
		return appendArray(b, v.AsFloat64Slice(), jsonenc.AppendFloat)
	case attribute.STRINGSLICE:
		return appendArray(b, v.AsStringSlice(), jsonenc.AppendString)
	}
	return jsonenc.AppendString(b, v.Emit())
}

// appendArray writes xs as a JSON array, each element with appendOne.
func appendArray[T any](b []byte, xs []T, appendOne func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, x)
	}
	return append(b, ']')
}
