package sentry

import (
	"encoding/json"
	"strconv"
)

// maxEventBytes is the largest event payload sent: Sentry rejects events
// above 1 MiB. glassbox's caps keep events far smaller; one that is not
// is dropped and counted as rejected rather than refused by the server.
const maxEventBytes = 1 << 20

// envelopeHeader is the first line of an envelope.
type envelopeHeader struct {
	EventID string       `json:"event_id,omitempty"`
	DSN     string       `json:"dsn"`
	SDK     sdkInfo      `json:"sdk"`
	Trace   *traceHeader `json:"trace,omitempty"`
}

// traceHeader is the envelope's dynamic sampling context: the trace the
// event belongs to.
type traceHeader struct {
	TraceID   string `json:"trace_id"`
	PublicKey string `json:"public_key"`
	Release   string `json:"release,omitempty"`
	Env       string `json:"environment,omitempty"`
}

type itemHeader struct {
	Type        string `json:"type"`
	Length      int    `json:"length"`
	ContentType string `json:"content_type"`
}

// encodeEnvelope returns the envelope of ev: a header line, the event
// item's header line and the event itself
// (https://develop.sentry.dev/sdk/data-model/envelopes/).
func encodeEnvelope(d *DSN, ev *event) ([]byte, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if len(payload) > maxEventBytes {
		return nil, &tooLargeError{size: len(payload)}
	}
	h := envelopeHeader{EventID: ev.EventID, DSN: d.raw, SDK: ev.SDK}
	if tc := ev.Contexts["trace"]; tc != nil {
		if id, _ := tc["trace_id"].(string); id != "" {
			h.Trace = &traceHeader{TraceID: id, PublicKey: d.publicKey, Release: ev.Release, Env: ev.Environment}
		}
	}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	item, err := json.Marshal(itemHeader{Type: "event", Length: len(payload), ContentType: "application/json"})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+len(item)+len(payload)+3)
	b = append(append(b, head...), '\n')
	b = append(append(b, item...), '\n')
	b = append(append(b, payload...), '\n')
	return b, nil
}

// encodeReportEnvelope returns an envelope holding only the client report
// item (see takeReport): its header names no event.
func encodeReportEnvelope(d *DSN, item []byte) []byte {
	head, _ := json.Marshal(envelopeHeader{DSN: d.raw, SDK: sdkInfo{Name: sdkName, Version: sdkVersion()}})
	b := make([]byte, 0, len(head)+1+len(item))
	b = append(append(b, head...), '\n')
	return append(b, item...)
}

type tooLargeError struct{ size int }

func (e *tooLargeError) Error() string {
	return "glassbox/sentry: event of " + strconv.Itoa(e.size) + " bytes exceeds Sentry's 1 MiB limit"
}
