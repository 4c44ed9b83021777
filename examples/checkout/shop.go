package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/glassbox-obs/glassbox/middleware/grpcmw"
)

// shop is the three services running: frontend over HTTP -> payments over
// gRPC -> ledger over HTTP, each a real server on loopback.
type shop struct {
	frontendURL, paymentsAddr, ledgerURL string

	services  []*service // in the order they were started
	front     *frontend
	pay       *payments
	conn      *grpc.ClientConn // frontend -> payments
	frontSrv  *http.Server
	paySrv    *grpc.Server
	ledgerSrv *http.Server
}

// openShop starts the three services, writing their documents to dir. On
// error, what was started is stopped.
func openShop(ctx context.Context, dir string) (_ *shop, err error) {
	s := &shop{}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.close(context.WithoutCancel(ctx)))
		}
	}()
	start := func(name string) (*service, error) {
		svc, err := startService(ctx, name, dir)
		if err == nil {
			s.services = append(s.services, svc)
		}
		return svc, err
	}

	ledgerSvc, err := start("ledger")
	if err != nil {
		return nil, err
	}
	if s.ledgerSrv, s.ledgerURL, err = ledgerSvc.serveHTTP(newLedger(ledgerSvc).handler()); err != nil {
		return nil, err
	}

	paySvc, err := start("payments")
	if err != nil {
		return nil, err
	}
	s.pay = newPayments(paySvc, s.ledgerURL)
	if s.paySrv, s.paymentsAddr, err = s.pay.serveGRPC(); err != nil {
		return nil, err
	}

	frontSvc, err := start("frontend")
	if err != nil {
		return nil, err
	}
	s.conn, err = grpc.NewClient(s.paymentsAddr, append(grpcmw.DialOptions(frontSvc.mw...),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		return nil, err
	}
	s.front = newFrontend(frontSvc, s.conn)
	if s.frontSrv, s.frontendURL, err = frontSvc.serveHTTP(s.front.handler()); err != nil {
		return nil, err
	}
	return s, nil
}

// close stops the servers front to back (each finishes its requests),
// waits for the frontend's background jobs, then shuts every service's
// telemetry down, which writes out what its exporters still hold. ctx
// bounds it all.
func (s *shop) close(ctx context.Context) error {
	var errs []error
	if s.frontSrv != nil {
		errs = append(errs, s.frontSrv.Shutdown(ctx))
	}
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	if s.paySrv != nil {
		stopGRPC(ctx, s.paySrv)
	}
	if s.ledgerSrv != nil {
		errs = append(errs, s.ledgerSrv.Shutdown(ctx))
	}
	if s.pay != nil {
		s.pay.transport.CloseIdleConnections()
	}
	if s.front != nil {
		s.front.jobs.Wait() // each job takes milliseconds
	}
	// Each service's telemetry gets the whole deadline, all at once as
	// three processes would: a backend that does not answer holds its
	// exporter until the deadline, and must not leave the services shut
	// down after it no time to write out their files.
	terrs := make([]error, len(s.services))
	var wg sync.WaitGroup
	for i, svc := range s.services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := svc.tel.Shutdown(ctx); err != nil {
				terrs[i] = fmt.Errorf("%s's telemetry: %s", svc.name, oneLine(err))
			}
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, terrs...)...)
}

// oneLine is err's message on one line, each distinct line of a joined
// error once ("context deadline exceeded" from each exporter is said once).
func oneLine(err error) string {
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// stopGRPC lets the calls in flight finish, or cuts them when ctx ends
// first.
func stopGRPC(ctx context.Context, gs *grpc.Server) {
	done := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		gs.Stop()
		<-done
	}
}

// delivery says what the services' exporters did, summed over the
// services; call it after close.
func (s *shop) delivery() delivery {
	var d delivery
	for _, svc := range s.services {
		d.add(svc.tel.Stats())
	}
	return d
}
