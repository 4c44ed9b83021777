package ecs

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/internal/jsonenc"
	"github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// reserved are the fields AppendSpan writes itself and Elasticsearch's
// metadata field names; a span attribute with one of these names is
// written under "attributes." instead, so that a document never repeats a
// key or uses a metadata name (Elasticsearch rejects both).
var reserved = map[string]bool{
	"@timestamp": true, "ecs.version": true, "service.name": true, "service.version": true,
	"service.environment": true, "host.name": true, "event.dataset": true,
	"data_stream.type": true, "data_stream.dataset": true, "data_stream.namespace": true,
	"trace.id": true, "span.id": true, "parent.id": true, "span.name": true, "span.kind": true,
	"event.duration": true, "event.outcome": true, "span.status.code": true,
	"error.message": true, "error.type": true, "error.stack_trace": true,
	"span.events": true, "span.links": true, "otel.scope.name": true, "otel.scope.version": true,
	"correlation.id": true, "event.kind": true, "processor.event": true,
	// Elasticsearch's metadata fields, which a document may not contain.
	"_id": true, "_index": true, "_source": true, "_routing": true, "_ignored": true,
	"_ignored_source": true, "_seq_no": true, "_primary_term": true, "_version": true,
	"_tier": true, "_field_names": true, "_doc_count": true, "_data_stream_timestamp": true,
	"_nested_path": true, "_feature": true, "_tsid": true, "_ts_routing_hash": true, "_size": true,
}

// CorrelationKey is the span attribute holding the correlation ID; it is
// written as the ECS keyword field correlation.id.
const CorrelationKey = "correlation.id"

// AppendSpan appends s as one ECS JSON document (no trailing newline).
// svc supplies service.*, host.name and the data stream names; its empty
// fields are taken from the span's resource (service.name, service.version,
// deployment.environment.name, host.name).
//
// Fields: @timestamp (start, nanoseconds), ecs.version, service.*, host.name,
// event.dataset, data_stream.*, trace.id, span.id, parent.id, span.name,
// span.kind, event.duration (ns), event.outcome, span.status.code,
// error.* (from the status and the first "exception" event),
// correlation.id, otel.scope.*, span.events, span.links, then every span
// attribute at the top level under its own dotted name.
//
// The value of a span or event attribute whose key r matches is written as
// log.Redacted (a nil r redacts nothing). The correlation.id attribute is
// written only when trace.ValidCorrelationID accepts it; an invalid one is
// left out.
func AppendSpan(b []byte, s sdktrace.ReadOnlySpan, svc *log.Service, r *log.Redactor) []byte {
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
	sc := s.SpanContext()
	b = append(b, `{"@timestamp":`...)
	b = jsonenc.AppendTime(b, s.StartTime())
	b = append(b, `,"ecs.version":`...)
	b = jsonenc.AppendString(b, log.ECSVersion)
	b = field(b, "service.name", name)
	b = field(b, "service.version", version)
	b = field(b, "service.environment", env)
	b = field(b, "host.name", host)
	b = field(b, "event.dataset", svc.Dataset)
	if svc.Dataset != "" {
		b = field(b, "data_stream.type", "traces")
		b = field(b, "data_stream.dataset", svc.Dataset)
		b = field(b, "data_stream.namespace", svc.Namespace)
	}
	b = append(b, `,"event.kind":"event","processor.event":"span","trace.id":`...)
	tid, sid := sc.TraceID(), sc.SpanID()
	b = jsonenc.AppendHex(b, tid[:])
	b = append(b, `,"span.id":`...)
	b = jsonenc.AppendHex(b, sid[:])
	if p := s.Parent(); p.SpanID().IsValid() {
		pid := p.SpanID()
		b = append(b, `,"parent.id":`...)
		b = jsonenc.AppendHex(b, pid[:])
	}
	b = field(b, "span.name", s.Name())
	b = field(b, "span.kind", kindName(s.SpanKind()))
	b = append(b, `,"event.duration":`...)
	d := s.EndTime().Sub(s.StartTime())
	if d < 0 {
		d = 0
	}
	b = jsonenc.AppendInt(b, int64(d))
	st := s.Status()
	switch st.Code {
	case codes.Error:
		b = append(b, `,"event.outcome":"failure","span.status.code":"error"`...)
	case codes.Ok:
		b = append(b, `,"event.outcome":"success","span.status.code":"ok"`...)
	default:
		b = append(b, `,"event.outcome":"unknown","span.status.code":"unset"`...)
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
	b = field(b, "error.message", errMsg)
	b = field(b, "error.type", errType)
	b = field(b, "error.stack_trace", errStack)
	attrs := s.Attributes()
	for _, kv := range attrs {
		if kv.Key == CorrelationKey && kv.Value.Type() == attribute.STRING {
			if id := kv.Value.AsString(); trace.ValidCorrelationID(id) {
				b = field(b, "correlation.id", id)
			}
			break
		}
	}
	scope := s.InstrumentationScope()
	b = field(b, "otel.scope.name", scope.Name)
	b = field(b, "otel.scope.version", scope.Version)
	if evs := s.Events(); len(evs) > 0 {
		b = append(b, `,"span.events":[`...)
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
				b = appendAttrs(b, ev.Attributes, false, r)
				b = append(b, '}')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if links := s.Links(); len(links) > 0 {
		b = append(b, `,"span.links":[`...)
		for i, l := range links {
			if i > 0 {
				b = append(b, ',')
			}
			ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
			b = append(b, `{"trace.id":`...)
			b = jsonenc.AppendHex(b, ltid[:])
			b = append(b, `,"span.id":`...)
			b = jsonenc.AppendHex(b, lsid[:])
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(attrs) > 0 {
		b = append(b, ',')
		b = appendAttrs(b, attrs, true, r)
		if b[len(b)-1] == ',' {
			b = b[:len(b)-1]
		}
	}
	return append(b, '}')
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

// appendAttrs writes `"k":v,...` (no surrounding braces, no trailing comma
// except when top is set and the last attribute was skipped). At the top
// level, reserved names move under "attributes.". Values under a key r
// matches are written as log.Redacted.
func appendAttrs(b []byte, attrs []attribute.KeyValue, top bool, r *log.Redactor) []byte {
	first := true
	for _, kv := range attrs {
		k := string(kv.Key)
		if top && k == CorrelationKey && kv.Value.Type() == attribute.STRING {
			continue // written as correlation.id already, or invalid and left out
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		if top && reserved[k] {
			b = append(b, "attributes."...)
		}
		b = appendKey(b, k)
		b = append(b, '"', ':')
		if r.Match(k) {
			b = jsonenc.AppendString(b, log.Redacted)
			continue
		}
		b = appendValue(b, kv.Value)
	}
	return b
}

// appendKey writes a field name that Elasticsearch accepts: no empty
// segment between dots, no leading or trailing dot (they become '_').
func appendKey(b []byte, k string) []byte {
	if k == "" {
		return append(b, '_')
	}
	if !strings.HasPrefix(k, ".") && !strings.HasSuffix(k, ".") && !strings.Contains(k, "..") && strings.TrimSpace(k) != "" {
		return jsonenc.AppendStringContent(b, k)
	}
	segs := strings.Split(k, ".")
	for i, s := range segs {
		if i > 0 {
			b = append(b, '.')
		}
		if strings.TrimSpace(s) == "" {
			s = "_"
		}
		b = jsonenc.AppendStringContent(b, s)
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
