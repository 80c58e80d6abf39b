package eval_test

import (
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
)

// classbenchSets are the ClassBench filter sets read in place from
// shared/bench/classbench, found by walking up from the package directory.
var classbenchSets = []string{"acl1_1k", "acl1_10k", "fw1_10k", "ipc1_10k"}

func loadSet(tb testing.TB, name string) []eval.Rule {
	tb.Helper()
	dir, err := classbench.Locate(".")
	if err != nil {
		tb.Fatalf("ClassBench sets: %v", err)
	}
	rules, err := classbench.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return rules
}

// TestDifferentialClassBench compares the classifier with the linear
// reference on the standard filter sets: 100,000 packets each.
func TestDifferentialClassBench(t *testing.T) {
	t.Parallel()
	for i, name := range classbenchSets {
		t.Run(name, func(t *testing.T) {
			rules := loadSet(t, name)
			diff(t, rules, classbench.Packets(rules, 100_000, uint64(i)+1))
		})
	}
}
