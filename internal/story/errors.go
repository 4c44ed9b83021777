package story

// ErrorKind classifies a failure to search, so that the command can choose
// its exit code and its advice.
type ErrorKind int

const (
	// ErrSource: the files cannot be used (missing, empty, not NDJSON).
	ErrSource ErrorKind = iota + 1
	// ErrUnreachable: Elasticsearch did not answer.
	ErrUnreachable
	// ErrUnauthorized: Elasticsearch refused the credentials (401, 403).
	ErrUnauthorized
	// ErrNoData: Elasticsearch answered but holds no logs-* or traces-*
	// data stream yet.
	ErrNoData
	// ErrBackend: Elasticsearch answered with another error.
	ErrBackend
)

// Error is a failure with what to do about it.
type Error struct {
	Kind ErrorKind
	// Msg says what went wrong, Hint what to do; both are one sentence
	// or two, for a terminal.
	Msg, Hint string
	// Err is the underlying error, if any.
	Err error
}

// Error is Msg, followed by the underlying error when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
