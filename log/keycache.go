package log

import (
	"math/bits"
	"strings"
	"sync/atomic"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// keyVerdict is what the handler works out about an attribute key on its
// own: whether the redactor matches it, and how ecs.Keys writes it. It
// depends on nothing else, so it can be worked out once per key.
type keyVerdict struct {
	key    string
	words  keyWords
	redact bool
	info   ecs.KeyInfo
}

// keyCache remembers the verdicts of the keys a handler sees, so that a
// program's attribute keys, the same few over and over, are checked once
// each rather than on every record.
//
// It is a set-associative table of immutable entries, safe for concurrent
// use: a lookup reads the key's first and last eight bytes, hashes them
// with its length, and compares them with those of a set's entries (and
// the whole key, when longer than 16 bytes); it never allocates. Its size
// is fixed, and so is what it can ever allocate: keyCacheSets*keyCacheWays
// entries, each taken in once and kept for the handler's life. A key not
// in the table is checked in full, as without the cache, and taken in
// (one allocation) only while its set has a free way and its set's
// doorkeeper (a small filter of the keys that missed there lately) has
// seen it before: keys made up per record ("user_8841") so mostly stay
// out and leave the room to keys that come back.
type keyCache struct {
	sets [keyCacheSets]keySet
}

const (
	keyCacheSets = 128 // a power of two
	keyCacheWays = 4
	// doorFull is how many bits a doorkeeper holds before it is cleared,
	// so that it keeps admitting only keys seen twice in a short while.
	doorFull = 12
)

type keySet struct {
	ways [keyCacheWays]atomic.Pointer[keyVerdict]
	door atomic.Uint64 // two bits per key that missed here lately
}

// verdict returns the verdict for key under redactor r (which must be the
// same on every call): from the table, or worked out into scratch.
func (c *keyCache) verdict(key string, r *Redactor, scratch *keyVerdict) *keyVerdict {
	// The key's words (see keyWords), read here rather than in a function
	// of their own: the call would cost as much as the reading.
	var w keyWords
	switch n := len(key); {
	case n >= 8:
		w = keyWords{n, load64(key, 0), load64(key, n-8)}
	case n >= 4:
		w = keyWords{n, uint64(load32(key, 0)) | uint64(load32(key, n-4))<<32, 0}
	case n > 0:
		w = keyWords{n, uint64(key[0]) | uint64(key[n/2])<<8 | uint64(key[n-1])<<16, 0}
	}
	h := w.hash()
	set := &c.sets[h>>(64-7)]
	for i := range set.ways {
		v := set.ways[i].Load()
		if v == nil {
			break // ways fill in order
		}
		if v.words == w && (w.n <= 16 || v.key == key) {
			return v
		}
	}
	*scratch = keyVerdict{key: key, words: w, redact: r.Match(key), info: ecs.InspectKey(key)}
	if set.ways[keyCacheWays-1].Load() != nil {
		return scratch // full
	}
	door := uint64(1)<<(h&63) | uint64(1)<<(h>>6&63)
	if old := set.door.Or(door); old&door != door {
		if bits.OnesCount64(old|door) >= doorFull {
			set.door.Store(door) // start over, from this key
		}
		return scratch // first miss lately: not taken in yet
	}
	v := &keyVerdict{key: strings.Clone(key), words: w, redact: scratch.redact, info: scratch.info}
	for i := range set.ways {
		if set.ways[i].CompareAndSwap(nil, v) {
			return v
		}
	}
	return scratch // filled meanwhile
}

// keyWords are a key's length and its first and last eight bytes (for
// keys of 4 to 7 bytes the first and last four, for shorter ones the
// first, middle and last byte: all of their bytes), read as integers.
// Keys of up to 16 bytes with equal keyWords are equal.
type keyWords struct {
	n      int
	w0, w1 uint64
}

// hash mixes w into 64 bits; the cache uses the top bits for the set. It
// is not seeded: a caller choosing keys that collide only makes them miss
// the cache.
func (w keyWords) hash() uint64 {
	const m = 0x9e3779b97f4a7c15
	h := (w.w0 ^ bits.RotateLeft64(w.w1, 31) ^ uint64(w.n)) * m
	h ^= h >> 29
	return h * m
}
