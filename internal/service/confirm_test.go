package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
)

// TestSweepUnconfirmedOnReplicas: two servers on one database sweep the
// same due confirmation; the group is reverted once.
func TestSweepUnconfirmedOnReplicas(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t)
	g, _, err := r.svc[0].CreateSecurityGroup(ctx, r.caller[0], service.CreateGroupInput{Name: "g", Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 10.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	wctx := service.WithWriteGuard(ctx, service.WriteGuard{ConfirmWithin: time.Millisecond})
	res, err := r.svc[1].CreateSecurityGroupPolicies(wctx, r.caller[1], service.PoliciesInput{SecurityGroupID: g.ID, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 80 0.0.0.0/0")}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ConfirmBy.IsZero() {
		t.Fatalf("write with ConfirmWithin: %+v", res)
	}
	time.Sleep(5 * time.Millisecond)
	done := make(chan int, 2)
	for i := range 2 {
		go func() {
			n, err := r.svc[i].SweepUnconfirmed(ctx)
			if err != nil {
				t.Error(err)
			}
			done <- n
		}()
	}
	if n := <-done + <-done; n != 1 {
		t.Errorf("the replicas reverted %d times, want once", n)
	}
	h, _, err := r.svc[0].DescribeSecurityGroupHistory(ctx, r.caller[0], service.HistoryQuery{SecurityGroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Action != service.ActionRevertUnconfirmed || h[0].RestoredFrom != 1 || h[0].SecretID != service.ExpirySecretID {
		t.Errorf("history %+v, want the revert to version 1 on top", h)
	}
	// A group deleted while its change awaits confirmation: the sweep
	// drops the confirmation.
	if _, err := r.svc[0].CreateSecurityGroupPolicies(wctx, r.caller[0], service.PoliciesInput{SecurityGroupID: g.ID, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 81 0.0.0.0/0")}}}); err != nil {
		t.Fatal(err)
	}
	if err := r.svc[0].DeleteSecurityGroup(ctx, r.caller[0], g.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if n, err := r.svc[0].SweepUnconfirmed(ctx); err != nil || n != 0 {
		t.Errorf("sweep of a deleted group: %d, %v", n, err)
	}
	err = r.st[0].View(ctx, func(tx store.Tx) error {
		due, err := tx.ListDueConfirmations(ctx, time.Now().Add(time.Hour))
		if err == nil && len(due) != 0 {
			t.Errorf("confirmations left: %+v", due)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
