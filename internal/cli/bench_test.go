package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
)

func TestBenchClassify(t *testing.T) {
	dir, err := classbench.Locate(".")
	if err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(dir, "acl1_1k")
	var out, errOut bytes.Buffer
	args := []string{"bench", "classify", "--rules", rules, "--packets", "20000", "--seed", "7", "--rounds", "3", "-o", "json"}
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("Run(%q) = %v; stderr %s", args, err, errOut.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	for _, k := range []string{"rules", "packets", "compiled_ns_per_lookup", "linear_ns_per_lookup", "build_ms", "bytes_per_rule", "mismatches"} {
		if _, ok := got[k]; !ok {
			t.Errorf("output lacks %q: %s", k, out.String())
		}
	}
	if got["rules"] != float64(942) || got["packets"] != float64(20000) || got["mismatches"] != float64(0) {
		t.Errorf("rules, packets, mismatches = %v, %v, %v; want 942, 20000, 0", got["rules"], got["packets"], got["mismatches"])
	}
	for _, k := range []string{"compiled_ns_per_lookup", "linear_ns_per_lookup", "bytes_per_rule"} {
		if v, _ := got[k].(float64); v <= 0 {
			t.Errorf("%s = %v, want > 0", k, got[k])
		}
	}

	out.Reset()
	args = []string{"bench", "classify", "--rules", rules, "--packets", "2000", "--rounds", "1"}
	if err := Run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("Run(%q) = %v", args, err)
	}
	if !strings.Contains(out.String(), "mismatches  0") {
		t.Errorf("text output lacks the mismatch count:\n%s", out.String())
	}

	for _, bad := range [][]string{
		{"bench", "classify"},
		{"bench", "classify", "--rules", filepath.Join(t.TempDir(), "missing")},
		{"bench", "classify", "--rules", rules, "-o", "yaml"},
	} {
		if err := Run(context.Background(), bad, &out, &errOut); err == nil {
			t.Errorf("Run(%q) succeeded, want an error", bad)
		}
	}
}
