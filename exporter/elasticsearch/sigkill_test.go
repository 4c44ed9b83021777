package elasticsearch_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/exporter/elasticsearch"
	"github.com/glassbox-obs/glassbox/internal/estest"
	"github.com/glassbox-obs/glassbox/internal/spool"
	"github.com/glassbox-obs/glassbox/log"
)

const (
	childEnv      = "GLASSBOX_ES_TEST_CHILD"
	childURLEnv   = "GLASSBOX_ES_TEST_URL"
	childSpoolEnv = "GLASSBOX_ES_TEST_SPOOL"
	childModeEnv  = "GLASSBOX_ES_TEST_SPOOL_MODE"
)

// childMain runs in the re-executed test binary: it writes numbered records
// forever through an exporter with a spool, until it is killed. After each
// Write returns it prints the record's number on stdout, so the parent
// knows which records were accepted.
func childMain() int {
	exp, err := elasticsearch.New(
		elasticsearch.WithGetenv(nil),
		elasticsearch.WithAddresses(os.Getenv(childURLEnv)),
		elasticsearch.WithService(log.Service{Name: "svc", Dataset: "svc", Namespace: "default", HostName: "h"}),
		elasticsearch.WithSpoolDir(os.Getenv(childSpoolEnv)),
		elasticsearch.WithSpoolMode(elasticsearch.SpoolMode(os.Getenv(childModeEnv))),
		elasticsearch.WithFlushBytes(4<<10),
		elasticsearch.WithFlushInterval(10*time.Millisecond),
		elasticsearch.WithBackoff(time.Millisecond, 10*time.Millisecond),
		elasticsearch.WithErrorHandler(&errorSink{}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	sink := exp.LogSink()
	var line []byte
	for i := 0; ; i++ {
		e := &log.Entry{Time: time.Now(), Doc: []byte(fmt.Sprintf(`{"@timestamp":%s,"message":"m","seq":%d,"pad":"%s"}`+"\n", ts(i), i, strings.Repeat("z", 100)))}
		_ = sink.Write(nil, e)
		line = strconv.AppendInt(line[:0], int64(i), 10)
		if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
			return 3
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

func dirSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".seg") {
			n += fi.Size()
		}
	}
	return n
}

// spooledSeqs reads the seq of every record in a copy of the spool.
func spooledSeqs(t *testing.T, dir string) []int {
	t.Helper()
	cp := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := spool.Open(cp, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var seqs []int
	for {
		seg, err := sp.Next()
		if err != nil {
			t.Fatal(err)
		}
		if seg == nil {
			return seqs
		}
		for _, r := range seg.Records {
			lines := strings.Split(strings.TrimSpace(string(r.Payload)), "\n")
			for i := 1; i < len(lines); i += 2 {
				var v struct {
					Seq int `json:"seq"`
				}
				if err := json.Unmarshal([]byte(lines[i]), &v); err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, v.Seq)
			}
		}
		if err := sp.Remove(seg); err != nil {
			t.Fatal(err)
		}
	}
}

// child is a running childMain and the number of records it reported
// accepted.
type child struct {
	cmd      *exec.Cmd
	accepted atomic.Int64
	done     chan struct{} // closed when its stdout is closed
}

func startChild(t *testing.T, url, dir string, mode elasticsearch.SpoolMode) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), childEnv+"=1", childURLEnv+"="+url, childSpoolEnv+"="+dir, childModeEnv+"="+string(mode))
	c.cmd.Stderr = os.Stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.accepted.Add(1)
		}
	}()
	return c
}

// kill sends SIGKILL and returns how many records the child reported
// accepted: records 0..n-1 (record n may have been accepted too).
func (c *child) kill(t *testing.T) int {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	err := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	return int(c.accepted.Load())
}

// TestSIGKILL kills a process that writes records as fast as it can, while
// Elasticsearch is healthy and during an outage, then replays its spool
// in a new exporter. In SpoolAlways mode nothing it accepted is lost and
// nothing is stored twice. In SpoolOnFailure mode nothing is stored twice
// and every record that reached the spool is stored; what it loses (the
// open batch and the requests in flight) is logged.
func TestSIGKILL(t *testing.T) {
	for _, mode := range []elasticsearch.SpoolMode{elasticsearch.SpoolAlways, elasticsearch.SpoolOnFailure} {
		for _, outage := range []bool{false, true} {
			name := string(mode) + "/healthy"
			if outage {
				name = string(mode) + "/outage"
			}
			t.Run(name, func(t *testing.T) { testSIGKILL(t, mode, outage) })
		}
	}
}

