package log

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/glassbox-obs/glassbox/internal/ecs"
)

// verdictOf is what the cache must return for key: the rules applied
// afresh.
func verdictOf(key string, r *Redactor) (bool, string) {
	ki := ecs.InspectKey(key)
	var k ecs.Keys
	return r.Match(key), string(k.AppendKeyInfo(nil, key, &ki, true))
}

func checkVerdict(t *testing.T, c *keyCache, r *Redactor, key string) {
	t.Helper()
	var scratch keyVerdict
	v := c.verdict(key, r, &scratch)
	var k ecs.Keys
	got := string(k.AppendKeyInfo(nil, v.key, &v.info, true))
	wantRedact, want := verdictOf(key, r)
	if v.key != key || v.redact != wantRedact || got != want {
		t.Fatalf("verdict(%q) = key %q, redact %v, writes %s; want redact %v, writes %s", key, v.key, v.redact, got, wantRedact, want)
	}
}

// The cache answers as the rules do, also for keys it holds, for keys that
// share its set and for long keys that agree in length and in their first
// and last eight bytes.
func TestKeyCacheVerdictsAreTheRules(t *testing.T) {
	r := NewRedactor()
	keys := []string{
		"user", "password", "db_password", "passwords", "message", "_id", "", " ", "a..b", "x\xff",
		"k", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "order_id", "authorised_at", "api_key",
		"authorization.zzzzzzzz", "authorizXtion.zzzzzzzz", // same length, first and last 8 bytes
		"token.middle.aaaaaaaa", "tokenXmiddle.aaaaaaaa",
	}
	c := new(keyCache)
	for round := 0; round < 4; round++ { // taken in from the second miss on
		for _, k := range keys {
			checkVerdict(t, c, r, k)
		}
	}
	// In the other order too, now that both long twins are held.
	for i := len(keys) - 1; i >= 0; i-- {
		checkVerdict(t, c, r, keys[i])
	}
}

func (c *keyCache) entries() int {
	n := 0
	for i := range c.sets {
		for j := range c.sets[i].ways {
			if c.sets[i].ways[j].Load() != nil {
				n++
			}
		}
	}
	return n
}

// However many keys it sees, the cache holds at most its fixed number of
// entries, answers right for all of them, and allocates nothing for keys
// it holds.
func TestKeyCacheIsBounded(t *testing.T) {
	r := NewRedactor()
	c := new(keyCache)
	for i := 0; i < 5000; i++ {
		for _, k := range []string{fmt.Sprintf("field_%d", i), fmt.Sprintf("secret_%d", i)} {
			for range 3 { // seen again at once: taken in while there is room
				checkVerdict(t, c, r, k)
			}
		}
	}
	if n, max := c.entries(), keyCacheSets*keyCacheWays; n != max {
		t.Errorf("%d entries, want %d (full, and no more)", n, max)
	}
	var scratch keyVerdict
	held := c.sets[1].ways[3].Load().key
	if a := testing.AllocsPerRun(100, func() { c.verdict(held, r, &scratch) }); a != 0 {
		t.Errorf("a held key: %v allocs per lookup, want 0", a)
	}
	full := "field_not_held_" + strings.Repeat("x", 20)
	if a := testing.AllocsPerRun(100, func() { c.verdict(full, r, &scratch) }); a != 0 {
		t.Errorf("a key the full cache cannot take: %v allocs per lookup, want 0", a)
	}
}

// Keys made up per record (seen once each) mostly stay out of the cache:
// they cost no allocation and leave the room to keys that come back.
func TestKeyCacheDoorkeeper(t *testing.T) {
	r := NewRedactor()
	c := new(keyCache)
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("user_%d", i)
	}
	var scratch keyVerdict
	allocs := testing.AllocsPerRun(1, func() {
		for _, k := range keys {
			c.verdict(k, r, &scratch)
		}
	})
	if allocs > float64(len(keys))/10 {
		t.Errorf("%v allocations for %d keys seen once, want at most a tenth", allocs, len(keys))
	}
	c.verdict("steady", r, &scratch)
	if v := c.verdict("steady", r, &scratch); v == &scratch {
		t.Errorf("a key seen twice in a row was not taken in")
	}
}

// Goroutines logging the same keys at once through one cache get the
// rules' verdicts (run with -race).
func TestKeyCacheConcurrent(t *testing.T) {
	r := NewRedactor("user")
	c := new(keyCache)
	keys := []string{"user", "password", "a", "b", "message", "api_key", "order_id", "x.y", "", "authorization.zzzzzzzz", "authorizXtion.zzzzzzzz"}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch keyVerdict
			for i := 0; i < 300; i++ {
				k := keys[(i+g)%len(keys)]
				v := c.verdict(k, r, &scratch)
				if wantRedact, _ := verdictOf(k, r); v.key != k || v.redact != wantRedact {
					t.Errorf("verdict(%q): key %q, redact %v", k, v.key, v.redact)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Each handler's cache follows its own redactor: a key one redacts and
// another does not stays so through both, however often it is logged.
func TestKeyCachePerHandler(t *testing.T) {
	var b1, b2 bytes.Buffer
	l1 := slog.New(NewHandler(WithWriter(&b1), WithRedactKeys("user")))
	l2 := slog.New(NewHandler(WithWriter(&b2)))
	for i := 0; i < 5; i++ {
		l1.Info("m", "user", "u-1")
		l2.Info("m", "user", "u-1")
	}
	if strings.Contains(b1.String(), "u-1") || strings.Count(b1.String(), Redacted) != 5 {
		t.Errorf("WithRedactKeys(\"user\"): %s", b1.String())
	}
	if strings.Count(b2.String(), `"user":"u-1"`) != 5 {
		t.Errorf("default redactor: %s", b2.String())
	}
}
