package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/trace"
)

// order is the body of POST /checkout.
type order struct {
	Customer   string `json:"customer"`
	Items      []item `json:"items"`
	Coupon     string `json:"coupon,omitempty"`
	CardNumber string `json:"card_number"`
}

type item struct {
	SKU        string `json:"sku"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"price_cents"`
}

// frontend is the shop's public HTTP API: POST /checkout validates the
// order, charges it through payments (gRPC) and, once the answer is in,
// emails the customer in a background job.
type frontend struct {
	*service
	payments *grpc.ClientConn
	// paymentTimeout is how long a checkout waits for payments.
	paymentTimeout time.Duration
	// coupons maps a coupon code to its discount in cents.
	coupons map[string]int64
	orders  atomic.Int64 // numbers the orders
	jobs    sync.WaitGroup
}

func newFrontend(s *service, payments *grpc.ClientConn) *frontend {
	return &frontend{service: s, payments: payments, paymentTimeout: 300 * time.Millisecond,
		coupons: map[string]int64{"WELCOME5": 500, "SPRING20": 2000}}
}

func (f *frontend) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", f.checkout)
	return mux
}

func (f *frontend) checkout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var o order
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&o); err != nil {
		f.log.WarnContext(ctx, "order rejected", "reason", "unreadable body", "err", err)
		http.Error(w, "unreadable order", http.StatusBadRequest)
		return
	}
	if reason := o.invalid(); reason != "" {
		f.log.WarnContext(ctx, "order rejected", "reason", reason, "customer", o.Customer)
		http.Error(w, "invalid order: "+reason, http.StatusBadRequest)
		return
	}
	amount := o.total()
	f.log.InfoContext(ctx, "checkout started", "customer", o.Customer, "items", len(o.Items), "amount_cents", amount)
	if off, ok := f.coupons[o.Coupon]; ok {
		// A bug: the discount is not capped at the order's total.
		amount -= off
		f.log.InfoContext(ctx, "coupon applied", "coupon", o.Coupon, "discount_cents", off, "amount_cents", amount)
	}
	orderID := fmt.Sprintf("ord-%04d", f.orders.Add(1))
	receipt, err := f.charge(ctx, orderID, o, amount)
	defer f.emailCustomer(ctx, err == nil)
	if err != nil {
		// Two failures, two errors, wrapped where each is told apart: a
		// stack each, so Sentry groups them apart too.
		code := http.StatusBadGateway
		if status.Code(err) == codes.DeadlineExceeded {
			code, err = http.StatusGatewayTimeout, errors.Wrap(err, "payments did not answer in time")
		} else {
			err = errors.Wrap(err, "payments refused the charge")
		}
		f.log.ErrorContext(ctx, "payment failed", "order_id", orderID, "err", err)
		id, _ := trace.CorrelationID(ctx) // valid: the middleware chose it
		http.Error(w, "payment failed: please quote "+id+" to support", code)
		return
	}
	f.log.InfoContext(ctx, "order placed", "order_id", orderID, "receipt", receipt)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"receipt": receipt})
}

// charge calls payments.Payments/Charge, waiting at most paymentTimeout.
func (f *frontend) charge(ctx context.Context, orderID string, o order, amount int64) (string, error) {
	in, err := structpb.NewStruct(map[string]any{
		"order_id": orderID, "customer": o.Customer, "amount_cents": amount,
		"currency": "EUR", "card_number": o.CardNumber,
	})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, f.paymentTimeout)
	defer cancel()
	out := new(structpb.Struct)
	if err := f.payments.Invoke(ctx, chargeMethod, in, out); err != nil {
		return "", err
	}
	return out.GetFields()["receipt"].GetStringValue(), nil
}

// emailCustomer runs the email to the customer as a background job: a
// trace of its own (linked to the request's), with the request's
// correlation ID, so the job is part of the request's story.
func (f *frontend) emailCustomer(ctx context.Context, paid bool) {
	link := oteltrace.LinkFromContext(ctx)
	ctx = context.WithoutCancel(ctx) // the job outlives the request
	f.jobs.Go(func() {
		ctx, span := f.tracer().Start(ctx, "email customer", oteltrace.WithNewRoot(), oteltrace.WithLinks(link))
		defer span.End()
		template := "order-confirmation"
		if !paid {
			template = "payment-failed"
		}
		_ = work(ctx, 2*time.Millisecond)
		f.log.InfoContext(ctx, "customer emailed", "template", template)
	})
}

// invalid says what is wrong with the order, or "".
func (o order) invalid() string {
	var problems []string
	if o.Customer == "" {
		problems = append(problems, "no customer")
	}
	if len(o.Items) == 0 {
		problems = append(problems, "empty cart")
	}
	for _, it := range o.Items {
		if it.Qty <= 0 || it.PriceCents <= 0 {
			problems = append(problems, fmt.Sprintf("item %q: quantity and price must be positive", it.SKU))
		}
	}
	if o.CardNumber == "" {
		problems = append(problems, "no card")
	}
	return strings.Join(problems, "; ")
}

func (o order) total() int64 {
	var t int64
	for _, it := range o.Items {
		t += int64(it.Qty) * it.PriceCents
	}
	return t
}
