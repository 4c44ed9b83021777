package main

import (
	"encoding/json"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/glassbox-obs/glassbox/errors"
)

// entry is what payments asks the ledger to book.
type entry struct {
	OrderID     string `json:"order_id"`
	Account     string `json:"account"`
	AmountCents int64  `json:"amount_cents"`
}

// ledger keeps the accounts: POST /entries books one entry in its
// database. Two things go wrong there, as they do in production: an
// account locked by the nightly settlement makes the lock wait longer than
// any caller waits, and the database refuses an entry whose amount is not
// positive.
type ledger struct {
	*service
	// lockWait is how long the settlement holds each locked account.
	lockWait map[string]time.Duration
}

func newLedger(s *service) *ledger {
	return &ledger{service: s, lockWait: map[string]time.Duration{slowAccount: 2 * time.Second}}
}

// slowAccount is the account the nightly settlement holds locked.
const slowAccount = "acct-3150"

func (l *ledger) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /entries", l.book)
	return mux
}

func (l *ledger) book(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var e entry
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&e); err != nil {
		l.log.WarnContext(ctx, "unreadable entry", "err", err)
		http.Error(w, "unreadable entry", http.StatusBadRequest)
		return
	}
	l.log.InfoContext(ctx, "booking entry", "order_id", e.OrderID, "account", e.Account, "amount_cents", e.AmountCents)

	// Lock the account row.
	lctx, lock := l.tracer().Start(ctx, "SELECT accounts FOR UPDATE", oteltrace.WithSpanKind(oteltrace.SpanKindClient),
		oteltrace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.namespace", "ledger")))
	wait := 2*time.Millisecond + l.lockWait[e.Account]
	if wait > time.Second {
		l.log.InfoContext(lctx, "account locked by the nightly settlement, waiting", "account", e.Account)
	}
	if err := work(lctx, wait); err != nil {
		lock.RecordError(err)
		lock.SetStatus(otelcodes.Error, "lock wait abandoned")
		lock.End()
		l.log.WarnContext(ctx, "caller gave up while the account was locked", "account", e.Account, "err", err)
		http.Error(w, "caller gave up", http.StatusServiceUnavailable)
		return
	}
	lock.End()

	// Insert the entry.
	ictx, insert := l.tracer().Start(ctx, "INSERT ledger_entries", oteltrace.WithSpanKind(oteltrace.SpanKindClient),
		oteltrace.WithAttributes(attribute.String("db.system", "postgresql"), attribute.String("db.namespace", "ledger")))
	_ = work(ictx, 3*time.Millisecond)
	if e.AmountCents <= 0 {
		err := errors.Errorf("new row for relation %q violates check constraint %q (SQLSTATE 23514)", "ledger_entries", "amount_positive")
		insert.RecordError(err)
		insert.SetStatus(otelcodes.Error, err.Error())
		insert.End()
		l.log.ErrorContext(ctx, "entry not booked", "order_id", e.OrderID, "amount_cents", e.AmountCents, "err", err)
		http.Error(w, "entry not booked", http.StatusInternalServerError)
		return
	}
	insert.End()
	id := "e-" + e.OrderID
	l.log.InfoContext(ctx, "entry booked", "entry_id", id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"entry_id": id})
}
