package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/glassbox-obs/glassbox/errors"
	"github.com/glassbox-obs/glassbox/middleware"
	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// payments charges cards and books the charge in the ledger. It is a gRPC
// service, payments.Payments, whose one method Charge takes and returns a
// google.protobuf.Struct: a real protobuf service, registered by hand
// (paymentsService), so the example needs no generated code.
type payments struct {
	*service
	ledgerURL string
	client    *http.Client // through middleware.Transport: traceparent and X-Correlation-ID go along
	transport *http.Transport
	// issuers maps the first four digits of a card to its issuer.
	issuers map[string]*issuer
}

// issuer is a card network and what it charges.
type issuer struct {
	network string
	feeRate float64
}

func newPayments(s *service, ledgerURL string) *payments {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	return &payments{
		service:   s,
		ledgerURL: ledgerURL,
		transport: tr,
		client:    &http.Client{Transport: middleware.Transport(tr, s.mw...), Timeout: 10 * time.Second},
		issuers: map[string]*issuer{
			"4242": {network: "visa", feeRate: 0.014},
			"5555": {network: "mastercard", feeRate: 0.016},
		},
	}
}

// charge is payments.Payments/Charge.
func (p *payments) charge(ctx context.Context, in *structpb.Struct) (*structpb.Struct, error) {
	f := in.GetFields()
	order, customer, card := f["order_id"].GetStringValue(), f["customer"].GetStringValue(), f["card_number"].GetStringValue()
	amount := int64(f["amount_cents"].GetNumberValue())
	p.log.InfoContext(ctx, "charging card", "order_id", order, "amount_cents", amount, "card_number", card)

	fctx, fraud := p.tracer().Start(ctx, "fraud check")
	_ = work(fctx, 2*time.Millisecond)
	fraud.End()

	// A bug: a card of an issuer missing from the table has a nil issuer.
	iss := p.issuers[prefix(card, 4)]
	fee := int64(float64(amount) * iss.feeRate)
	p.log.InfoContext(ctx, "card authorised", "network", iss.network, "fee_cents", fee)

	e := entry{OrderID: order, Account: "acct-" + customer, AmountCents: amount}
	if err := p.book(ctx, e); err != nil {
		return nil, err
	}
	return structpb.NewStruct(map[string]any{"receipt": "rcpt-" + order, "fee_cents": fee})
}

// book posts the entry to the ledger and turns its failures into gRPC
// statuses.
func (p *payments) book(ctx context.Context, e entry) error {
	body, _ := json.Marshal(e)
	req, err := http.NewRequestWithContext(ctx, "POST", p.ledgerURL+"/entries", bytes.NewReader(body))
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			p.log.ErrorContext(ctx, "ledger did not answer in time", "err", err)
			return status.FromContextError(ctx.Err()).Err()
		}
		p.log.ErrorContext(ctx, "ledger unreachable", "err", err)
		return status.Error(codes.Unavailable, "ledger unreachable")
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusCreated {
		err := errors.Errorf("ledger answered %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
		p.log.ErrorContext(ctx, "charge not booked", "order_id", e.OrderID, "err", err)
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// paymentsService describes payments.Payments for grpc-go, as generated
// code would: one unary method whose messages are google.protobuf.Struct.
var paymentsService = grpc.ServiceDesc{
	ServiceName: "payments.Payments",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Charge",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(structpb.Struct)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(*payments).charge(ctx, req.(*structpb.Struct))
			}
			if icpt == nil {
				return call(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: chargeMethod}, call)
		},
	}},
	Metadata: "payments.proto",
}

// chargeMethod is the full name of Charge, as clients call it.
const chargeMethod = "/payments.Payments/Charge"

// serveGRPC serves payments.Payments through the glassbox interceptors on a
// free loopback port.
func (p *payments) serveGRPC() (*grpc.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	gs := grpc.NewServer(grpcmw.ServerOptions(p.mw...)...)
	gs.RegisterService(&paymentsService, p)
	go func() { _ = gs.Serve(ln) }()
	return gs, ln.Addr().String(), nil
}
