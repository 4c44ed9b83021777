package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/glassbox-obs/glassbox/internal/spool"
)

// checkSpool checks that the spool directory can be written, without
// creating it (a doctor run by another user must not leave a directory
// the service cannot write), and says what it holds.
func checkSpool(dir string) Result {
	r := Result{Name: CheckSpool}
	if dir == "" {
		r.Status, r.Summary = Skip, "GLASSBOX_SPOOL_DIR is not set (an outage longer than the queue loses the newest records)"
		return r
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		parent, err := existingAncestor(dir)
		if err == nil {
			err = writable(parent)
		}
		if err != nil {
			r.Status, r.Summary = Fail, dir+": cannot be created: "+safe(err.Error())
			r.Fix = "point GLASSBOX_SPOOL_DIR at a directory the service may create and write"
			return r
		}
		r.Status, r.Summary = Pass, dir+": does not exist yet; the exporter will create it (in "+parent+", writable)"
		return r
	case err != nil:
		r.Status, r.Summary, r.Fix = Fail, dir+": "+safe(pathErr(err).Error()), "point GLASSBOX_SPOOL_DIR at a directory the service may write"
		return r
	case !fi.IsDir():
		r.Status, r.Summary, r.Fix = Fail, dir+": not a directory", "point GLASSBOX_SPOOL_DIR at a directory"
		return r
	}
	if err := writable(dir); err != nil {
		r.Status, r.Summary, r.Fix = Fail, dir+": not writable: "+safe(err.Error()), "give the service's user write access to GLASSBOX_SPOOL_DIR, or point it elsewhere"
		return r
	}
	u, err := spool.Inspect(dir)
	if err != nil {
		r.Status, r.Summary, r.Fix = Fail, dir+": "+safe(err.Error()), "give the service's user read access to GLASSBOX_SPOOL_DIR"
		return r
	}
	r.Status = Pass
	if u.Segments == 0 {
		r.Summary = dir + ": writable, empty"
		return r
	}
	r.Summary = fmt.Sprintf("%s: writable, holds %d records (%d documents, %s) waiting to be sent", dir, u.Records, u.Items, byteSize(u.Bytes))
	r.Details = []string{
		fmt.Sprintf("%d segment files, the oldest written %s", u.Segments, u.Oldest.UTC().Format(time.RFC3339)),
		"a running service replays them as soon as Elasticsearch accepts documents",
	}
	return r
}

// existingAncestor returns the nearest ancestor of dir that exists; it
// must be a directory.
func existingAncestor(dir string) (string, error) {
	for p := filepath.Dir(filepath.Clean(dir)); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			return p, nil
		case err == nil:
			return "", fmt.Errorf("%s is not a directory", p)
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
		if p == filepath.Dir(p) {
			return "", err
		}
	}
}

// writable creates and removes a file in dir.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".glassbox-doctor-*")
	if err != nil {
		return pathErr(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// pathErr drops the operation and path of a *fs.PathError: the check's
// line names the path already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// byteSize formats n bytes for a person.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
