// Package w3ctest holds the cases of the public W3C Trace Context
// validation suite (w3c/trace-context, test/test.py) as Go data, under the
// current rules of the specification, with the check the suite's harness
// makes on the call a service makes after receiving the headers. The
// propagator's tests, the HTTP middleware's and the gRPC interceptors'
// drive the same table; the fuzz targets of both share its oracle of
// what inbound baggage a service should see. Only tests import it.
package w3ctest
