package estest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// node is a parsed JSON value that keeps object member order and lets the
// parser reject duplicate keys, as Elasticsearch's parser does.
type node struct {
	kind    byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	str     string
	b       bool
	members []member
	elems   []*node
}

type member struct {
	key string
	val *node
}

// parseDoc parses exactly one JSON value from b.
func parseDoc(b []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected content after the document")
	}
	return n, nil
}

func parseValue(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return parseFrom(dec, tok)
}

func parseFrom(dec *json.Decoder, tok json.Token) (*node, error) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: 'o'}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("expected a field name, found %v", kt)
				}
				if seen[k] {
					return nil, fmt.Errorf("Duplicate field '%s'", k)
				}
				seen[k] = true
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{k, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: 'a'}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &node{kind: 's', str: t}, nil
	case json.Number:
		return &node{kind: 'n', str: t.String()}, nil
	case bool:
		return &node{kind: 'b', b: t}, nil
	case nil:
		return &node{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// get returns the member named key of an object node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for _, m := range n.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// text is the value of a scalar node as Elasticsearch would index it in a
// keyword field.
func (n *node) text() string {
	switch n.kind {
	case 's', 'n':
		return n.str
	case 'b':
		if n.b {
			return "true"
		}
		return "false"
	}
	return ""
}

// preview is a short rendering of a value for error messages.
func (n *node) preview() string {
	switch n.kind {
	case 'o':
		return "{...}"
	case 'a':
		return "[...]"
	case 'z':
		return "null"
	}
	s := n.text()
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return s
}

// toAny converts the node to encoding/json's generic form.
func (n *node) toAny() any {
	switch n.kind {
	case 'o':
		m := make(map[string]any, len(n.members))
		for _, mb := range n.members {
			m[mb.key] = mb.val.toAny()
		}
		return m
	case 'a':
		a := make([]any, len(n.elems))
		for i, e := range n.elems {
			a[i] = e.toAny()
		}
		return a
	case 's':
		return n.str
	case 'n':
		return json.Number(n.str)
	case 'b':
		return n.b
	}
	return nil
}
