package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// kind is one kind of request the traffic generator sends.
type kind struct {
	// name is how the summary calls it; seeded kinds are the failures
	// planted in the traffic.
	name   string
	seeded bool
	order  func(n int) order
}

// schedule returns the requests of one round of traffic, in order; the
// traffic repeats it. Normal orders vary with the request's number n;
// each seeded request fails in its own way. A round is 10 requests, the
// default --requests, so a default run sends every seeded failure once.
func schedule() []kind {
	customers := []string{"1042", "2077", "1999", "4711"}
	catalogue := []item{
		{SKU: "KB-42", Qty: 1, PriceCents: 4200},
		{SKU: "MOUSE-7", Qty: 2, PriceCents: 1900},
		{SKU: "CABLE-1", Qty: 1, PriceCents: 900},
		{SKU: "STAND-3", Qty: 1, PriceCents: 3500},
	}
	normal := kind{name: "order placed", order: func(n int) order {
		return order{Customer: customers[n%len(customers)], CardNumber: "4242424242424242",
			Items: []item{catalogue[n%len(catalogue)], catalogue[(n+3)%len(catalogue)]}}
	}}
	panics := kind{name: "payments panics: a card of an issuer it does not know", seeded: true, order: func(int) order {
		return order{Customer: "1042", Items: []item{catalogue[0]}, CardNumber: "6011000990139424"}
	}}
	ledgerFails := kind{name: "ledger refuses the entry: HTTP 500, then gRPC Internal", seeded: true, order: func(int) order {
		return order{Customer: "2077", Items: []item{catalogue[2]}, Coupon: "SPRING20", CardNumber: "5555555555554444"}
	}}
	timesOut := kind{name: "ledger too slow: the payment deadline passes", seeded: true, order: func(int) order {
		return order{Customer: "3150", Items: []item{catalogue[1]}, CardNumber: "4242424242424242"}
	}}
	badInput := kind{name: "bad input: an empty cart (a 4xx, not an error)", seeded: true, order: func(int) order {
		return order{Customer: "1042", CardNumber: "4242424242424242"}
	}}
	return []kind{normal, normal, panics, normal, ledgerFails, normal, badInput, normal, timesOut, normal}
}

// result is what one request of the traffic got.
type result struct {
	n             int
	kind          kind
	method, path  string
	status        int // 0 when the request got no answer
	err           error
	duration      time.Duration
	correlationID string // the X-Correlation-ID response header
}

// failed reports whether the request failed on the shop's side: a 5xx or
// no answer. A 4xx is the client's mistake, not a failure.
func (r result) failed() bool { return r.status == 0 || r.status >= 500 }

// traffic sends requests to the frontend like the shop's web client would.
type traffic struct {
	url      string
	client   *http.Client
	interval time.Duration
	kinds    []kind // schedule()
}

// run sends count requests (or, with a non-zero duration, as many as fit
// in it) and calls report after each. It stops early when ctx ends.
func (t *traffic) run(ctx context.Context, count int, duration time.Duration, report func(result)) {
	var deadline time.Time
	if duration > 0 {
		deadline = time.Now().Add(duration)
	}
	for n := 0; ctx.Err() == nil; n++ {
		if (duration > 0 && !time.Now().Before(deadline)) || (duration <= 0 && n >= count) {
			return
		}
		if n > 0 && t.interval > 0 && work(ctx, t.interval) != nil {
			return
		}
		report(t.send(ctx, n, t.kinds[n%len(t.kinds)]))
	}
}

// send posts one order to /checkout.
func (t *traffic) send(ctx context.Context, n int, k kind) result {
	r := result{n: n + 1, kind: k, method: "POST", path: "/checkout"}
	body, _ := json.Marshal(k.order(n))
	req, err := http.NewRequestWithContext(ctx, r.method, t.url+r.path, bytes.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		r.err, r.duration = err, time.Since(start)
		return r
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.duration = time.Since(start)
	r.status = resp.StatusCode
	r.correlationID = resp.Header.Get("X-Correlation-ID")
	return r
}
