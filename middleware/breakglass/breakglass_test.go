package breakglass_test

import (
	"strings"
	"testing"
	"time"

	"github.com/glassbox-obs/glassbox/middleware/breakglass"
)

func TestNewRefuses(t *testing.T) {
	good := breakglass.Key{ID: "ops", Secret: []byte("0123456789abcdef")}
	for name, keys := range map[string][]breakglass.Key{
		"no key":       nil,
		"short secret": {{ID: "ops", Secret: []byte("short")}},
		"bad ID":       {{ID: "o p s", Secret: good.Secret}},
		"twice":        {good, good},
	} {
		if _, err := breakglass.New("svc", keys, 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := breakglass.Mint(good, 0, "", ""); err == nil {
		t.Error("Mint with a zero TTL: no error")
	}
	var nilV *breakglass.Verifier
	if nilV.Stats() != (breakglass.Stats{}) {
		t.Error("a nil Verifier has counts")
	}
}

func TestParseKeysHidesSecrets(t *testing.T) {
	_, err := breakglass.ParseKeys("ops:c2VjcmV0LXNob3J0")
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("got %v, want an error that does not show the secret", err)
	}
	keys, err := breakglass.ParseKeys("a:MDEyMzQ1Njc4OWFiY2RlZg,b:ZmVkY2JhOTg3NjU0MzIxMA==")
	if err != nil || len(keys) != 2 || keys[1].ID != "b" || string(keys[1].Secret) != "fedcba9876543210" {
		t.Errorf("got %v, %v", keys, err)
	}
	if _, err := breakglass.New("svc", keys, 5*time.Minute); err != nil {
		t.Error(err)
	}
}
