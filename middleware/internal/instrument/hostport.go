package instrument

import (
	"strconv"
	"strings"
)

// SplitHostPort splits a Host header or :authority value; port is 0 when
// absent or bad. Brackets around an IPv6 address are removed.
func SplitHostPort(hostport string) (string, int) {
	if hostport == "" {
		return "", 0
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.IndexByte(hostport[i:], ']') >= 0 {
		return strings.Trim(hostport, "[]"), 0
	}
	port, err := strconv.Atoi(hostport[i+1:])
	if err != nil || port <= 0 || port > 65535 {
		port = 0
	}
	return strings.Trim(hostport[:i], "[]"), port
}
