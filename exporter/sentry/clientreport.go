package sentry

import (
	"encoding/json"

	"github.com/getsentry/sentry-go/report"
)

// Client reports (https://develop.sentry.dev/sdk/telemetry/client-reports/)
// tell Sentry how many events the Reporter discarded and why. Every
// discard is recorded in a sentry-go report.Aggregator as it is counted
// in Stats (counters.count); the worker attaches the pending report to
// the next envelope it sends and Shutdown sends what is still pending.
// A report whose envelope Sentry did not accept is recorded again, so
// the quantities Sentry receives add up to Stats.

// outcome is what became of an event that was not sent: one Stats
// counter each.
type outcome uint8

const (
	outcomeAggregated  outcome = iota // Stats.Aggregated
	outcomeSampledOut                 // Stats.SampledOut
	outcomeQueueFull                  // Stats.DroppedQueueFull
	outcomeBackoff                    // Stats.DroppedBackoff
	outcomeRateLimited                // Stats.DroppedRateLimited
	outcomeNetwork                    // Stats.DroppedNetwork
	outcomeRejected                   // Stats.DroppedRejected
	outcomeInternal                   // Stats.DroppedInternal
	outcomeShutdown                   // Stats.DroppedShutdown
	numOutcomes
)

// categoryError is the data category of every event the Reporter sends
// (an event with an exception).
const categoryError = "error"

// discardReason is the client report reason of an outcome; ok is false
// for the outcomes Sentry must not hear of from the Reporter:
//   - aggregated events are not discarded: the window's summary event
//     reaches Sentry with their count (tag "aggregated"), and the spec's
//     reasons all mean "lost"; reporting them would tell Sentry's Stats
//     page that errors were lost when none was;
//   - events Sentry answered 429 are recorded by Sentry itself; the spec
//     forbids recording them again;
//   - shutdown drops happen once the transport has stopped: no request is
//     left to carry them.
func (o outcome) discardReason() (reason report.DiscardReason, ok bool) {
	switch o {
	case outcomeSampledOut:
		return report.ReasonSampleRate, true
	case outcomeQueueFull:
		return report.ReasonQueueOverflow, true
	case outcomeBackoff:
		return report.ReasonRateLimitBackoff, true
	case outcomeNetwork:
		return report.ReasonNetworkError, true
	case outcomeRejected:
		return report.ReasonSendError, true
	case outcomeInternal:
		return report.ReasonInternalError, true
	}
	return "", false
}

// takeReport returns the envelope item of the pending client report and
// the report itself (to record again if its envelope is not accepted), or
// nil, nil when nothing is pending or reports are off.
func takeReport(a *report.Aggregator) ([]byte, *report.ClientReport) {
	rep := a.TakeReport() // nil-safe
	if rep == nil {
		return nil, nil
	}
	payload, err := json.Marshal(rep) // strings, integers and a time: cannot fail
	if err != nil {
		restoreReport(a, rep)
		return nil, nil
	}
	head, _ := json.Marshal(itemHeader{Type: "client_report", Length: len(payload), ContentType: "application/json"})
	item := make([]byte, 0, len(head)+len(payload)+2)
	item = append(append(item, head...), '\n')
	item = append(append(item, payload...), '\n')
	return item, rep
}

// restoreReport records the outcomes of rep again: its envelope did not
// reach Sentry, the next one carries them.
func restoreReport(a *report.Aggregator, rep *report.ClientReport) {
	if rep == nil {
		return
	}
	for _, d := range rep.DiscardedEvents {
		a.Record(d.Reason, d.Category, d.Quantity)
	}
}
