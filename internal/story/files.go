package story

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Files is a Source over NDJSON files: the ones exporter/file writes
// (every *.ndjson file of a directory, rotated ones included) and any file
// of JSON log lines (a service's captured console output). Lines that are
// not JSON objects are skipped.
type Files struct {
	inputs   []input
	desc     string
	coverage Coverage
	covered  bool
}

type input struct {
	name string
	data []byte // standard input, read once; nil for a file
}

// Coverage is what the files hold, for the message when an ID is not
// there.
type Coverage struct {
	// Files and Docs count the files and their JSON documents; Skipped
	// counts files of a directory that hold no JSON documents.
	Files, Docs, Skipped int
	// First and Last are the earliest and latest @timestamp seen.
	First, Last time.Time
}

// probeLines is how many non-empty lines of a file are tried before it is
// declared not to be NDJSON.
const probeLines = 100

// OpenFiles checks the directories and files and returns a Source over
// them. A path "-" is standard input (read here, once). Errors are *Error
// values of kind ErrSource that say what to do.
func OpenFiles(dirs, paths []string, stdin io.Reader) (*Files, error) {
	f := &Files{}
	for _, d := range dirs {
		if err := f.addDir(d); err != nil {
			return nil, err
		}
	}
	for _, p := range paths {
		if err := f.addFile(p, stdin); err != nil {
			return nil, err
		}
	}
	f.coverage.Files = len(f.inputs)
	f.desc = describe(dirs, paths, len(f.inputs))
	return f, nil
}

func describe(dirs, paths []string, n int) string {
	var where []string
	for _, d := range dirs {
		where = append(where, d)
	}
	for _, p := range paths {
		if p == "-" {
			p = "standard input"
		}
		where = append(where, p)
	}
	if len(dirs) == 0 && len(paths) == 1 {
		return where[0]
	}
	return fmt.Sprintf("%d %s in %s", n, plural(n, "file"), strings.Join(where, ", "))
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

const hintDir = "Point --dir at the directory your services write to (their GLASSBOX_FILE_DIR); " +
	"exporter/file writes logs-<service>-<namespace>.ndjson and traces-<service>-<namespace>.ndjson there."

func (f *Files) addDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return &Error{Kind: ErrSource, Msg: "cannot read directory " + dir, Hint: hintDir, Err: unwrapPath(err)}
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".ndjson") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return &Error{Kind: ErrSource, Msg: "no *.ndjson files in " + dir, Hint: hintDir}
	}
	added := 0
	for _, n := range names {
		p := filepath.Join(dir, n)
		switch err := probe(p, nil); {
		case err == nil:
			f.inputs = append(f.inputs, input{name: p})
			added++
		case errors.Is(err, errEmpty):
		default:
			f.coverage.Skipped++
		}
	}
	if added == 0 {
		if f.coverage.Skipped > 0 {
			return &Error{Kind: ErrSource, Msg: "the *.ndjson files in " + dir + " hold no JSON documents", Hint: hintDir}
		}
		return &Error{Kind: ErrSource, Msg: "the *.ndjson files in " + dir + " are empty: nothing was written there yet",
			Hint: "Send the request again with the services running with GLASSBOX_FILE_DIR=" + dir + "; documents reach the files within milliseconds, and all of them by the time a service shuts down."}
	}
	return nil
}

const hintFile = "Pass a file of JSON lines: the *.ndjson files exporter/file writes (GLASSBOX_FILE_DIR), or a service's console output with GLASSBOX_LOG_FORMAT=json."

func (f *Files) addFile(p string, stdin io.Reader) error {
	in := input{name: p}
	if p == "-" {
		in.name = "standard input"
		if stdin == nil {
			stdin = strings.NewReader("")
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			return &Error{Kind: ErrSource, Msg: "cannot read standard input", Hint: hintFile, Err: err}
		}
		in.data = data
	}
	switch err := probe(p, in.data); {
	case err == nil:
	case errors.Is(err, errEmpty):
		return &Error{Kind: ErrSource, Msg: in.name + " is empty", Hint: hintFile}
	case errors.Is(err, errNotNDJSON):
		return &Error{Kind: ErrSource, Msg: in.name + " holds no JSON documents (its first lines are not JSON objects)", Hint: hintFile}
	default:
		return &Error{Kind: ErrSource, Msg: "cannot read " + in.name, Hint: hintFile, Err: unwrapPath(err)}
	}
	f.inputs = append(f.inputs, in)
	return nil
}

