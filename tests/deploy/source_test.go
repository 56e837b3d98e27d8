package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxParams is the most parameters a function of the template takes; past it, a struct
// names what the arguments mean (a trailing ...Option does not count).
const maxParams = 5

// TestNoFunctionTakesMoreThanFiveParameters: every function and method of the
// template's non-test Go code, in every module, takes at most maxParams parameters.
func TestNoFunctionTakesMoreThanFiveParameters(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	funcs := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "node_modules", "testdata", "vendor":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var ft *ast.FuncType
			switch x := n.(type) {
			case *ast.FuncDecl:
				ft = x.Type
			case *ast.FuncLit:
				ft = x.Type
			default:
				return true
			}
			funcs++
			if got := params(ft); got > maxParams {
				pos := fset.Position(n.Pos())
				rel, _ := filepath.Rel(root, pos.Filename)
				t.Errorf("%s:%d takes %d parameters (at most %d: put them in a struct)", rel, pos.Line, got, maxParams)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if funcs < 500 {
		t.Errorf("read %d functions; the template has more, the walk is broken", funcs)
	}
}

// params counts ft's parameters, a trailing variadic one aside.
func params(ft *ast.FuncType) int {
	n := 0
	for i, field := range ft.Params.List {
		if _, variadic := field.Type.(*ast.Ellipsis); variadic && i == len(ft.Params.List)-1 {
			break
		}
		n += max(1, len(field.Names))
	}
	return n
}
