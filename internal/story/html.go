package story

import "io"

// HTMLOptions shape the page.
type HTMLOptions struct {
	KibanaURL string
}

// WriteHTML writes s as one self-contained page.
func WriteHTML(w io.Writer, s *Story, o HTMLOptions) error { return nil }
