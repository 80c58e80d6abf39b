package service

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
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
			changes := diffSets(tt.before, tt.after)
			var got []string
			for _, ch := range changes {
				got = append(got, fmt.Sprintf("%s %s %d", ch.Op, ch.Direction, ch.Index))
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("diffSets = %q, want %q", got, tt.want)
			}
			// Through JSON, as stored, the diff turns before into after.
			b, err := json.Marshal(historyDiff{Changes: changes})
			if err != nil {
				t.Fatal(err)
			}
			var back historyDiff
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			set := tt.before.Clone()
			if err := applyChanges(&set, back.Changes); err != nil {
				t.Fatalf("applyChanges: %v", err)
			}
			set.Version = tt.after.Version
			if !sameSet(set, tt.after) {
				t.Errorf("applyChanges(before, diff) = %s, want %s", describeSet(set), describeSet(tt.after))
			}
		})
	}
}

func TestApplyChangesRejectsWhatDoesNotFit(t *testing.T) {
	a, b := pols(t, "ACCEPT TCP 22 10.0.0.1")[0], pols(t, "ACCEPT TCP 80 10.0.0.2")[0]
	ha, hb := toHistoryPolicy(a), toHistoryPolicy(b)
	bad := toHistoryPolicy(a)
	bad.Protocol = "SCTP"
	tests := []struct {
		name   string
		change policyChange
		want   string
	}{
		{"insert past the end", policyChange{Direction: policy.Ingress, Op: opInsert, Index: 3, Policy: &hb}, "out of range"},
		{"remove past the end", policyChange{Direction: policy.Ingress, Op: opRemove, Index: 1, Old: &ha}, "out of range"},
		{"remove another policy", policyChange{Direction: policy.Ingress, Op: opRemove, Index: 0, Old: &hb}, "is not the one recorded"},
		{"replace without the old policy", policyChange{Direction: policy.Ingress, Op: opReplace, Index: 0, Policy: &hb}, "no old policy"},
		{"insert nothing", policyChange{Direction: policy.Ingress, Op: opInsert, Index: 0}, "no new policy"},
		{"unparsable policy", policyChange{Direction: policy.Ingress, Op: opInsert, Index: 0, Policy: &bad}, "new policy"},
		{"unknown operation", policyChange{Direction: policy.Ingress, Op: "move", Index: 0, Policy: &hb}, `unknown operation "move"`},
		{"no direction", policyChange{Op: opInsert, Index: 0, Policy: &hb}, "no direction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := setOf(1, []policy.Policy{a}, nil)
			err := applyChanges(&set, []policyChange{tt.change})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("applyChanges = %v, want an error containing %q", err, tt.want)
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
	legacy := func(s policy.PolicySet) string { return mustJSON(setJSON(s)) }
	rows := []store.History{
		{Seq: 1, Version: 1, Action: "CreateSecurityGroup", Detail: mustJSON(map[string]any{"After": setJSON(v1)}), Snapshot: legacy(v1)},
		{Seq: 2, Version: 1, Action: "ModifySecurityGroupAttribute", Detail: `{"Before":{"Name":"a"},"After":{"Name":"b","Description":""}}`},
		{Seq: 3, Version: 2, Action: "CreateSecurityGroupPolicies", Detail: mustJSON(map[string]any{"Before": setJSON(v1), "After": setJSON(v2)}), Snapshot: legacy(v2)},
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
	rows = append(rows, store.History{Seq: 4, Version: 3, Detail: mustJSON(historyDiff{Changes: diffSets(strip(v2), v3)})})
	for _, want := range []policy.PolicySet{strip(v1), strip(v2), v3} {
		got, err := RebuildPolicies(rows, want.Version)
		if err != nil || !sameSet(got, want) {
			t.Errorf("RebuildPolicies(v%d) = %s, %v; want %s", want.Version, describeSet(got), err, describeSet(want))
		}
	}
	for _, v := range []uint64{0, 4} {
		if _, err := RebuildPolicies(rows, v); err == nil {
			t.Errorf("RebuildPolicies(v%d) succeeded; the history has no such version", v)
		}
	}
	// A policy write without a diff breaks the chain: no rebuild past it.
	broken := append(append([]store.History(nil), rows[:3]...), store.History{Seq: 4, Version: 3, Detail: `{"Before":{}}`})
	if _, err := RebuildPolicies(broken, 3); err == nil || !strings.Contains(err.Error(), "without a diff") {
		t.Errorf("RebuildPolicies over a row without a diff = %v", err)
	}
	gap := append(append([]store.History(nil), rows[:3]...), store.History{Seq: 4, Version: 4, Detail: rows[3].Detail})
	if _, err := RebuildPolicies(gap, 4); err == nil || !strings.Contains(err.Error(), "follows") {
		t.Errorf("RebuildPolicies over a missing version = %v", err)
	}
	if _, err := RebuildPolicies([]store.History{{Seq: 1, Version: 1, Snapshot: "{not json"}}, 1); err == nil {
		t.Errorf("RebuildPolicies of a damaged snapshot succeeded")
	}
}

// TestHistoryRowSize measures, through the service on a real store, the
// history row of a one-policy write (ReplaceSecurityGroupPolicy) on a group
// of 100 inbound and 100 outbound policies: the row written before diffs
// (both whole sets) against the diff row, the row of every snapshotEvery-th
// version, and their average.
func TestHistoryRowSize(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := New(st, Options{})
	acc, err := svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := svc.LookupCredential(ctx, acc.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	c := cred.Caller("ap-guangzhou", "req")
	set := &PolicySetInput{}
	for i := range 100 {
		set.Ingress = append(set.Ingress, PolicyInput{Raw: policy.Raw{Protocol: "TCP", Port: fmt.Sprint(1000 + i),
			CidrBlock: fmt.Sprintf("10.%d.0.0/16", i), Action: "ACCEPT", PolicyDescription: fmt.Sprintf("web tier rule %d", i)}})
		set.Egress = append(set.Egress, PolicyInput{Raw: policy.Raw{Protocol: "UDP", Port: fmt.Sprint(2000 + i),
			CidrBlock: fmt.Sprintf("172.16.%d.0/24", i), Action: "DROP", PolicyDescription: fmt.Sprintf("egress rule %d", i)}})
	}
	g, _, err := svc.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "big", Policies: set})
	if err != nil {
		t.Fatal(err)
	}
	i := 50
	if _, err := svc.ReplaceSecurityGroupPolicy(ctx, c, PoliciesInput{SecurityGroupID: g.ID, Set: PolicySetInput{
		Ingress: []PolicyInput{{Index: &i, Raw: policy.Raw{Protocol: "TCP", Port: "8443", CidrBlock: "192.168.0.0/16", Action: "ACCEPT", PolicyDescription: "changed"}}}}}); err != nil {
		t.Fatal(err)
	}
	var rows []store.History
	if err := st.View(ctx, func(tx store.Tx) error {
		var err error
		rows, err = tx.ListHistory(ctx, g.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].Snapshot != "" {
		t.Fatalf("history = %+v, want the creation and one diff row", rows)
	}
	before, err := RebuildPolicies(rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	after, err := RebuildPolicies(rows, 2)
	if err != nil {
		t.Fatal(err)
	}
	legacy := len(mustJSON(map[string]any{"Before": setJSON(before), "After": setJSON(after)}))
	diff := len(rows[1].Detail)
	snap, err := snapshotOf(after)
	if err != nil {
		t.Fatal(err)
	}
	amortised := diff + len(snap)/snapshotEvery
	t.Logf("history row of a one-policy write on a 100+100-policy group: %d bytes before, %d bytes now (diff), %d bytes with a snapshot, %d bytes amortised over %d versions",
		legacy, diff, diff+len(snap), amortised, snapshotEvery)
	if diff > 1000 || amortised*50 > legacy {
		t.Errorf("diff row %d bytes, amortised %d: want under 1 KB and a fiftieth of the %d bytes of whole sets", diff, amortised, legacy)
	}
}
