package sentry

import (
	"crypto/rand"
	"encoding/hex"
	"runtime/debug"
	"sync"
	"time"
)

// The event payload: the part of Sentry's event protocol
// (https://develop.sentry.dev/sdk/data-model/event-payloads/) glassbox
// sends. Events are built on the reporting goroutine, scrubbed as they are
// built, and marshalled once; nothing changes them afterwards.

// platform is the event's platform: Sentry shows Go frames for it.
const platform = "go"

// sdkName identifies the events glassbox sends.
const sdkName = "glassbox.go"

type event struct {
	EventID     string                    `json:"event_id"`
	Timestamp   time.Time                 `json:"timestamp"`
	Platform    string                    `json:"platform"`
	Level       string                    `json:"level"`
	Transaction string                    `json:"transaction,omitempty"`
	ServerName  string                    `json:"server_name,omitempty"`
	Release     string                    `json:"release,omitempty"`
	Environment string                    `json:"environment,omitempty"`
	SDK         sdkInfo                   `json:"sdk"`
	Tags        map[string]string         `json:"tags,omitempty"`
	Contexts    map[string]map[string]any `json:"contexts,omitempty"`
	Exception   *exceptionList            `json:"exception,omitempty"`
	Breadcrumbs *breadcrumbList           `json:"breadcrumbs,omitempty"`
	Request     *request                  `json:"request,omitempty"`
	User        *user                     `json:"user,omitempty"`
	Fingerprint []string                  `json:"fingerprint,omitempty"`
}

type sdkInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Levels of events and breadcrumbs.
const (
	levelDebug   = "debug"
	levelInfo    = "info"
	levelWarning = "warning"
	levelError   = "error"
	levelFatal   = "fatal"
)

type exceptionList struct {
	Values []exception `json:"values"`
}

// exception is one error of the chain. Sentry lists the root cause first
// and the outermost error last.
type exception struct {
	Type       string      `json:"type"`
	Value      string      `json:"value"`
	Stacktrace *stacktrace `json:"stacktrace,omitempty"`
	Mechanism  *mechanism  `json:"mechanism,omitempty"`
}

// Mechanism types and sources of a chain (as Sentry's SDKs write them).
const (
	mechanismGeneric = "generic"
	mechanismChained = "chained"
	mechanismPanic   = "panic"
	sourceUnwrap     = "unwrap"
	sourceCause      = "cause"
)

// mechanism links the exceptions of a chain: IDs are positions in
// depth-first order, the outermost error 0.
type mechanism struct {
	Type             string `json:"type"`
	Source           string `json:"source,omitempty"`
	Handled          *bool  `json:"handled,omitempty"`
	ExceptionID      int    `json:"exception_id"`
	ParentID         *int   `json:"parent_id,omitempty"`
	IsExceptionGroup bool   `json:"is_exception_group,omitempty"`
}

type stacktrace struct {
	Frames []frame `json:"frames"` // oldest first
}

type frame struct {
	Function string `json:"function,omitempty"`
	Module   string `json:"module,omitempty"` // the Go package path
	Filename string `json:"filename,omitempty"`
	AbsPath  string `json:"abs_path,omitempty"`
	Lineno   int    `json:"lineno,omitempty"`
	InApp    bool   `json:"in_app"`
}

type breadcrumbList struct {
	Values []breadcrumb `json:"values"`
}

type breadcrumb struct {
	Type      string         `json:"type"`
	Category  string         `json:"category"`
	Message   string         `json:"message,omitempty"`
	Level     string         `json:"level"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data,omitempty"`
}

type request struct {
	URL         string            `json:"url,omitempty"`
	Method      string            `json:"method,omitempty"`
	QueryString string            `json:"query_string,omitempty"`
	Cookies     string            `json:"cookies,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
}

type user struct {
	IPAddress string `json:"ip_address,omitempty"`
}

// newEventID returns 32 random hex digits.
func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// sdk is the SDK the events name: glassbox and its module version, read
// from the build information on first use.
var sdk struct {
	once    sync.Once
	version string
}

const modulePath = "github.com/glassbox-obs/glassbox"

func sdkVersion() string {
	sdk.once.Do(func() {
		sdk.version = "devel"
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return
		}
		if bi.Main.Path == modulePath && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			sdk.version = bi.Main.Version
		}
		for _, m := range bi.Deps {
			if m.Path == modulePath && m.Version != "" {
				sdk.version = m.Version
			}
		}
	})
	return sdk.version
}
