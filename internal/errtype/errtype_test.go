package errtype_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/errtype"
)

type carrier struct{ err error }

func (c *carrier) Error() string { return c.err.Error() }
func (c *carrier) Unwrap() error { return c.err }
func (c *carrier) AttrCarrier()  {}

type cyclic struct{}

func (c *cyclic) Error() string { return "cycle" }
func (c *cyclic) Unwrap() error { return &carrierCycle{c} }

type carrierCycle struct{ c *cyclic }

func (c *carrierCycle) Error() string { return "cycle" }
func (c *carrierCycle) Unwrap() error { return c.c }
func (c *carrierCycle) AttrCarrier()  {}

func TestName(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", pathErr, "*fs.PathError"},
		{"carrier", &carrier{pathErr}, "*fs.PathError"},
		{"carriers around fmt %w", &carrier{&carrier{fmt.Errorf("load: %w", &carrier{pathErr})}}, "*fs.PathError"},
		{"fmt without %w", fmt.Errorf("x %d", 1), "*errors.errorString"},
		{"fmt with two %w", fmt.Errorf("%w %w", pathErr, fs.ErrExist), "*fmt.wrapErrors"},
		{"join", errors.Join(pathErr), "*errors.joinError"},
		{"carrier of nothing", &carrier{}, "*errtype_test.carrier"},
		{"cycle", &cyclic{}, "*errtype_test.cyclic"},
		{"nil", nil, "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errtype.Name(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOfValue(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
	}{{"boom", "string"}, {42, "int"}, {&carrier{fs.ErrClosed}, "*errors.errorString"}, {nil, "<nil>"}} {
		if got := errtype.OfValue(tt.v); got != tt.want {
			t.Errorf("OfValue(%#v): got %q, want %q", tt.v, got, tt.want)
		}
	}
}
