package history

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// pols parses "ACCEPT TCP 22 10.0.0.0/8" policies, each with a modify time
// of its position in the arguments.
func pols(t testing.TB, texts ...string) []policy.Policy {
	t.Helper()
	var out []policy.Policy
	for _, s := range texts {
		p, err := policy.ParsePolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		p.ModifyTime = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
		out = append(out, p)
	}
	return out
}

func setOf(v uint64, ingress, egress []policy.Policy) policy.PolicySet {
	return policy.PolicySet{Version: v, Ingress: ingress, Egress: egress}
}

func sameSet(a, b policy.PolicySet) bool {
	if a.Version != b.Version || len(a.Ingress) != len(b.Ingress) || len(a.Egress) != len(b.Egress) {
		return false
	}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		for i := range a.List(d) {
			if !samePolicy(a.List(d)[i], b.List(d)[i]) {
				return false
			}
		}
	}
	return true
}

func describeSet(s policy.PolicySet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%d", s.Version)
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		fmt.Fprintf(&b, " %s[", d)
		for i, p := range s.List(d) {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(p.Describe(d))
		}
		b.WriteString("]")
	}
	return b.String()
}

func TestDiffSets(t *testing.T) {
	a, b, c, d, e := "ACCEPT TCP 22 10.0.0.1", "ACCEPT TCP 80 10.0.0.2", "DROP UDP 53 10.0.0.3", "ACCEPT ALL ALL 10.0.0.4", "DROP TCP 443 ::/0"
	modified := pols(t, b)[0]
	modified.ModifyTime = modified.ModifyTime.Add(time.Second)
	tests := []struct {
		name          string
		before, after policy.PolicySet
		want          []string // op direction index
	}{
		{"nothing", setOf(1, pols(t, a, b), nil), setOf(2, pols(t, a, b), nil), nil},
		{"append", setOf(1, pols(t, a, b), nil), setOf(2, pols(t, a, b, c), nil), []string{"insert INGRESS 2"}},
		{"insert at the top", setOf(1, pols(t, a, b), nil), setOf(2, pols(t, c, a, b), nil), []string{"insert INGRESS 0"}},
		{"insert two in the middle", setOf(1, pols(t, a, b), nil), setOf(2, pols(t, a, c, d, b), nil), []string{"insert INGRESS 1", "insert INGRESS 2"}},
		{"remove one", setOf(1, pols(t, a, b, c), nil), setOf(2, pols(t, a, c), nil), []string{"remove INGRESS 1"}},
		{"remove two", setOf(1, pols(t, a, b, c, d), nil), setOf(2, pols(t, a, d), nil), []string{"remove INGRESS 1", "remove INGRESS 1"}},
		{"replace one", setOf(1, pols(t, a, b, c), nil), setOf(2, pols(t, a, d, c), nil), []string{"replace INGRESS 1"}},
		{"modify time only", setOf(1, pols(t, a, b, c), nil), setOf(2, append(append(pols(t, a), modified), pols(t, c)...), nil), []string{"replace INGRESS 1"}},
		{"egress", setOf(1, pols(t, a), pols(t, e)), setOf(2, pols(t, a), nil), []string{"remove EGRESS 0"}},
		{"both directions cleared", setOf(1, pols(t, a, b), pols(t, e)), setOf(2, nil, nil), []string{"remove INGRESS 0", "remove INGRESS 0", "remove EGRESS 0"}},
		{"whole direction replaced", setOf(1, pols(t, a, b), nil), setOf(2, pols(t, c, d, e), nil), []string{"replace INGRESS 0", "replace INGRESS 1", "insert INGRESS 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := Changes(tt.before, tt.after)
			var got []string
			for _, ch := range changes {
				got = append(got, fmt.Sprintf("%s %s %d", ch.Op, ch.Direction, ch.Index))
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("Changes = %q, want %q", got, tt.want)
			}
			// Through JSON, as stored, the diff turns before into after.
			b, err := json.Marshal(Diff{Changes: changes})
			if err != nil {
				t.Fatal(err)
			}
			var back Diff
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			set := tt.before.Clone()
			if err := Apply(&set, back.Changes); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			set.Version = tt.after.Version
			if !sameSet(set, tt.after) {
				t.Errorf("Apply(before, diff) = %s, want %s", describeSet(set), describeSet(tt.after))
			}
		})
	}
}

