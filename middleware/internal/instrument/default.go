package instrument

import "sync/atomic"

// defaultOpts holds the options every Config starts from (SetDefault). It
// is the package's only mutable state: one explicit, atomic default.
var defaultOpts atomic.Pointer[[]Option]

// SetDefault makes opts the options New applies before a constructor's
// own. With none, there is no default. Middleware already built keeps the
// configuration it was built with.
func SetDefault(opts ...Option) {
	if len(opts) == 0 {
		defaultOpts.Store(nil)
		return
	}
	cp := append([]Option(nil), opts...)
	defaultOpts.Store(&cp)
}

// Default returns the options SetDefault installed, a copy; nil when none.
func Default() []Option {
	p := defaultOpts.Load()
	if p == nil {
		return nil
	}
	return append([]Option(nil), (*p)...)
}
