// Package spool is an on-disk, bounded, oldest-first queue of records in
// segment files, for batches that could not be delivered yet, and the
// write-ahead journals of batches not sent yet. Each record is
// length-prefixed and checksummed; a torn or corrupt tail (a crash in the
// middle of a write) is truncated and counted, the records before it kept.
//
// The one call most code needs:
//
//	sp, err := spool.Open(dir, spool.Options{MaxBytes: 1 << 30})
package spool