var (
	errEmpty     = errors.New("empty")
	errNotNDJSON = errors.New("not NDJSON")
)

// probe reports whether a file (or data) is usable: readable, not empty,
// one of its first lines a JSON object.
func probe(path string, data []byte) error {
	var r io.Reader = bytes.NewReader(data)
	if data == nil {
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		r = fh
	}
	tried, any := 0, false
	err := eachLine(r, func(_ int, line []byte) bool {
		if len(bytes.TrimSpace(line)) == 0 {
			return true
		}
		any = true
		tried++
		if _, err := newDoc("", line); err == nil {
			tried = -1
			return false
		}
		return tried < probeLines
	})
	switch {
	case err != nil:
		return err
	case tried == -1:
		return nil
	case !any:
		return errEmpty
	}
	return errNotNDJSON
}

// unwrapPath drops the operation and path of an *fs.PathError, which the
// message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Describe implements Source.
func (f *Files) Describe() string { return f.desc }

// Coverage returns what the files hold; it is known after the first
// Search.
func (f *Files) Coverage() Coverage { return f.coverage }

// Search implements Source: it reads every file, keeping the lines that
// mention one of the query's IDs and answer it.
func (f *Files) Search(ctx context.Context, q Query, fn func(Doc) bool) error {
	terms := q.terms()
	count := !f.covered
	f.covered = true
	for _, in := range f.inputs {
		stop, err := f.searchOne(ctx, in, q, terms, count, fn)
		if err != nil {
			return err
		}
		if stop || ctx.Err() != nil {
			break
		}
	}
	return ctx.Err()
}

func (f *Files) searchOne(ctx context.Context, in input, q Query, terms [][]byte, count bool, fn func(Doc) bool) (stop bool, err error) {
	var r io.Reader = bytes.NewReader(in.data)
	if in.data == nil {
		fh, err := os.Open(in.name)
		if err != nil {
			return false, &Error{Kind: ErrSource, Msg: "cannot read " + in.name, Hint: hintFile, Err: unwrapPath(err)}
		}
		defer fh.Close()
		r = fh
	}
	err = eachLine(r, func(n int, line []byte) bool {
		if ctx.Err() != nil {
			return false
		}
		if count {
			f.cover(line)
		}
		if !containsAny(line, terms) {
			return true
		}
		d, err := newDoc(fmt.Sprintf("%s:%d", in.name, n), line)
		if err != nil || !q.matches(d) {
			return true
		}
		if !fn(d) {
			stop = true
		}
		return !stop
	})
	if err != nil {
		return false, &Error{Kind: ErrSource, Msg: "cannot read " + in.name, Hint: hintFile, Err: err}
	}
	return stop, nil
}

// cover counts a line for Coverage, reading @timestamp from the line's
// start where glassbox writes it (no JSON decoding).
func (f *Files) cover(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return
	}
	f.coverage.Docs++
	const pfx = `{"@timestamp":"`
	if !bytes.HasPrefix(line, []byte(pfx)) {
		return
	}
	rest := line[len(pfx):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:end]))
	if err != nil {
		return
	}
	if f.coverage.First.IsZero() || t.Before(f.coverage.First) {
		f.coverage.First = t
	}
	if t.After(f.coverage.Last) {
		f.coverage.Last = t
	}
}

func containsAny(line []byte, terms [][]byte) bool {
	for _, t := range terms {
		if bytes.Contains(line, t) {
			return true
		}
	}
	return false
}

// eachLine calls fn with every line of r (without its '\n'), numbered from
// 1, whatever its length, until fn returns false.
func eachLine(r io.Reader, fn func(n int, line []byte) bool) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for n := 1; ; {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			if !fn(n, bytes.TrimSuffix(line, []byte{'\n'})) {
				return nil
			}
			n++
		}
		long = nil
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
