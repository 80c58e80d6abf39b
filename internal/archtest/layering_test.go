// Package archtest checks the dependency rules of STYLE.md: the rule model,
// the evaluator and the analysis engine import no I/O, and no package imports
// one above it in the layering.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/palisade-sg/palisade/"

// pure packages may not import these (nor anything that does I/O through them).
var ioImports = []string{"os", "os/exec", "net/http", "net", "database/sql", "io/fs", "syscall", "log", "log/slog"}

func TestPurePackagesImportNoIO(t *testing.T) {
	for _, dir := range []string{"policy", "eval", "analysis"} {
		for _, imp := range imports(t, filepath.Join("..", dir)) {
			for _, bad := range ioImports {
				if imp == bad {
					t.Errorf("internal/%s imports %s; it must stay pure", dir, imp)
				}
			}
			if strings.HasPrefix(imp, module) && !strings.HasPrefix(imp, module+"internal/policy") && !strings.HasPrefix(imp, module+"internal/eval") {
				t.Errorf("internal/%s imports %s; pure packages import only policy and eval", dir, imp)
			}
		}
	}
}

func TestLayering(t *testing.T) {
	// Each package may not import the packages listed for it.
	forbidden := map[string][]string{
		"policy":  {"internal/eval", "internal/service", "internal/store", "internal/api", "internal/cli"},
		"eval":    {"internal/service", "internal/store", "internal/api", "internal/cli"},
		"store":   {"internal/service", "internal/api", "internal/cli"},
		"service": {"internal/api", "internal/cli"},
		"api":     {"internal/cli", "internal/store/sqlite"},
	}
	for dir, bad := range forbidden {
		for _, imp := range imports(t, filepath.Join("..", dir)) {
			for _, b := range bad {
				if strings.HasPrefix(imp, module+b) {
					t.Errorf("internal/%s imports %s, against the layering", dir, imp)
				}
			}
		}
	}
}

// imports lists the imports of the non-test Go files directly in dir. A
// missing directory has none.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// The public packages at the module root serve users outside the module:
// wire imports nothing of Palisade, client only wire.
func TestPublicPackagesImportNothingInternal(t *testing.T) {
	allowed := map[string][]string{
		"wire":   nil,
		"client": {"wire"},
	}
	for dir, ok := range allowed {
		imps := imports(t, filepath.Join("..", "..", dir))
		if len(imps) == 0 {
			t.Errorf("%s: no Go files found", dir)
		}
		for _, imp := range imps {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if !slices.Contains(ok, strings.TrimPrefix(imp, module)) {
				t.Errorf("%s imports %s; it may import only %v of Palisade", dir, imp, ok)
			}
		}
	}
}
