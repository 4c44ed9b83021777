package sentrytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// ClientReport is the payload of a client_report item
// (https://develop.sentry.dev/sdk/telemetry/client-reports/): what an SDK
// discarded, and why.
type ClientReport struct {
	// Timestamp is when the SDK made the report; zero when it sent none.
	Timestamp time.Time
	// Discarded are the entries of discarded_events, in order.
	Discarded []Discarded
}

// Discarded is one entry of a client report's discarded_events.
type Discarded struct {
	Reason   string
	Category string
	Quantity int64
}

// maxClientReport is the size limit of a client_report item.
const maxClientReport = 4 << 10

// discardReasons are the reasons the spec defines (and Sentry's outcome
// consumer accepts); any other is refused.
var discardReasons = map[string]bool{
	"queue_overflow": true, "cache_overflow": true, "ratelimit_backoff": true,
	"network_error": true, "sample_rate": true, "before_send": true,
	"event_processor": true, "send_error": true, "internal_sdk_error": true,
	"insufficient_data": true, "backpressure": true, "buffer_overflow": true,
	"ignored": true, "invalid": true,
}

// dataCategories are the data categories an SDK may report discards of
// (Sentry's rate-limiting definitions). "internal", the category of
// client reports themselves, is not one: a report never counts reports.
var dataCategories = map[string]bool{
	"default": true, "error": true, "transaction": true, "security": true,
	"attachment": true, "session": true, "profile": true, "profile_chunk": true,
	"replay": true, "feedback": true, "monitor": true, "span": true,
	"log_item": true, "log_byte": true, "trace_metric": true,
}

// parseClientReport parses a client_report payload strictly: a JSON
// object of at most 4 KiB with an optional timestamp (RFC 3339 string or
// UNIX seconds) and a list discarded_events of {reason, category,
// quantity} with a known reason, a known data category and a positive
// integer quantity that fits Relay's u32. Any other field is refused,
// including the outcome lists reserved for Relay (rate_limited_events,
// filtered_events, filtered_sampling_events), which SDKs must not send.
func parseClientReport(b []byte) (*ClientReport, error) {
	if len(b) > maxClientReport {
		return nil, fmt.Errorf("client report of %d bytes exceeds %d", len(b), maxClientReport)
	}
	var raw map[string]json.RawMessage
	if err := strictDecode(b, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("client report is not a JSON object: %v", err)
	}
	rep := &ClientReport{}
	for k, v := range raw {
		switch k {
		case "timestamp":
			ts, err := reportTime(v)
			if err != nil {
				return nil, err
			}
			rep.Timestamp = ts
		case "discarded_events":
		case "rate_limited_events", "filtered_events", "filtered_sampling_events":
			return nil, fmt.Errorf("client report: %s is reserved for Relay", k)
		default:
			return nil, fmt.Errorf("client report: unknown field %q", k)
		}
	}
	events, ok := raw["discarded_events"]
	if !ok {
		return nil, errors.New("client report without discarded_events")
	}
	var list []json.RawMessage
	if err := strictDecode(events, &list); err != nil || list == nil {
		return nil, errors.New("client report: discarded_events is not a list")
	}
	for i, e := range list {
		d, err := parseDiscarded(e)
		if err != nil {
			return nil, fmt.Errorf("client report: discarded_events[%d]: %w", i, err)
		}
		rep.Discarded = append(rep.Discarded, d)
	}
	return rep, nil
}

func parseDiscarded(b []byte) (Discarded, error) {
	var m map[string]any
	if err := strictDecode(b, &m); err != nil || m == nil {
		return Discarded{}, errors.New("not an object")
	}
	var d Discarded
	for k, v := range m {
		switch k {
		case "reason":
			d.Reason, _ = v.(string)
		case "category":
			d.Category, _ = v.(string)
		case "quantity":
			n, ok := v.(json.Number)
			q, err := n.Int64()
			if !ok || err != nil || q < 1 || q > math.MaxUint32 {
				return Discarded{}, fmt.Errorf("quantity %v is not a positive 32-bit integer", v)
			}
			d.Quantity = q
		default:
			return Discarded{}, fmt.Errorf("unknown field %q", k)
		}
	}
	if !discardReasons[d.Reason] {
		return Discarded{}, fmt.Errorf("unknown discard reason %v", m["reason"])
	}
	if !dataCategories[d.Category] {
		return Discarded{}, fmt.Errorf("unknown data category %v", m["category"])
	}
	if d.Quantity == 0 {
		return Discarded{}, errors.New("no quantity")
	}
	return d, nil
}

// reportTime reads a client report's timestamp.
func reportTime(v json.RawMessage) (time.Time, error) {
	var x any
	if err := strictDecode(v, &x); err != nil {
		return time.Time{}, err
	}
	switch t := x.(type) {
	case string:
		ts, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("client report: invalid timestamp %q", t)
		}
		return ts, nil
	case json.Number:
		f, err := t.Float64()
		if err != nil || f < 0 || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("client report: invalid timestamp %s", t)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("client report: timestamp %s is neither a string nor a number", v)
}

// strictDecode decodes exactly one JSON value, numbers as json.Number.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
