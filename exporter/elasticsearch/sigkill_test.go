package elasticsearch_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
)

// childMain runs in the re-executed test binary: it writes numbered records
// forever through an exporter with a spool, until it is killed.
func childMain() int {
	exp, err := elasticsearch.New(
		elasticsearch.WithAddresses(os.Getenv(childURLEnv)),
		elasticsearch.WithService(log.Service{Name: "svc", Dataset: "svc", Namespace: "default", HostName: "h"}),
		elasticsearch.WithSpoolDir(os.Getenv(childSpoolEnv)),
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
	for i := 0; ; i++ {
		e := &log.Entry{Time: time.Now(), Doc: []byte(fmt.Sprintf(`{"@timestamp":%s,"message":"m","seq":%d,"pad":"%s"}`+"\n", ts(i), i, strings.Repeat("z", 100)))}
		_ = sink.Write(nil, e)
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

func TestSIGKILLWithSpoolIndexesEverySpooledRecordOnce(t *testing.T) {
	srv := estest.New(t)
	if err := srv.SetRefused(true); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childURLEnv+"="+srv.URL(), childSpoolEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the child to spool records", func() bool { return dirSize(dir) > 256<<10 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
	want := spooledSeqs(t, dir)
	if len(want) == 0 {
		t.Fatal("nothing reached the spool")
	}
	if err := srv.SetRefused(false); err != nil {
		t.Fatal(err)
	}
	exp := faultExporter(t, srv, elasticsearch.WithSpoolDir(dir))
	waitFor(t, 60*time.Second, "the spool to be replayed", func() bool {
		s := exp.Stats()
		return s.Delivered+s.Duplicates >= int64(len(want)) && s.SpooledBytes == 0
	})
	assertExactlyOnce(t, storedSeqs(t, srv, "logs-*"), want)
	t.Logf("%d records spooled before SIGKILL, all indexed once (torn tail records dropped: %d)", len(want), exp.Stats().SpoolCorrupt)
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
