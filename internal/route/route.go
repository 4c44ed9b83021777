package route

import "strings"

// FromPattern returns the path part of a ServeMux pattern
// ("[METHOD ][HOST]/[PATH]"): the method, the white space after it and the
// host are dropped, the wildcards kept ("GET example.com/users/{id}" ->
// "/users/{id}"). It splits where ServeMux does (the first space or tab),
// so any pattern ServeMux accepts gives its path. A string that is not a
// pattern (no "/") is returned without its method; "" stays "".
func FromPattern(p string) string {
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i+1:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i > 0 {
		p = p[i:]
	}
	return p
}
