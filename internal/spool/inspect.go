package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Usage is what a spool directory holds, as Inspect sees it.
type Usage struct {
	// Segments is the number of segment files, the journals of a running
	// process included; Bytes their total size.
	Segments int
	Bytes    int64
	// Records and Items count the good records of those files and the
	// items they hold; a torn or corrupt tail is not counted.
	Records, Items int64
	// Oldest is the modification time of the oldest segment file; zero
	// when there is none.
	Oldest time.Time
}

// Inspect reports what the spool directory dir holds without changing
// anything: unlike Open it neither creates the directory nor truncates a
// torn tail, so it is safe next to a process that has the spool open (a
// segment being written may then show a partial last record, not
// counted). A directory that does not exist holds nothing: Inspect
// returns an error wrapping fs.ErrNotExist.
func Inspect(dir string) (Usage, error) {
	var u Usage
	ents, err := os.ReadDir(dir)
	if err != nil {
		return u, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered and removed since ReadDir
		}
		if err != nil {
			return u, fmt.Errorf("spool: %w", err)
		}
		_, recs, items := scan(data, nil)
		u.Segments++
		u.Bytes += int64(len(data))
		u.Records += recs
		u.Items += items
		if fi, err := e.Info(); err == nil && (u.Oldest.IsZero() || fi.ModTime().Before(u.Oldest)) {
			u.Oldest = fi.ModTime()
		}
	}
	return u, nil
}
