package doctor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkDeadLetter looks for documents Elasticsearch rejected for good in
// the exporter's dead-letter file.
func checkDeadLetter(t *esTarget) Result {
	r := Result{Name: CheckDeadLetter}
	if t.skip != "" {
		r.Status, r.Summary = Skip, t.skip
		return r
	}
	f, err := os.Open(t.deadLetter)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		r.Status, r.Summary = Pass, "no dead-letter file ("+t.deadLetter+"): nothing was rejected"
		return r
	case err != nil:
		r.Status, r.Summary = Warn, t.deadLetter+": "+safe(pathErr(err).Error())
		return r
	}
	defer f.Close()
	n, last := 0, ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			n++
			last = string(line)
		}
	}
	if n == 0 {
		r.Status, r.Summary = Pass, t.deadLetter+": empty"
		return r
	}
	r.Status = Warn
	r.Summary = fmt.Sprintf("%s: %s rejected by Elasticsearch", t.deadLetter, plural(n, "document", "documents"))
	r.Details = []string{"the latest: " + safe(deadLetterReason(last))}
	r.Fix = "each line holds Elasticsearch's reason and the document; see \"Reading the dead-letter file\" in the README to re-ingest them"
	return r
}

// deadLetterReason summarises one line of the dead-letter file:
// Elasticsearch's status and reason, and the data stream.
func deadLetterReason(line string) string {
	var v struct {
		Status int `json:"status"`
		Error  struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
		Action map[string]struct {
			Index string `json:"_index"`
		} `json:"action"`
	}
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return "a line that is not JSON"
	}
	index := ""
	for _, a := range v.Action {
		index = a.Index
	}
	return fmt.Sprintf("%s: HTTP %d %s: %s", index, v.Status, v.Error.Type, v.Error.Reason)
}
