package history

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

func mustSet(t *testing.T, ingress, egress []string) policy.PolicySet {
	t.Helper()
	var s policy.PolicySet
	for _, x := range []struct {
		d  policy.Direction
		ps []string
	}{{policy.Ingress, ingress}, {policy.Egress, egress}} {
		var list []policy.Policy
		for _, text := range x.ps {
			p, err := policy.ParsePolicy(text)
			if err != nil {
				t.Fatalf("ParsePolicy(%q): %v", text, err)
			}
			list = append(list, p)
		}
		s.SetList(x.d, list)
	}
	return s
}

func TestLines(t *testing.T) {
	before := mustSet(t, []string{"ACCEPT TCP 22 10.0.0.0/8 # ssh", "ACCEPT TCP 80 0.0.0.0/0"}, nil)
	after := mustSet(t, []string{"DROP TCP 22 0.0.0.0/0", "ACCEPT TCP 80 0.0.0.0/0", "ACCEPT ppm-1a2b3c4d sg-1a2b3c4d"}, []string{"ACCEPT ALL ALL ::/0"})
	diff := func(b, a policy.PolicySet) string {
		d, err := json.Marshal(Diff{Changes: Changes(b, a)})
		if err != nil {
			t.Fatal(err)
		}
		return string(d)
	}
	tests := []struct {
		name   string
		detail string
		want   []string
	}{
		{"a write", diff(before, after), []string{
			"- Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh",
			"+ Ingress 0: DROP TCP 22 0.0.0.0/0",
			"+ Ingress 2: ACCEPT ppm-1a2b3c4d sg-1a2b3c4d",
			"+ Egress 0: ACCEPT ALL ALL ::/0",
		}},
		{"a removal", diff(after, before), []string{
			"- Ingress 0: DROP TCP 22 0.0.0.0/0",
			"+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh",
			"- Ingress 2: ACCEPT ppm-1a2b3c4d sg-1a2b3c4d",
			"- Egress 0: ACCEPT ALL ALL ::/0",
		}},
		{"no change", diff(before, before), []string{}},
		{"a creation", `{"Name":"web","After":{"Version":"1","Ingress":[{"Protocol":"TCP","Port":"22","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}],"Egress":[]}}`,
			[]string{"+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8"}},
		{"a deletion", `{"Name":"web","Before":{"Version":"4","Ingress":[],"Egress":[{"Protocol":"UDP","Port":"53","CidrBlock":"0.0.0.0/0","Action":"ACCEPT","PolicyDescription":"dns"}]}}`,
			[]string{"- Egress 0: ACCEPT UDP 53 0.0.0.0/0 # dns"}},
		{"a write recorded before diffs", `{"Before":{"Version":"1","Ingress":[],"Egress":[]},"After":{"Version":"2","Ingress":[{"Protocol":"ICMP","Port":"ALL","CidrBlock":"0.0.0.0/0","Action":"DROP"}],"Egress":[]}}`,
			[]string{"+ Ingress 0: DROP ICMP ALL 0.0.0.0/0"}},
		{"attributes", `{"Before":{"Name":"web","Description":"d"},"After":{"Name":"web-2","Description":"d"}}`,
			[]string{`~ Name: "web" -> "web-2"`}},
		{"tags", `{"Before":{"Tags":{}},"After":{"Tags":{"env":"prod"}}}`,
			[]string{`~ Tags: {} -> {"env":"prod"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := Lines(store.History{Seq: 7, Version: 2, Detail: tc.detail})
			if err != nil {
				t.Fatalf("Lines: %v", err)
			}
			got := []string{}
			for _, l := range ls {
				got = append(got, l.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestLinesRefusesUnreadableRows(t *testing.T) {
	tests := []struct {
		name, detail, want string
	}{
		{"not JSON", `{`, "detail"},
		{"a change without its policy", `{"Changes":[{"Direction":"INGRESS","Op":"insert","Index":0}]}`, "no new policy"},
		{"a change of no direction", `{"Changes":[{"Op":"insert","Index":0,"Policy":{"Protocol":"TCP","Port":"22","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}}]}`, "no direction"},
		{"an unknown operation", `{"Changes":[{"Direction":"EGRESS","Op":"move","Index":0}]}`, `unknown operation "move"`},
		{"a policy that does not parse", `{"After":{"Version":"1","Ingress":[{"Protocol":"TCP","Port":"99999","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}]}}`, "Ingress policy 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Lines(store.History{Seq: 7, Version: 2, Detail: tc.detail})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "history row 7") {
				t.Errorf("Lines(%s) = %v, want an error naming row 7 and %q", tc.detail, err, tc.want)
			}
		})
	}
}

// TestRebuildKeepsLifecycleFields: disabling a policy and giving another
// an expiry are changes of their own, and a rebuilt version has both
// fields exactly as written (snapshot and diffs alike).
func TestRebuildKeepsLifecycleFields(t *testing.T) {
	exp := time.Date(2026, 9, 1, 8, 30, 0, 123456000, time.UTC)
	v1 := setOf(1, pols(t, "ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 80 0.0.0.0/0"), nil)
	v2 := v1.Clone()
	v2.Version = 2
	v2.Ingress[0].Disabled = true
	v3 := v2.Clone()
	v3.Version = 3
	v3.Ingress[1].ExpiresAt = exp
	if n := len(Changes(v1, v2)); n != 1 {
		t.Fatalf("Changes(disable) = %d changes, want 1", n)
	}
	snap, err := Snapshot(v1)
	if err != nil {
		t.Fatal(err)
	}
	rows := []store.History{{Seq: 1, Version: 1, Detail: "{}", Snapshot: snap}}
	for i, pair := range [][2]policy.PolicySet{{v1, v2}, {v2, v3}} {
		d, err := json.Marshal(Diff{Changes: Changes(pair[0], pair[1])})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, store.History{Seq: int64(i + 2), Version: pair[1].Version, Detail: string(d)})
	}
	snap3, err := Snapshot(v3)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rows []store.History
		v    uint64
		want policy.PolicySet
	}{
		{"diff to the disable", rows, 2, v2},
		{"diffs to the expiry", rows, 3, v3},
		{"snapshot of both", []store.History{{Seq: 9, Version: 3, Detail: "{}", Snapshot: snap3}}, 3, v3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rebuild(tc.rows, tc.v)
			if err != nil || !sameSet(got, tc.want) || got.Ingress[0].Disabled != tc.want.Ingress[0].Disabled || !got.Ingress[1].ExpiresAt.Equal(tc.want.Ingress[1].ExpiresAt) {
				t.Errorf("Rebuild(%d) = %s, %v; want %s (disabled %v, expires %v)", tc.v, describeSet(got), err, describeSet(tc.want), tc.want.Ingress[0].Disabled, tc.want.Ingress[1].ExpiresAt)
			}
		})
	}
	ls, err := Lines(rows[2])
	if err != nil || len(ls) != 2 || ls[1].String() != "+ Ingress 1: ACCEPT TCP 80 0.0.0.0/0 [expires 2026-09-01T08:30:00Z]" {
		t.Errorf("Lines(expiry) = %v, %v", ls, err)
	}
}
