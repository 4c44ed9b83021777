package sentry

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"time"

	gberrors "github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/trace"
)

// newEvent starts the event of a failure: its identity, level, exception
// chain and fingerprint, and what every event of the Reporter carries.
func (r *Reporter) newEvent(id string, exc []exception, fp []string, f *failure) *event {
	ev := &event{
		EventID:     id,
		Timestamp:   time.Now().UTC(),
		Platform:    platform,
		Level:       levelError,
		ServerName:  r.cfg.serverName,
		Release:     r.cfg.release.val,
		Environment: r.cfg.environment.val,
		SDK:         sdkInfo{Name: sdkName, Version: sdkVersion()},
		Tags:        map[string]string{},
		Contexts: map[string]map[string]any{
			"runtime": {"name": "go", "version": runtime.Version()},
			"os":      {"name": runtime.GOOS},
		},
		Fingerprint: fp,
	}
	if f.panic {
		ev.Level = levelFatal
	}
	if len(exc) > 0 {
		ev.Exception = &exceptionList{Values: exc}
	}
	return ev
}

// enrich adds what glassbox knows of the failure: IDs as tags and trace
// context, the request, the route and transaction, statuses, error.type,
// the error's attributes, the Kibana link and the request's breadcrumbs.
func (r *Reporter) enrich(ctx context.Context, st *reqState, ev *event, f *failure) {
	ids := eventIDs(ctx, st, f)
	if !trace.ValidCorrelationID(ids.CorrelationID) {
		ids.CorrelationID = "" // never stored or sent
	}
	if ids.CorrelationID != "" {
		r.setTag(ev, "correlation_id", ids.CorrelationID)
	}
	if ids.HasTrace() {
		r.setTag(ev, "trace_id", ids.TraceID.String())
		tc := map[string]any{"trace_id": ids.TraceID.String()}
		if ids.HasSpan() {
			tc["span_id"] = ids.SpanID.String()
		}
		ev.Contexts["trace"] = tc
	}
	if r.cfg.service.Name != "" {
		r.setTag(ev, "service", r.cfg.service.Name)
	}
	if req := f.req; req != nil {
		if req.Protocol != "" {
			r.setTag(ev, "protocol", req.Protocol)
		}
		if req.Route != "" {
			r.setTag(ev, "route", req.Route)
			if req.Protocol == "grpc" || req.Method == "" {
				ev.Transaction = sanitize(req.Route, maxTagLen)
			} else {
				ev.Transaction = sanitize(req.Method+" "+req.Route, maxTagLen)
			}
		}
		if req.HTTP != nil {
			ev.Request = r.requestData(req.HTTP, ids.CorrelationID)
			if r.cfg.sendUserIP {
				if ip := remoteIP(req.HTTP); ip != "" {
					ev.User = &user{IPAddress: ip}
				}
			}
		}
	}
	r.statusTags(ev, f)
	if t := errorType(f); t != "" {
		r.setTag(ev, "error.type", t)
	}
	if attrs := gberrors.Attrs(f.err); len(attrs) > 0 {
		m := map[string]any{}
		for _, a := range attrs {
			m[a.Key] = attrJSON(a.Value)
		}
		ev.Contexts["error"], _ = r.scrubData(m, 0).(map[string]any)
	}
	if ids.CorrelationID != "" {
		logs := map[string]any{"correlation_id": ids.CorrelationID}
		if link := discoverLink(r.cfg.kibanaURL.val, ids.CorrelationID, ev.Timestamp); link != "" {
			logs["kibana_discover"] = link
		}
		ev.Contexts["logs"] = logs
	}
	if st != nil {
		if crumbs := r.breadcrumbs(st.snapshot()); len(crumbs) > 0 {
			ev.Breadcrumbs = &breadcrumbList{Values: crumbs}
		}
	}
}

func (r *Reporter) statusTags(ev *event, f *failure) {
	if f.status != 0 {
		r.setTag(ev, "http.status_code", strconv.Itoa(f.status))
	} else if f.out != nil && f.out.Status != 0 {
		r.setTag(ev, "http.status_code", strconv.Itoa(f.out.Status))
	}
	if f.grpcCode != 0 {
		r.setTag(ev, "rpc.grpc.status_code", grpcCodeName(f.grpcCode))
	} else if f.out != nil && f.req != nil && f.req.Protocol == "grpc" {
		r.setTag(ev, "rpc.grpc.status_code", grpcCodeName(f.out.GRPCCode))
	}
	if f.panic {
		r.setTag(ev, "panic", "true")
	}
}

// eventIDs returns the correlation and trace IDs of the event: the
// context's, else the record's (for a record logged outside a request),
// completed by the request's.
func eventIDs(ctx context.Context, st *reqState, f *failure) trace.IDs {
	ids := trace.FromContext(ctx)
	if f.ids != nil && ids.CorrelationID == "" && !ids.HasTrace() {
		ids = *f.ids
	}
	if st != nil {
		if ids.CorrelationID == "" {
			ids.CorrelationID = st.ids.CorrelationID
		}
		if !ids.HasTrace() {
			ids.TraceID, ids.SpanID = st.ids.TraceID, st.ids.SpanID
		}
	}
	return ids
}

func attrJSON(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		if f := v.Float64(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		// JSON has no NaN or ±Inf: "NaN", "+Inf", "-Inf", as the logs
		// write them, rather than an event that cannot be encoded.
		return strconv.FormatFloat(v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return v.Bool()
	case slog.KindGroup:
		m := map[string]any{}
		for _, a := range v.Group() {
			m[a.Key] = attrJSON(a.Value)
		}
		return m
	}
	return v.String()
}
