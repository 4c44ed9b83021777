package ecs

// Version is the ECS version the documents follow.
const Version = "8.11.0"

// Names of the fields glassbox writes. Log and span documents carry the
// common ones; see LogFields and SpanFields for which document has which.
const (
	Timestamp           = "@timestamp"
	ECSVersion          = "ecs.version"
	ServiceName         = "service.name"
	ServiceVersion      = "service.version"
	ServiceEnvironment  = "service.environment"
	HostName            = "host.name"
	EventDataset        = "event.dataset"
	DataStreamType      = "data_stream.type"
	DataStreamDataset   = "data_stream.dataset"
	DataStreamNamespace = "data_stream.namespace"
	CorrelationID       = "correlation.id"
	TraceID             = "trace.id"
	SpanID              = "span.id"
	LogLevel            = "log.level"
	Message             = "message"
	LogLogger           = "log.logger"
	LogOriginFileName   = "log.origin.file.name"
	LogOriginFileLine   = "log.origin.file.line"
	LogOriginFunction   = "log.origin.function"
	ErrorMessage        = "error.message"
	ErrorType           = "error.type"
	ErrorStackTrace     = "error.stack_trace"
	ErrorID             = "error.id"
	ParentID            = "parent.id"
	SpanName            = "span.name"
	SpanKind            = "span.kind"
	SpanStatusCode      = "span.status.code"
	SpanEvents          = "span.events"
	SpanEventsTime      = "span.events.time"
	SpanLinks           = "span.links"
	EventKind           = "event.kind"
	EventDuration       = "event.duration"
	EventOutcome        = "event.outcome"
	ProcessorEvent      = "processor.event"
	OTelScopeName       = "otel.scope.name"
	OTelScopeVersion    = "otel.scope.version"
	TransactionID       = "transaction.id"
	HTTPRequestMethod   = "http.request.method"
	HTTPRoute           = "http.route"
	HTTPStatusCode      = "http.response.status_code"
	HTTPRequestBytes    = "http.request.body.bytes"
	HTTPResponseBytes   = "http.response.body.bytes"
	URLPath             = "url.path"
	URLFull             = "url.full"
	URLQuery            = "url.query"
	ClientIP            = "client.ip"
	ClientAddress       = "client.address"
	UserAgentOriginal   = "user_agent.original"
	RPCSystem           = "rpc.system"
	RPCService          = "rpc.service"
	RPCMethod           = "rpc.method"
	RPCGRPCStatusCode   = "rpc.grpc.status_code"
	RPCGRPCMethodType   = "rpc.grpc.method_type"
	// EventStart holds a record's or span's own time when @timestamp
	// cannot: when it lies outside the date_nanos range (see
	// InTimestampRange). It is written only then, and @timestamp is the
	// time glassbox encoded the document.
	EventStart = "event.start"

	// Break-glass debugging and the flight recorder (see package
	// middleware and log.FlightRecorder). ECS has no fields for these;
	// glassbox's own live under glassbox.*.
	EventCategory = "event.category"
	EventAction   = "event.action"
	EventType     = "event.type"
	// GlassboxReplayed is true on a record the flight recorder kept below
	// the level and wrote because its request failed.
	GlassboxReplayed = "glassbox.replayed"
	// GlassboxSampleRate is the fraction of their kind that access records
	// kept by outcome-aware sampling stand for (1 when all are kept).
	GlassboxSampleRate   = "glassbox.sample_rate"
	GlassboxDebugKeyID   = "glassbox.debug.key_id"
	GlassboxDebugExpires = "glassbox.debug.expires"
	GlassboxDebugRoute   = "glassbox.debug.route"
	GlassboxDebugService = "glassbox.debug.service"
	GlassboxDebugOrigin  = "glassbox.debug.origin"
)

// Field is a field of the shipped index templates and its Elasticsearch
// type.
type Field struct {
	Name string
	Type string // keyword, long, double, boolean, ip, date, date_nanos, match_only_text
}

