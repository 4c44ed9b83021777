package instrument

import "github.com/glassbox-obs/glassbox/trace"

// Attribute and log field names glassbox adds to the semantic conventions;
// package middleware exports them.
const (
	AttrCorrelationID         = trace.CorrelationAttribute
	AttrCorrelationIDRejected = "correlation.id_rejected"
	AttrErrorID               = "error.id"
)

// AccessMessage is the message of the access record of a request or call.
const AccessMessage = "request completed"
