package service

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/history"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestHistoryRowSize measures, through the service on a real store, the
// history row of a one-policy write (ReplaceSecurityGroupPolicy) on a group
// of 100 inbound and 100 outbound policies: the row written before diffs
// (both whole sets) against the diff row, the row of every SnapshotEvery-th
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
	before, err := history.Rebuild(rows, 1)
	if err != nil {
		t.Fatal(err)
	}
	after, err := history.Rebuild(rows, 2)
	if err != nil {
		t.Fatal(err)
	}
	legacy := len(kernel.MustJSON(map[string]any{"Before": history.SetOf(before), "After": history.SetOf(after)}))
	diff := len(rows[1].Detail)
	snap, err := history.Snapshot(after)
	if err != nil {
		t.Fatal(err)
	}
	amortised := diff + len(snap)/history.SnapshotEvery
	t.Logf("history row of a one-policy write on a 100+100-policy group: %d bytes before, %d bytes now (diff), %d bytes with a snapshot, %d bytes amortised over %d versions",
		legacy, diff, diff+len(snap), amortised, history.SnapshotEvery)
	if diff > 1000 || amortised*50 > legacy {
		t.Errorf("diff row %d bytes, amortised %d: want under 1 KB and a fiftieth of the %d bytes of whole sets", diff, amortised, legacy)
	}
}