// Fields are the fields the shipped index templates map, with their types.
// Every other field is mapped as keyword, whatever its JSON type.
func Fields() []Field {
	return []Field{
		{Timestamp, "date_nanos"}, {SpanEventsTime, "date_nanos"}, {EventStart, "date"},
		{Message, "match_only_text"}, {ErrorMessage, "match_only_text"}, {ErrorStackTrace, "match_only_text"},
		{EventDuration, "long"}, {HTTPStatusCode, "long"}, {HTTPRequestBytes, "long"},
		{HTTPResponseBytes, "long"}, {LogOriginFileLine, "long"},
		{ClientIP, "ip"},
		{ECSVersion, "keyword"}, {ServiceName, "keyword"}, {ServiceVersion, "keyword"},
		{ServiceEnvironment, "keyword"}, {HostName, "keyword"}, {EventDataset, "keyword"},
		{EventOutcome, "keyword"}, {EventKind, "keyword"}, {DataStreamType, "keyword"},
		{DataStreamDataset, "keyword"}, {DataStreamNamespace, "keyword"}, {CorrelationID, "keyword"},
		{TraceID, "keyword"}, {SpanID, "keyword"}, {ParentID, "keyword"}, {TransactionID, "keyword"},
		{LogLevel, "keyword"}, {LogLogger, "keyword"}, {LogOriginFileName, "keyword"},
		{LogOriginFunction, "keyword"}, {ErrorType, "keyword"}, {ErrorID, "keyword"},
		{HTTPRequestMethod, "keyword"}, {HTTPRoute, "keyword"}, {URLPath, "keyword"}, {URLFull, "keyword"}, {URLQuery, "keyword"},
		{UserAgentOriginal, "keyword"}, {RPCSystem, "keyword"}, {RPCService, "keyword"},
		{RPCMethod, "keyword"}, {RPCGRPCStatusCode, "keyword"}, {RPCGRPCMethodType, "keyword"},
		{ClientAddress, "keyword"}, {SpanName, "keyword"},
		{SpanKind, "keyword"}, {SpanStatusCode, "keyword"}, {ProcessorEvent, "keyword"},
		{OTelScopeName, "keyword"}, {OTelScopeVersion, "keyword"},
		{EventCategory, "keyword"}, {EventAction, "keyword"}, {EventType, "keyword"},
		{GlassboxReplayed, "boolean"}, {GlassboxSampleRate, "double"},
		{GlassboxDebugKeyID, "keyword"}, {GlassboxDebugExpires, "date"}, {GlassboxDebugRoute, "keyword"},
		{GlassboxDebugService, "keyword"}, {GlassboxDebugOrigin, "keyword"},
	}
}

// MetadataFields are the names Elasticsearch reserves for metadata: a
// document with one of them as a top-level key is rejected ("Field [_id]
// is a metadata field and cannot be added inside a document"), whatever
// the mapping. The built-in ones, those of the default distribution's
// plugins, and names earlier versions reserved.
var metadataFields = []string{
	"_id", "_index", "_index_mode", "_source", "_routing", "_version", "_seq_no", "_primary_term",
	"_ignored", "_ignored_source", "_field_names", "_tier", "_doc_count", "_nested_path",
	"_data_stream_timestamp", "_feature", "_tsid", "_ts_routing_hash", "_size", "_inference_fields",
	"_meta", "_type", "_uid", "_parent",
}

// MetadataFields returns Elasticsearch's metadata field names.
func MetadataFields() []string { return append([]string(nil), metadataFields...) }

// IsMetadataField reports whether k is one of MetadataFields.
func IsMetadataField(k string) bool {
	if len(k) < 3 || k[0] != '_' {
		return false
	}
	switch k {
	case "_id", "_index", "_index_mode", "_source", "_routing", "_version", "_seq_no", "_primary_term",
		"_ignored", "_ignored_source", "_field_names", "_tier", "_doc_count", "_nested_path",
		"_data_stream_timestamp", "_feature", "_tsid", "_ts_routing_hash", "_size", "_inference_fields",
		"_meta", "_type", "_uid", "_parent":
		return true
	}
	return false
}

