package service_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// sameStoredSet reports whether two policy sets are equal as stored: version,
// order, text and modify times.
func sameStoredSet(a, b policy.PolicySet) bool {
	if a.Version != b.Version || len(a.Ingress) != len(b.Ingress) || len(a.Egress) != len(b.Egress) {
		return false
	}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		for i, p := range a.List(d) {
			q := b.List(d)[i]
			if p.Raw() != q.Raw() || !p.ModifyTime.Equal(q.ModifyTime) {
				return false
			}
		}
	}
	return true
}

// TestHistoryRebuildsEveryRetainedVersion runs a random sequence of writes
// of every kind on one group, keeps the policy set the store holds after
// each, and rebuilds every version from the history: each retained version
// equals what was stored, the history stays bounded by the retention, and a
// pruned version is reported as not found.
func TestHistoryRebuildsEveryRetainedVersion(t *testing.T) {
	ctx := context.Background()
	const retention = 25
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A clock with sub-microsecond steps: history keeps what the store
	// keeps.
	tick := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { tick = tick.Add(1234567 * time.Nanosecond); return tick }
	svc := service.New(st, service.Options{Clock: clock, HistoryRetention: retention})
	acc, err := svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := svc.LookupCredential(ctx, acc.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	c := cred.Caller("ap-guangzhou", "req")
	g, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "web", Policies: &service.PolicySetInput{
		Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 10.0.0.0/8")}}})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint64]policy.PolicySet{}
	current := func() policy.PolicySet {
		t.Helper()
		var set policy.PolicySet
		if err := st.View(ctx, func(tx store.Tx) error {
			sg, err := tx.GetGroup(ctx, g.ID)
			set = sg.Policies.Clone()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return set
	}
	stored[1] = current()

	rng := rand.New(rand.NewPCG(7, 11))
	n := 0
	fresh := func() service.PolicyInput {
		n++
		action := []string{"ACCEPT", "DROP"}[rng.IntN(2)]
		proto := []string{"TCP 22", "UDP 53", "TCP 80,443", "ALL ALL", "TCP 8000-8080"}[rng.IntN(5)]
		in := raw(fmt.Sprintf("%s %s 10.%d.%d.0/24", action, proto, n/250, n%250))
		if rng.IntN(3) == 0 {
			in.Raw.PolicyDescription = fmt.Sprintf("rule %d", n)
		}
		return in
	}
	dirSet := func(d policy.Direction, ps ...service.PolicyInput) service.PolicySetInput {
		if d == policy.Egress {
			return service.PolicySetInput{Egress: ps}
		}
		return service.PolicySetInput{Ingress: ps}
	}
	const writes = 160
	for len(stored) < writes {
		set := current()
		d := []policy.Direction{policy.Ingress, policy.Egress}[rng.IntN(2)]
		size := len(set.List(d))
		var err error
		switch op := rng.IntN(10); {
		case op < 3 || size == 0:
			ps := []service.PolicyInput{fresh()}
			if rng.IntN(3) == 0 {
				ps = append(ps, fresh())
			}
			if rng.IntN(2) == 0 {
				i := rng.IntN(size + 1)
				for j := range ps {
					ps[j] = at(i, ps[j])
				}
			}
			_, err = svc.CreateSecurityGroupPolicies(ctx, c, service.PoliciesInput{SecurityGroupID: g.ID, Set: dirSet(d, ps...)})
		case op < 5 && size > 2:
			_, err = svc.DeleteSecurityGroupPolicies(ctx, c, service.PoliciesInput{SecurityGroupID: g.ID, Set: dirSet(d, idx(rng.IntN(size)))})
		case op < 7:
			_, err = svc.ReplaceSecurityGroupPolicy(ctx, c, service.PoliciesInput{SecurityGroupID: g.ID, Set: dirSet(d, at(rng.IntN(size), fresh()))})
		case op < 8:
			ps := make([]service.PolicyInput, 1+rng.IntN(5))
			for i := range ps {
				ps[i] = fresh()
			}
			_, err = svc.ModifySecurityGroupPolicies(ctx, c, service.ModifyPoliciesInput{SecurityGroupID: g.ID, Set: dirSet(d, ps...)})
		case op < 9 && size > 6:
			// Delete several by content.
			var ps []service.PolicyInput
			for _, p := range set.List(d)[:1+rng.IntN(size/2)] {
				ps = append(ps, service.PolicyInput{Raw: p.Raw()})
			}
			_, err = svc.DeleteSecurityGroupPolicies(ctx, c, service.PoliciesInput{SecurityGroupID: g.ID, Set: dirSet(d, ps...)})
		default:
			// An attribute change: a history row with no new version.
			name := fmt.Sprintf("web-%d", rng.IntN(1000))
			err = svc.ModifySecurityGroupAttribute(ctx, c, service.ModifyGroupInput{SecurityGroupID: g.ID, Name: &name})
		}
		if err != nil {
			t.Fatalf("write %d: %v", len(stored), err)
		}
		now := current()
		stored[now.Version] = now
	}

	latest := uint64(len(stored))
	retained, pruned := 0, 0
	for v := uint64(1); v <= latest; v++ {
		got, err := svc.PolicyVersion(ctx, c, g.ID, v)
		switch {
		case err == nil:
			retained++
			if !sameStoredSet(got, stored[v]) {
				t.Errorf("PolicyVersion(%d) differs from the set stored at that version:\n got %+v\nwant %+v", v, got, stored[v])
			}
		case v+retention <= latest:
			var se *service.Error
			if !errors.As(err, &se) || se.Kind != service.KindNotFound {
				t.Errorf("PolicyVersion(%d) of a pruned version = %v, want KindNotFound", v, err)
			}
			pruned++
		default:
			t.Errorf("PolicyVersion(%d), one of the last %d versions: %v", v, retention, err)
		}
	}
	t.Logf("%d versions: %d retained, %d pruned", latest, retained, pruned)
	if retained < retention || pruned == 0 || retained >= 2*retention+1 {
		t.Errorf("%d versions retained and %d pruned of %d; want between %d and %d retained", retained, pruned, latest, retention, 2*retention)
	}
	for _, v := range []uint64{0, latest + 1} {
		if _, err := svc.PolicyVersion(ctx, c, g.ID, v); err == nil {
			t.Errorf("PolicyVersion(%d) succeeded; there is no such version", v)
		}
	}
	// Another account sees no such group.
	b, err := svc.CreateAccount(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := svc.LookupCredential(ctx, b.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PolicyVersion(ctx, bc.Caller("ap-guangzhou", "r"), g.ID, latest); err == nil {
		t.Errorf("another account rebuilt a version of %s", g.ID)
	}
}
