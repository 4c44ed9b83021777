package log

import (
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// Service identifies the program every document comes from. Empty fields
// are left out of documents, except as Fill sets them.
type Service struct {
	// Name is service.name.
	Name string
	// Version is service.version.
	Version string
	// Environment is service.environment (OTel: deployment.environment.name).
	Environment string
	// HostName is host.name; Fill sets it from os.Hostname.
	HostName string
	// Dataset is event.dataset and the dataset of the data streams
	// (logs-<dataset>-<namespace>); Fill derives it from Name.
	Dataset string
	// Namespace is the data stream namespace; Fill sets "default".
	Namespace string
}

// Fill sets HostName, Dataset and Namespace when they are empty. The dataset
// is Name lowercased with every character Elasticsearch forbids in a data
// stream name (and '-', which separates its parts) replaced by '_'.
func (s *Service) Fill() {
	if s.HostName == "" {
		s.HostName, _ = os.Hostname()
	}
	if s.Dataset == "" {
		s.Dataset = DatasetName(s.Name)
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
}

// DatasetName turns a service name into a valid data stream dataset:
// lowercase, at most 100 bytes, with characters other than a-z, 0-9, '_'
// and '.' replaced by '_'. An empty name gives "generic".
func DatasetName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	s := strings.TrimLeft(b.String(), "_.")
	if s == "" {
		return "generic"
	}
	return s
}

// ResourceAttributes returns the service as OpenTelemetry resource
// attributes (service.name, service.version, deployment.environment.name,
// host.name), leaving out empty ones.
func (s Service) ResourceAttributes() []attribute.KeyValue {
	var kv []attribute.KeyValue
	add := func(k, v string) {
		if v != "" {
			kv = append(kv, attribute.String(k, v))
		}
	}
	add("service.name", s.Name)
	add("service.version", s.Version)
	add("deployment.environment.name", s.Environment)
	add("host.name", s.HostName)
	return kv
}