func testSIGKILL(t *testing.T, mode elasticsearch.SpoolMode, outage bool) {
	srv := estest.New(t)
	if err := srv.SetRefused(outage); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := startChild(t, srv.URL(), dir, mode)
	waitFor(t, 30*time.Second, "the child to be under way", func() bool {
		if outage {
			return c.accepted.Load() > 2000 && dirSize(dir) > 128<<10
		}
		return c.accepted.Load() > 2000 && srv.BulkDocs() > 500
	})
	accepted := c.kill(t)
	spooled := spooledSeqs(t, dir)
	if err := srv.SetRefused(false); err != nil {
		t.Fatal(err)
	}
	before := len(storedSeqs(t, srv, "logs-*"))
	restart := time.Now()
	exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(dir), elasticsearch.WithSpoolMode(mode))
	waitReplayed(t, exp, 60*time.Second)
	recovered := time.Since(restart)
	stored := storedSeqs(t, srv, "logs-*")
	for seq, n := range stored {
		if n != 1 {
			t.Errorf("seq %d stored %d times, want once", seq, n)
		}
		// Record `accepted` may have been accepted, its number not yet
		// printed when the kill came.
		if seq < 0 || seq > accepted {
			t.Errorf("seq %d stored, but the child accepted 0..%d", seq, accepted)
		}
	}
	for _, seq := range spooled {
		if stored[seq] == 0 {
			t.Errorf("seq %d was in the spool but is not stored", seq)
		}
	}
	lost := 0
	for seq := 0; seq < accepted; seq++ {
		if stored[seq] == 0 {
			lost++
		}
	}
	// The restarted exporter counts each replayed record once: what the
	// spool held is Recovered, all of it Replayed, and Replayed splits
	// into what it stored (Delivered) and what the killed process had
	// stored already but not yet removed from the spool (Duplicates).
	s := exp.Stats()
	if s.Recovered != int64(len(spooled)) || s.Replayed != s.Recovered || s.Produced != 0 ||
		s.Delivered+s.Duplicates+s.DeadLettered != s.Replayed || s.Delivered != int64(len(stored)-before) ||
		s.Dropped.Total() != 0 || s.InFlight != 0 {
		t.Errorf("got %+v after the restart, want recovered = replayed = %d records in the spool = delivered + duplicates, delivered = %d newly stored, nothing dropped",
			s, len(spooled), len(stored)-before)
	}
	t.Logf("%s: %d records accepted before SIGKILL, %d stored before it, %d replayed from the spool (%d already stored, %d torn records), %d unique stored, %d lost, %v to replay the spool",
		t.Name(), accepted, before, s.Replayed, s.Duplicates, s.SpoolCorrupt, len(stored), lost, recovered.Round(time.Millisecond))
	if mode == elasticsearch.SpoolAlways && lost != 0 {
		t.Errorf("%d of %d accepted records lost in SpoolAlways mode, want none", lost, accepted)
	}

	// A second restart replays nothing again.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	again := faultExporter(t, srv, elasticsearch.WithSpoolDir(dir), elasticsearch.WithSpoolMode(mode))
	flush(t, again)
	if s := again.Stats(); s.Recovered != 0 || s.Replayed != 0 || len(storedSeqs(t, srv, "logs-*")) != len(stored) || len(srv.Docs("logs-*")) != len(stored) {
		t.Errorf("a second restart recovered %d, replayed %d records; want none", s.Recovered, s.Replayed)
	}
}

// spoolWith writes one item into a spool directory, as a crashed run
// would have left it.
func spoolWith(t *testing.T, dir, index, id, source string) {
	t.Helper()
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"create":{"_index":` + strconv.Quote(index) + `,"_id":` + strconv.Quote(id) + "}}\n" + source + "\n"
	if err := sp.Append(1, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
}
