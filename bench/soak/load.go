package soak

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// load sends requests to the service at a fixed rate, alternating HTTP
// and gRPC, open loop: a request is sent when it is due whatever the
// service's latency, by one of a fixed pool of workers; when every
// worker is busy, the request is counted as missed (the load was not
// held). Every failEvery-th request asks the service to fail.
type load struct {
	rate      float64 // requests per second
	failEvery int
	workers   int
	httpURL   string
	hc        *http.Client
	conn      *grpc.ClientConn

	sent, missed, errs atomic.Int64
	lastErr            atomic.Value // string

	mu  sync.Mutex
	lat []time.Duration // since the last take
}

func newLoad(addrs serviceAddrs, rate float64, failEvery int) (*load, error) {
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	workers := 64
	return &load{
		rate: rate, failEvery: failEvery, workers: workers,
		httpURL: "http://" + addrs.HTTP + "/pay",
		hc:      &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}},
		conn:    conn,
	}, nil
}

// run sends requests until ctx ends, then waits for the workers.
func (l *load) run(ctx context.Context) {
	jobs := make(chan int64)
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				l.one(i)
			}
		}()
	}
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	var issued int64
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		due := int64(time.Since(start).Seconds() * l.rate)
		for ; issued < due; issued++ {
			select {
			case jobs <- issued:
			default:
				l.missed.Add(1)
			}
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	l.hc.CloseIdleConnections()
	_ = l.conn.Close()
}

// one sends request i and records its latency.
func (l *load) one(i int64) {
	order := "o" + strconv.FormatInt(i, 10)
	fail := l.failEvery > 0 && i%int64(l.failEvery) == 0
	start := time.Now()
	var err error
	if i%2 == 0 {
		err = l.httpCall(order, fail)
	} else {
		err = l.grpcCall(order, fail)
	}
	d := time.Since(start)
	l.sent.Add(1)
	if err != nil {
		l.errs.Add(1)
		l.lastErr.Store(err.Error())
		return
	}
	l.mu.Lock()
	l.lat = append(l.lat, d)
	l.mu.Unlock()
}

func (l *load) httpCall(order string, fail bool) error {
	u := l.httpURL + "?order=" + order
	want := http.StatusOK
	if fail {
		u += "&fail=1"
		want = http.StatusInternalServerError
	}
	resp, err := l.hc.Get(u)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %s: got %d, want %d", u, resp.StatusCode, want)
	}
	return nil
}

func (l *load) grpcCall(order string, fail bool) error {
	in := order
	if fail {
		in = "fail:" + order
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := l.conn.Invoke(ctx, payMethod, wrapperspb.String(in), new(wrapperspb.StringValue))
	if fail && status.Code(err) == codes.Internal {
		return nil
	}
	if fail && err == nil {
		return fmt.Errorf("gRPC %s: got OK, want Internal", in)
	}
	return err
}

// take returns the latencies recorded since the last take.
func (l *load) take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lat
	l.lat = nil
	return out
}

// quantile returns the q-quantile of ds (sorted in place), 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}
