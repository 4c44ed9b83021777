package middleware_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// maxExported is the most exported declarations package middleware may
// have besides its With… options: what users call, nothing more. What the
// HTTP middleware and the gRPC interceptors share lives in
// middleware/internal/instrument.
const maxExported = 15

// The count is the one go doc -all shows: functions, methods, types,
// variable and constant declarations (a parenthesised group counts once),
// With… option constructors left out.
func TestExportedAPISize(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/glassbox-obs/glassbox/middleware")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	values := func(kind string, vs []*doc.Value) {
		for _, v := range vs {
			names = append(names, kind+" "+strings.Join(v.Names, ","))
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			if !strings.HasPrefix(f.Name, "With") {
				names = append(names, "func "+f.Recv+" "+f.Name)
			}
		}
	}
	values("const", p.Consts)
	values("var", p.Vars)
	funcs(p.Funcs)
	for _, typ := range p.Types {
		names = append(names, "type "+typ.Name)
		values("const", typ.Consts)
		values("var", typ.Vars)
		funcs(typ.Funcs)
		funcs(typ.Methods)
	}
	if len(names) > maxExported {
		t.Errorf("package middleware exports %d declarations besides the With… options, want at most %d:\n%s",
			len(names), maxExported, strings.Join(names, "\n"))
	}
	t.Logf("%d exported declarations besides the With… options:\n%s", len(names), strings.Join(names, "\n"))
}
