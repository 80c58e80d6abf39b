// Package archtest checks the dependency rules of STYLE.md: the pure
// packages (the rule model, the rule list, its resolution, the evaluator,
// the reference evaluator, the catalogue and the analysis engine) import no
// I/O and only one another, and no package imports one above it in the
// layering.
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

// pure lists the pure packages and the packages of the module each may
// import: pure packages only, resolve and history the store's types as
// well, and hoststate the wire types.
var pure = map[string][]string{
	"policy":    nil,
	"catalog":   {"internal/policy"},
	"rules":     {"internal/policy"},
	"eval":      {"internal/policy", "internal/rules"},
	"regions":   {"internal/policy", "internal/rules"},
	"analysis":  {"internal/policy", "internal/rules", "internal/catalog", "internal/regions", "internal/eval", "internal/analysis/guestfw"},
	"reference": {"internal/policy"}, // the oracle shares nothing with rules, resolve and eval
	"resolve":   {"internal/policy", "internal/rules", "internal/store"},
	"history":   {"internal/policy", "internal/store"},
	"hoststate": {"internal/policy", "internal/rules", "wire"},
}

func TestPurePackagesImportNoIO(t *testing.T) {
	for dir, allowed := range pure {
		for _, imp := range imports(t, filepath.Join("..", dir)) {
			for _, bad := range ioImports {
				if imp == bad {
					t.Errorf("internal/%s imports %s; it must stay pure", dir, imp)
				}
			}
			if strings.HasPrefix(imp, module) && !slices.Contains(allowed, strings.TrimPrefix(imp, module)) {
				t.Errorf("internal/%s imports %s; it may import only %v", dir, imp, allowed)
			}
		}
	}
}

// TestRulesImports checks that the rule list imports nothing but the
// standard library, policy and netipx.
func TestRulesImports(t *testing.T) {
	for _, imp := range imports(t, filepath.Join("..", "rules")) {
		if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") && imp != "go4.org/netipx" && imp != module+"internal/policy" {
			t.Errorf("internal/rules imports %s; it may import only policy and go4.org/netipx", imp)
		}
	}
}

func TestLayering(t *testing.T) {
	// Each package may not import the packages listed for it.
	above := []string{"internal/service", "internal/api", "internal/cli"}
	forbidden := map[string][]string{
		"store":   {"internal/service", "internal/api", "internal/cli"},
		"service": {"internal/api", "internal/cli"},
		"api":     {"internal/cli", "internal/store/sqlite", "internal/store/postgres"},
	}
	for dir := range pure {
		forbidden[dir] = above
	}
	forbidden["policy"] = append(slices.Clone(above), "internal/eval", "internal/store")
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

// TestServiceLeaves checks that the packages split out of the service stay
// below it: each imports of Palisade only what its row allows (the kernel
// only the rule model and the store's types), none imports the service, the
// API or the CLI, and none does I/O of its own.
func TestServiceLeaves(t *testing.T) {
	allowed := map[string][]string{
		"service/kernel":    {"internal/policy", "internal/store"},
		"service/templates": {"internal/policy", "internal/rules", "internal/store", "internal/service/kernel"},
		"service/tagging":   {"internal/policy", "internal/store", "internal/service/kernel"},
		"service/policyset": {"internal/policy", "internal/service/kernel"},
		"service/instances": {"internal/policy", "internal/store", "internal/service/kernel"},
		"service/accounts":  {"internal/policy", "internal/rules", "internal/store", "internal/service/kernel"},
	}
	// The accounts half logs what the operator does, as the service does.
	logs := map[string]bool{"service/accounts": true}
	for dir, ok := range allowed {
		imps := imports(t, filepath.Join("..", dir))
		if len(imps) == 0 {
			t.Errorf("internal/%s: no Go files found", dir)
		}
		for _, imp := range imps {
			if slices.Contains(ioImports, imp) && !(logs[dir] && imp == "log/slog") {
				t.Errorf("internal/%s imports %s; it does no I/O but through the store's interface", dir, imp)
			}
			if strings.HasPrefix(imp, module) && !slices.Contains(ok, strings.TrimPrefix(imp, module)) {
				t.Errorf("internal/%s imports %s; it may import only %v of Palisade", dir, imp, ok)
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

// TestAgentNftImports checks that the agent's rule compiler depends inward
// only: of Palisade, on the rule model, the rule list and the regions; it
// does its I/O through knftables alone.
func TestAgentNftImports(t *testing.T) {
	allowed := []string{"internal/policy", "internal/rules", "internal/regions"}
	imps := imports(t, filepath.Join("..", "agent", "nft"))
	if len(imps) == 0 {
		t.Fatal("internal/agent/nft: no Go files found")
	}
	for _, imp := range imps {
		if slices.Contains(ioImports, imp) {
			t.Errorf("internal/agent/nft imports %s; its I/O goes through knftables.Interface", imp)
		}
		if strings.HasPrefix(imp, module) && !slices.Contains(allowed, strings.TrimPrefix(imp, module)) {
			t.Errorf("internal/agent/nft imports %s; it may import only %v of Palisade", imp, allowed)
		}
	}
}