// logFields are the top-level fields the log handler writes itself
// (error.* aside: the handler writes them through Keys, which keeps them
// unique). A user attribute with one of these names at the top level is
// renamed.
var logFields = []string{
	Timestamp, LogLevel, Message, ECSVersion, LogLogger, ServiceName, ServiceVersion,
	ServiceEnvironment, HostName, EventDataset, DataStreamType, DataStreamDataset,
	DataStreamNamespace, CorrelationID, TraceID, SpanID, LogOriginFileName,
	LogOriginFileLine, LogOriginFunction, EventStart, GlassboxReplayed,
}

// spanFields are the top-level fields a span document has besides the
// span's attributes. An attribute with one of these names is renamed.
var spanFields = []string{
	Timestamp, ECSVersion, ServiceName, ServiceVersion, ServiceEnvironment, HostName,
	EventDataset, DataStreamType, DataStreamDataset, DataStreamNamespace, EventKind,
	ProcessorEvent, TraceID, SpanID, ParentID, SpanName, SpanKind, EventDuration,
	EventOutcome, SpanStatusCode, ErrorMessage, ErrorType, ErrorStackTrace, CorrelationID,
	OTelScopeName, OTelScopeVersion, SpanEvents, SpanLinks, EventStart,
}

// LogFields returns the top-level fields of log documents that user
// attributes may not take.
func LogFields() []string { return append([]string(nil), logFields...) }

// IsLogField reports whether k is one of LogFields: a top-level field the
// log handler writes on its own, which a user attribute cannot take. It
// is the rule the handler renames keys by, so a reader of log documents
// (log/logtest) tells the handler's fields from the user's with it.
func IsLogField(k string) bool { return reservedLog(k) && !IsMetadataField(k) }

// SpanFields returns the top-level fields of span documents that span
// attributes may not take.
func SpanFields() []string { return append([]string(nil), spanFields...) }

// firstBytes returns a table of the first bytes of the names in lists:
// most keys are rejected on it before the string switches.
func firstBytes(lists ...[]string) (t [256]bool) {
	for _, list := range lists {
		for _, k := range list {
			t[k[0]] = true
		}
	}
	return t
}

var (
	logFirst  = firstBytes(logFields, metadataFields)
	spanFirst = firstBytes(spanFields, metadataFields)
)

// reservedLog reports whether a top-level key of a log document must be
// renamed: one of LogFields or MetadataFields.
func reservedLog(k string) bool {
	if len(k) < 3 || len(k) > 22 || !logFirst[k[0]] {
		return false
	}
	switch k {
	case Timestamp, LogLevel, Message, ECSVersion, LogLogger, ServiceName, ServiceVersion,
		ServiceEnvironment, HostName, EventDataset, DataStreamType, DataStreamDataset,
		DataStreamNamespace, CorrelationID, TraceID, SpanID, LogOriginFileName,
		LogOriginFileLine, LogOriginFunction, EventStart, GlassboxReplayed:
		return true
	}
	return IsMetadataField(k)
}

// reservedSpan reports whether a top-level attribute of a span document
// must be renamed: one of SpanFields or MetadataFields.
func reservedSpan(k string) bool {
	if len(k) < 3 || len(k) > 22 || !spanFirst[k[0]] {
		return false
	}
	switch k {
	case Timestamp, ECSVersion, ServiceName, ServiceVersion, ServiceEnvironment, HostName,
		EventDataset, DataStreamType, DataStreamDataset, DataStreamNamespace, EventKind,
		ProcessorEvent, TraceID, SpanID, ParentID, SpanName, SpanKind, EventDuration,
		EventOutcome, SpanStatusCode, ErrorMessage, ErrorType, ErrorStackTrace, CorrelationID,
		OTelScopeName, OTelScopeVersion, SpanEvents, SpanLinks, EventStart:
		return true
	}
	return IsMetadataField(k)
}
