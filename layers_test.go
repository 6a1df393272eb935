package sinopac

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// serviceFiles are the files of the top layer: one per service, plus the
// features built on one (notify.go on OrderPayQuery, queryall.go on
// OrderQuery).
var serviceFiles = []string{"orderquery.go", "ordercreate.go", "ordermaintain.go", "orderpayquery.go",
	"uncapturedquery.go", "billquery.go", "allotquery.go", "notify.go", "queryall.go"}

// Layers point one way (values → wire + crypto → pipeline → services):
// a service file uses another service file's exported API at most, never
// its unexported helpers, constants or types. Shared rules live in wire.go.
func TestServiceFilesDoNotReachIntoEachOther(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// Imports are stubbed: only identifiers of this package matter, and the
	// type errors that stubs cause elsewhere are ignored.
	conf := types.Config{Importer: stubImporter{}, Error: func(error) {}}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	pkg, _ := conf.Check("sinopac", fset, files, info)

	var bad []string
	for id, obj := range info.Uses {
		if obj.Pkg() != pkg || obj.Exported() || obj.Parent() != pkg.Scope() {
			continue // another package, exported API, or not package-level
		}
		user := fset.Position(id.Pos()).Filename
		owner := fset.Position(obj.Pos()).Filename
		if user != owner && slices.Contains(serviceFiles, user) && slices.Contains(serviceFiles, owner) {
			bad = append(bad, user+" uses "+obj.Name()+" of "+owner)
		}
	}
	sort.Strings(bad)
	for _, b := range slices.Compact(bad) {
		t.Error(b)
	}
}

// stubImporter gives every import an empty package of the path's name.
type stubImporter struct{}

func (stubImporter) Import(p string) (*types.Package, error) {
	pk := types.NewPackage(p, path.Base(p))
	pk.MarkComplete()
	return pk, nil
}
