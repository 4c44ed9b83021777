// Package parallel runs a set of calls side by side: the shutdowns and
// flushes of independent exporters and sinks, so that one that waits for
// its deadline cannot use up the time of the others.
package parallel
