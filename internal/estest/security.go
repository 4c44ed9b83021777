package estest

import (
	"net/http"
	"sort"
	"strings"
)

// The actions Forbid refuses, by their Elasticsearch names.
const (
	ActionMain              = "cluster:monitor/main"                 // GET or HEAD /
	ActionSearch            = "indices:data/read/search"             // _search, _count
	ActionOpenPIT           = "indices:data/read/open_point_in_time" // POST <index>/_pit
	ActionPutIndexTemplate  = "indices:admin/index_template/put"
	ActionGetIndexTemplate  = "indices:admin/index_template/get"
	ActionPutComponent      = "cluster:admin/component_template/put"
	ActionGetComponent      = "cluster:admin/component_template/get"
	ActionPutILMPolicy      = "cluster:admin/ilm/put"
	ActionGetILMPolicy      = "cluster:admin/ilm/get"
	noIndices               = "\x00*" // an expression that matches no index
	clusterPrivilegesPrefix = ", this action is granted by the cluster privileges ["
)

// privileges are, per action, the privileges that grant it, in the order
// Elasticsearch names them in its refusal; index actions grant index
// privileges, the others cluster privileges.
var privileges = map[string]string{
	ActionMain:             "monitor,manage,all",
	ActionSearch:           "read,all",
	ActionOpenPIT:          "read,all",
	ActionPutIndexTemplate: "manage_index_templates,manage,all",
	ActionGetIndexTemplate: "read_ilm,manage_index_templates,monitor,manage,all",
	ActionPutComponent:     "manage_index_templates,manage,all",
	ActionGetComponent:     "manage_index_templates,monitor,manage,all",
	ActionPutILMPolicy:     "manage_ilm,manage,all",
	ActionGetILMPolicy:     "read_ilm,manage_ilm,manage,all",
}

// forbidden is the state of Forbid; s.mu guards it.
type forbidden struct {
	user, role string
	actions    map[string]bool
}

// Forbid makes the server treat every authenticated request as coming
// from user, whose only role is role, lacking the privileges for these
// actions (the Action* constants). A refused request is answered as
// Elasticsearch's security answers it: HTTP 403 with a security_exception
// whose reason names the action, the user, the role, the indices and the
// privileges that would grant it. An index action on a wildcard
// expression is not refused: as in Elasticsearch (allow_no_indices), the
// wildcard resolves to the indices the user may read, none, and the
// answer is empty. Forbid with no action lifts the restriction.
func (s *Server) Forbid(user, role string, actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = forbidden{user: user, role: role, actions: map[string]bool{}}
	for _, a := range actions {
		if _, ok := privileges[a]; !ok {
			panic("estest: Forbid: unknown action " + a)
		}
		s.deny.actions[a] = true
	}
}

// actionOf names the action of a request, "" for one Forbid does not
// know; index is the index expression of an index action.
func actionOf(method string, parts []string) (action, index string) {
	last := parts[len(parts)-1]
	read := method == http.MethodGet || method == http.MethodHead
	switch {
	case len(parts) == 1 && parts[0] == "":
		return ActionMain, ""
	case last == "_search" || last == "_count":
		if len(parts) == 2 {
			index = parts[0]
		}
		return ActionSearch, index
	case len(parts) == 2 && last == "_pit" && method == http.MethodPost:
		return ActionOpenPIT, parts[0]
	case len(parts) == 2 && parts[0] == "_index_template":
		if read {
			return ActionGetIndexTemplate, ""
		}
		return ActionPutIndexTemplate, ""
	case len(parts) == 2 && parts[0] == "_component_template":
		if read {
			return ActionGetComponent, ""
		}
		return ActionPutComponent, ""
	case len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		if read {
			return ActionGetILMPolicy, ""
		}
		return ActionPutILMPolicy, ""
	}
	return "", ""
}

// permit applies Forbid to a request. It answers a refused one and
// returns false; for an index action on wildcards it returns the path
// parts with the wildcards replaced by an expression that matches
// nothing.
func (s *Server) permit(w http.ResponseWriter, method string, parts []string) ([]string, bool) {
	s.mu.Lock()
	d := s.deny
	s.mu.Unlock()
	action, index := actionOf(method, parts)
	if action == "" || !d.actions[action] {
		return parts, true
	}
	prefix := "action [" + action + "] is unauthorized for user [" + d.user + "] with effective roles [" + d.role + "]"
	if !strings.HasPrefix(action, "indices:data/") {
		writeError(w, http.StatusForbidden, "security_exception", prefix+clusterPrivilegesPrefix+privileges[action]+"]")
		return nil, false
	}
	if index == "" {
		// A search in a point in time: the PIT holds the indices the
		// user could open it on.
		return parts, true
	}
	var concrete []string
	for _, p := range strings.Split(index, ",") {
		if p = strings.TrimSpace(p); !containsWildcard(p) && p != "_all" {
			concrete = append(concrete, p)
		}
	}
	if len(concrete) > 0 {
		sort.Strings(concrete)
		writeError(w, http.StatusForbidden, "security_exception", prefix+" on indices ["+strings.Join(concrete, ",")+"], this action is granted by the index privileges ["+privileges[action]+"]")
		return nil, false
	}
	out := append([]string(nil), parts...)
	out[0] = noIndices
	return out, true
}
