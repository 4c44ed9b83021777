package log_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gblog "github.com/glassbox-obs/glassbox/log"
	"github.com/glassbox-obs/glassbox/trace"
)

// flightFixture is an INFO handler with a flight recorder, writing to two
// sinks.
type flightFixture struct {
	rec    *gblog.FlightRecorder
	h      *gblog.Handler
	logger *slog.Logger
	sinks  [2]*docSink
}

func newFlightFixture(opts ...gblog.FlightOption) *flightFixture {
	f := &flightFixture{rec: gblog.NewFlightRecorder(opts...), sinks: [2]*docSink{{}, {}}}
	f.h = gblog.NewHandler(gblog.WithFlightRecorder(f.rec), gblog.WithSink(f.sinks[0]), gblog.WithSink(f.sinks[1]))
	f.logger = slog.New(f.h)
	return f
}

// docs decodes what sink i received.
func (f *flightFixture) docs(t *testing.T, i int) []map[string]any {
	t.Helper()
	s := f.sinks[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.docs))
	for _, d := range s.docs {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, d)
		}
		out = append(out, m)
	}
	return out
}

func messages(docs []map[string]any) []string {
	var out []string
	for _, d := range docs {
		s, _ := d["message"].(string)
		if d["glassbox.replayed"] == true {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

// checkStats checks the accounting identity of FlightStats.
func checkStats(t *testing.T, st gblog.FlightStats) {
	t.Helper()
	sum := st.Replayed + st.Discarded + st.DroppedRequestLimit + st.DroppedMemoryCap + st.DroppedLate
	if st.Records != sum {
		t.Errorf("Records %d != Replayed %d + Discarded %d + DroppedRequestLimit %d + DroppedMemoryCap %d + DroppedLate %d",
			st.Records, st.Replayed, st.Discarded, st.DroppedRequestLimit, st.DroppedMemoryCap, st.DroppedLate)
	}
	if st.Open == 0 && st.ReservedBytes != 0 {
		t.Errorf("no Flight open, %d bytes reserved", st.ReservedBytes)
	}
}

// A failed request's below-level records are written when it ends, in
// the order they were logged, with their own timestamps and the marker,
// to every sink; the records written at the time keep theirs.
func TestFlightReplaysInOrderWithTimestampsAndMarker(t *testing.T) {
	f := newFlightFixture()
	ctx, fl := f.rec.Begin(trace.WithCorrelationID(spanCtx(), "req-1"))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for i, msg := range []string{"cache miss", "query built", "rows fetched"} {
		if !f.logger.Enabled(ctx, slog.LevelDebug) {
			t.Fatal("Enabled(ctx of a flight, DEBUG) = false, want true: slog would not build the record")
		}
		r := slog.NewRecord(t0.Add(time.Duration(i)*time.Millisecond), slog.LevelDebug, msg, 0)
		r.AddAttrs(slog.Int("step", i))
		if err := f.h.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			f.logger.InfoContext(ctx, "halfway")
		}
	}
	if got := messages(f.docs(t, 0)); strings.Join(got, ",") != "halfway" {
		t.Fatalf("before the end: got %v, want only the INFO record", got)
	}
	fl.End(true)
	f.logger.ErrorContext(ctx, "request completed", "http.response.status_code", 500)

	for i := range f.sinks {
		docs := f.docs(t, i)
		if got, want := strings.Join(messages(docs), ","), "halfway,cache miss*,query built*,rows fetched*,request completed"; got != want {
			t.Fatalf("sink %d: got %s, want %s", i, got, want)
		}
		for j, d := range docs[1:4] {
			want := t0.Add(time.Duration(j) * time.Millisecond).Format("2006-01-02T15:04:05.000000000Z")
			if d["@timestamp"] != want || d["log.level"] != "debug" || d["step"] != float64(j) ||
				d["correlation.id"] != "req-1" || d["trace.id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("replayed record %d: got %v, want @timestamp %s, debug, step %d and the IDs", j, d, want, j)
			}
		}
		if docs[0]["glassbox.replayed"] != nil || docs[4]["glassbox.replayed"] != nil {
			t.Errorf("records written at the time carry the marker: %v", docs)
		}
	}
	st := f.rec.Stats()
	if st.Records != 3 || st.Replayed != 3 || st.Failed != 1 || st.Flights != 1 || st.Open != 0 || st.ReservedBytes != 0 {
		t.Errorf("stats: %+v", st)
	}
	checkStats(t, st)
}

// An ERROR record is a failure: what was kept is written before it, and
// what is logged below the level afterwards is written at once, marked.
func TestFlightErrorRecordReplaysBeforeIt(t *testing.T) {
	f := newFlightFixture()
	ctx, fl := f.rec.Begin(context.Background())
	f.logger.DebugContext(ctx, "d1")
	f.logger.InfoContext(ctx, "i1")
	f.logger.DebugContext(ctx, "d2")
	f.logger.ErrorContext(ctx, "payment declined")
	f.logger.DebugContext(ctx, "d3")
	fl.End(false) // the request's status was fine; the ERROR record decided
	if got, want := strings.Join(messages(f.docs(t, 0)), ","), "i1,d1*,d2*,payment declined,d3*"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	st := f.rec.Stats()
	if st.Failed != 1 || st.Replayed != 3 || st.Discarded != 0 {
		t.Errorf("stats: %+v", st)
	}
	checkStats(t, st)
}

// countingValuer counts the calls to LogValue: encoding a record resolves
// it, keeping or discarding one does not.
type countingValuer struct{ n *atomic.Int64 }

func (v countingValuer) LogValue() slog.Value {
	v.n.Add(1)
	return slog.StringValue("resolved")
}

// A successful request's records are discarded without being encoded.
func TestFlightSuccessDiscardsWithoutEncoding(t *testing.T) {
	f := newFlightFixture()
	var calls atomic.Int64
	ctx, fl := f.rec.Begin(context.Background())
	for i := 0; i < 5; i++ {
		f.logger.DebugContext(ctx, "detail", "v", countingValuer{&calls}, slog.Group("g", "v", countingValuer{&calls}))
	}
	fl.End(false)
	if n := calls.Load(); n != 0 {
		t.Errorf("LogValue called %d times for a successful request, want 0", n)
	}
	if docs := f.docs(t, 0); len(docs) != 0 {
		t.Errorf("written: %v", messages(docs))
	}
	st := f.rec.Stats()
	if st.Discarded != 5 || st.Replayed != 0 || st.Failed != 0 || st.ReservedBytes != 0 {
		t.Errorf("stats: %+v", st)
	}
	checkStats(t, st)

	// The same records of a failed request are encoded, once each.
	ctx, fl = f.rec.Begin(context.Background())
	f.logger.DebugContext(ctx, "detail", "v", countingValuer{&calls})
	fl.End(true)
	if n := calls.Load(); n != 1 {
		t.Errorf("LogValue called %d times for a failed request's record, want 1", n)
	}
	if d := f.docs(t, 0); len(d) != 1 || d[0]["v"] != "resolved" {
		t.Errorf("got %v", d)
	}
}

// A goroutine that outlives its request cannot write into the request's
// Flight: after End, below-level records follow the level alone.
func TestFlightLateRecordsFollowTheLevel(t *testing.T) {
	f := newFlightFixture()
	ctx, fl := f.rec.Begin(context.Background())
	f.logger.DebugContext(ctx, "kept")
	fl.End(true)
	if f.logger.Enabled(ctx, slog.LevelDebug) {
		t.Error("Enabled(ctx of an ended flight, DEBUG) = true, want false")
	}
	late := slog.NewRecord(time.Now(), slog.LevelDebug, "late", 0)
	_ = f.h.Handle(ctx, late) // as a caller that checked Enabled before End
	fl.End(true)              // a second End changes nothing
	fl.Fail()
	f.logger.InfoContext(ctx, "late info")
	if got, want := strings.Join(messages(f.docs(t, 0)), ","), "kept*,late info"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	st := f.rec.Stats()
	if st.DroppedLate != 1 || st.Failed != 1 {
		t.Errorf("stats: %+v", st)
	}
	checkStats(t, st)
}

// Outside a flight, and through a handler without the recorder, nothing
// changes: below-level records are disabled.
func TestFlightOutsideRequestsUnaffected(t *testing.T) {
	f := newFlightFixture()
	for _, ctx := range []context.Context{context.Background(), trace.WithCorrelationID(spanCtx(), "x")} {
		if f.logger.Enabled(ctx, slog.LevelDebug) {
			t.Error("Enabled(ctx without a flight, DEBUG) = true")
		}
	}
	ctx, fl := f.rec.Begin(context.Background())
	defer fl.End(false)
	other := slog.New(gblog.NewHandler(gblog.WithSink(f.sinks[1])))
	if other.Enabled(ctx, slog.LevelDebug) {
		t.Error("a handler without the recorder: Enabled(DEBUG) = true")
	}
	otherRec := gblog.NewFlightRecorder()
	third := slog.New(gblog.NewHandler(gblog.WithFlightRecorder(otherRec), gblog.WithSink(f.sinks[1])))
	if third.Enabled(ctx, slog.LevelDebug) {
		t.Error("a handler with another recorder: Enabled(DEBUG) = true")
	}
	f.logger.Debug("no context")
	if docs := f.docs(t, 0); len(docs) != 0 {
		t.Errorf("written: %v", messages(docs))
	}
}

// The handler a record went through encodes it at replay: its WithAttrs
// attributes and groups.
func TestFlightReplayKeepsHandlerAttrsAndGroups(t *testing.T) {
	f := newFlightFixture()
	ctx, fl := f.rec.Begin(context.Background())
	f.logger.With("component", "db").WithGroup("sql").DebugContext(ctx, "query", "rows", 3)
	fl.End(true)
	d := f.docs(t, 0)
	if len(d) != 1 || d[0]["component"] != "db" || fmt.Sprint(d[0]["sql"]) != "map[rows:3]" {
		t.Errorf("got %v", d)
	}
}

// A Flight's level lowers the handler's for its context while it is open:
// those records are written at once, unmarked.
func TestFlightLevel(t *testing.T) {
	f := newFlightFixture(gblog.WithFlightLimits(0, 0)) // levels only
	ctx, fl := f.rec.Begin(context.Background())
	if f.logger.Enabled(ctx, slog.LevelDebug) {
		t.Error("a recorder that keeps nothing: Enabled(DEBUG) = true before SetLevel")
	}
	fl.SetLevel(slog.LevelDebug)
	if l, ok := fl.Level(); !ok || l != slog.LevelDebug {
		t.Errorf("Level() = %v, %v", l, ok)
	}
	f.logger.DebugContext(ctx, "debug on")
	f.logger.Log(ctx, slog.LevelDebug-4, "trace level") // below both: not kept by this recorder
	fl.End(false)
	f.logger.DebugContext(ctx, "after")
	if got, want := strings.Join(messages(f.docs(t, 0)), ","), "debug on"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var nilFlight *gblog.Flight
	nilFlight.SetLevel(slog.LevelDebug)
	nilFlight.Fail()
	nilFlight.End(true)
	if _, ok := nilFlight.Level(); ok || gblog.FlightFrom(context.Background()) != nil {
		t.Error("a nil Flight has a level, or a plain context a Flight")
	}
}

// The per-request bounds keep the most recent records: the oldest make
// room, and a record larger than the byte bound alone is not kept.
func TestFlightRequestBounds(t *testing.T) {
	t.Run("records", func(t *testing.T) {
		f := newFlightFixture(gblog.WithFlightLimits(4, 1<<20))
		ctx, fl := f.rec.Begin(context.Background())
		for i := 0; i < 50; i++ {
			f.logger.DebugContext(ctx, fmt.Sprint(i))
		}
		fl.End(true)
		if got, want := strings.Join(messages(f.docs(t, 0)), ","), "46*,47*,48*,49*"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		st := f.rec.Stats()
		if st.DroppedRequestLimit != 46 {
			t.Errorf("DroppedRequestLimit %d, want 46", st.DroppedRequestLimit)
		}
		checkStats(t, st)
	})
	t.Run("bytes", func(t *testing.T) {
		f := newFlightFixture(gblog.WithFlightLimits(1000, 4096))
		ctx, fl := f.rec.Begin(context.Background())
		big := strings.Repeat("x", 1000)
		for i := 0; i < 20; i++ {
			f.logger.DebugContext(ctx, fmt.Sprint(i), "payload", big)
			if st := f.rec.Stats(); st.ReservedBytes > 4096 {
				t.Fatalf("reserved %d bytes, over the 4096 bound", st.ReservedBytes)
			}
		}
		f.logger.DebugContext(ctx, "huge", "payload", strings.Repeat("y", 5000))
		fl.End(true)
		got := messages(f.docs(t, 0))
		if len(got) < 2 || len(got) > 4 || got[len(got)-1] != "19*" {
			t.Errorf("got %v, want the last few of 0..19 and not huge", got)
		}
		checkStats(t, f.rec.Stats())
	})
}

// Many requests at once never hold more than the recorder's memory cap
// together, nothing blocks, and every record is accounted for.
func TestFlightMemoryCapUnderConcurrency(t *testing.T) {
	const memCap = 64 << 10
	f := newFlightFixture(gblog.WithFlightLimits(256, 16<<10), gblog.WithFlightMemory(memCap))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var over atomic.Int64
	wg.Add(1)
	go func() { // watches the total while the requests run
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := f.rec.Stats().ReservedBytes; n > memCap {
				over.Store(n)
			}
		}
	}()
	// Each round, 32 requests log at once and stay open until all have
	// logged: together they want 32 x 16 KiB, far over the cap.
	payload := strings.Repeat("p", 200)
	for round := 0; round < 20; round++ {
		var logged, ended sync.WaitGroup
		release := make(chan struct{})
		for g := 0; g < 32; g++ {
			logged.Add(1)
			ended.Add(1)
			go func() {
				defer ended.Done()
				ctx, fl := f.rec.Begin(context.Background())
				for i := 0; i < 60; i++ {
					f.logger.DebugContext(ctx, "step", "i", i, "payload", payload)
				}
				logged.Done()
				<-release
				fl.End(round%10 == 0)
			}()
		}
		logged.Wait()
		if st := f.rec.Stats(); st.Open != 32 || st.ReservedBytes > memCap {
			t.Errorf("round %d, all logged: %+v", round, st)
		}
		close(release)
		ended.Wait()
	}
	close(stop)
	wg.Wait()
	if n := over.Load(); n != 0 {
		t.Errorf("held %d bytes at once, over the cap of %d", n, memCap)
	}
	st := f.rec.Stats()
	if st.DroppedMemoryCap == 0 {
		t.Errorf("the cap was never reached (%+v): the test does not test it", st)
	}
	if st.ReservedBytes != 0 || st.Open != 0 || st.Flights != 640 || st.Records != 640*60 {
		t.Errorf("after all requests: %+v", st)
	}
	if got := uint64(len(f.docs(t, 0))); got != st.Replayed {
		t.Errorf("%d documents written, %d replayed counted", got, st.Replayed)
	}
	checkStats(t, st)
}

// Records of several handlers and contexts, most pushed out by newer ones,
// come back each with its own handler's attributes and its own context's
// IDs.
func TestFlightScopesSurviveEviction(t *testing.T) {
	f := newFlightFixture(gblog.WithFlightLimits(20, 1<<20))
	ctx, fl := f.rec.Begin(context.Background())
	loggers := []*slog.Logger{f.logger.With("h", "a"), f.logger.With("h", "b"), f.logger.With("h", "c")}
	for i := 0; i < 500; i++ {
		c := ctx
		if i%5 == 0 {
			c = trace.WithCorrelationID(ctx, fmt.Sprint("c", i))
		}
		loggers[(i/3)%3].DebugContext(c, fmt.Sprint(i))
	}
	fl.End(true)
	docs := f.docs(t, 0)
	if len(docs) != 20 {
		t.Fatalf("got %d records, want 20", len(docs))
	}
	for j, d := range docs {
		i := 480 + j
		wantCorr := any(nil)
		if i%5 == 0 {
			wantCorr = fmt.Sprint("c", i)
		}
		if d["message"] != fmt.Sprint(i) || d["h"] != string(rune('a'+(i/3)%3)) || d["correlation.id"] != wantCorr {
			t.Errorf("record %d: got message %v, h %v, correlation.id %v", i, d["message"], d["h"], d["correlation.id"])
		}
	}
	checkStats(t, f.rec.Stats())
}