func TestApplyChangesRejectsWhatDoesNotFit(t *testing.T) {
	a, b := pols(t, "ACCEPT TCP 22 10.0.0.1")[0], pols(t, "ACCEPT TCP 80 10.0.0.2")[0]
	ha, hb := toPolicy(a), toPolicy(b)
	bad := toPolicy(a)
	bad.Protocol = "SCTP"
	tests := []struct {
		name   string
		change Change
		want   string
	}{
		{"insert past the end", Change{Direction: policy.Ingress, Op: OpInsert, Index: 3, Policy: &hb}, "out of range"},
		{"remove past the end", Change{Direction: policy.Ingress, Op: OpRemove, Index: 1, Old: &ha}, "out of range"},
		{"remove another policy", Change{Direction: policy.Ingress, Op: OpRemove, Index: 0, Old: &hb}, "is not the one recorded"},
		{"replace without the old policy", Change{Direction: policy.Ingress, Op: OpReplace, Index: 0, Policy: &hb}, "no old policy"},
		{"insert nothing", Change{Direction: policy.Ingress, Op: OpInsert, Index: 0}, "no new policy"},
		{"unparsable policy", Change{Direction: policy.Ingress, Op: OpInsert, Index: 0, Policy: &bad}, "new policy"},
		{"unknown operation", Change{Direction: policy.Ingress, Op: "move", Index: 0, Policy: &hb}, `unknown operation "move"`},
		{"no direction", Change{Op: OpInsert, Index: 0, Policy: &hb}, "no direction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := setOf(1, []policy.Policy{a}, nil)
			err := Apply(&set, []Change{tt.change})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Apply = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestRebuildLegacyRows rebuilds versions from rows written before diffs:
// whole sets in "Before"/"After", which the store's migration copied into
// Snapshot, and an attribute change between them.
func TestRebuildLegacyRows(t *testing.T) {
	v1 := setOf(1, pols(t, "ACCEPT TCP 22 10.0.0.0/8"), nil)
	v2 := setOf(2, pols(t, "ACCEPT TCP 22 10.0.0.0/8", "DROP ALL ALL 0.0.0.0/0"), pols(t, "ACCEPT ALL ALL 0.0.0.0/0"))
	legacy := func(s policy.PolicySet) string { return mustJSON(t, SetOf(s)) }
	rows := []store.History{
		{Seq: 1, Version: 1, Action: "CreateSecurityGroup", Detail: mustJSON(t, map[string]any{"After": SetOf(v1)}), Snapshot: legacy(v1)},
		{Seq: 2, Version: 1, Action: "ModifySecurityGroupAttribute", Detail: `{"Before":{"Name":"a"},"After":{"Name":"b","Description":""}}`},
		{Seq: 3, Version: 2, Action: "CreateSecurityGroupPolicies", Detail: mustJSON(t, map[string]any{"Before": SetOf(v1), "After": SetOf(v2)}), Snapshot: legacy(v2)},
	}
	// Legacy rows carry no modify times.
	strip := func(s policy.PolicySet) policy.PolicySet {
		s = s.Clone()
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			for i := range s.List(d) {
				s.List(d)[i].ModifyTime = time.Time{}
			}
		}
		return s
	}
	// A diff row after the legacy ones.
	v3 := strip(v2).Clone()
	v3.Version = 3
	v3.Egress = nil
	rows = append(rows, store.History{Seq: 4, Version: 3, Detail: mustJSON(t, Diff{Changes: Changes(strip(v2), v3)})})
	for _, want := range []policy.PolicySet{strip(v1), strip(v2), v3} {
		got, err := Rebuild(rows, want.Version)
		if err != nil || !sameSet(got, want) {
			t.Errorf("Rebuild(v%d) = %s, %v; want %s", want.Version, describeSet(got), err, describeSet(want))
		}
	}
	for _, v := range []uint64{0, 4} {
		if _, err := Rebuild(rows, v); err == nil {
			t.Errorf("Rebuild(v%d) succeeded; the history has no such version", v)
		}
	}
	// A policy write without a diff breaks the chain: no rebuild past it.
	broken := append(append([]store.History(nil), rows[:3]...), store.History{Seq: 4, Version: 3, Detail: `{"Before":{}}`})
	if _, err := Rebuild(broken, 3); err == nil || !strings.Contains(err.Error(), "without a diff") {
		t.Errorf("Rebuild over a row without a diff = %v", err)
	}
	gap := append(append([]store.History(nil), rows[:3]...), store.History{Seq: 4, Version: 4, Detail: rows[3].Detail})
	if _, err := Rebuild(gap, 4); err == nil || !strings.Contains(err.Error(), "follows") {
		t.Errorf("Rebuild over a missing version = %v", err)
	}
	if _, err := Rebuild([]store.History{{Seq: 1, Version: 1, Snapshot: "{not json"}}, 1); err == nil {
		t.Errorf("Rebuild of a damaged snapshot succeeded")
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
