package service_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
)

// TestConcurrentVersionedWrites: 16 writers race on one group, each naming
// the Version it read. No update is lost, every failure is a version
// conflict, and the final state equals a serial replay of the successes.
func TestConcurrentVersionedWrites(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{Quotas: service.Quotas{PoliciesPerDirection: 1000}})
	id := f.group(t, f.admin, "hot")
	type success struct {
		version uint64
		in      service.PoliciesInput
		del     bool
	}
	var (
		mu        sync.Mutex
		successes []success
		wg        sync.WaitGroup
	)
	const writers, attempts = 16, 12
	errs := make(chan error, writers*attempts)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < attempts; i++ {
				gp, err := f.svc.DescribeSecurityGroupPolicies(ctx, f.admin, service.DescribePoliciesInput{SecurityGroupID: id})
				if err != nil {
					errs <- err
					return
				}
				v := strconv.FormatUint(gp.Version, 10)
				var res service.WriteResult
				in := service.PoliciesInput{SecurityGroupID: id}
				del := i%4 == 3 && len(gp.Ingress) > 0
				if del {
					in.Set = service.PolicySetInput{Version: v, Ingress: []service.PolicyInput{idx(len(gp.Ingress) - 1)}}
					res, err = f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, in)
				} else {
					in.Set = service.PolicySetInput{Version: v, Ingress: []service.PolicyInput{at(i%2, raw(fmt.Sprintf("ACCEPT TCP %d 10.0.0.0/8", 1000+w*100+i)))}}
					if i%2 == 1 && len(gp.Ingress) == 0 {
						in.Set.Ingress[0].Index = nil
					}
					res, err = f.svc.CreateSecurityGroupPolicies(ctx, f.admin, in)
				}
				if err != nil {
					if kindOf(err) != service.KindVersionMismatch {
						errs <- fmt.Errorf("writer %d: %w (want only version conflicts)", w, err)
					}
					continue
				}
				mu.Lock()
				successes = append(successes, success{res.Version, in, del})
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sort.Slice(successes, func(i, j int) bool { return successes[i].version < successes[j].version })
	for i, s := range successes {
		if s.version != uint64(i+1) {
			t.Fatalf("success %d has version %d: versions must be 1..n with no gap or repeat", i, s.version)
		}
	}
	if len(successes) < writers {
		t.Errorf("only %d successes", len(successes))
	}
	v, in, eg := f.policies(t, f.admin, id)
	if v != uint64(len(successes)) {
		t.Errorf("final version %d, want %d (one per success)", v, len(successes))
	}
	// Serial replay on a fresh group.
	replay := f.group(t, f.admin, "replay")
	for _, s := range successes {
		s.in.SecurityGroupID = replay
		var err error
		if s.del {
			_, err = f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, s.in)
		} else {
			_, err = f.svc.CreateSecurityGroupPolicies(ctx, f.admin, s.in)
		}
		if err != nil {
			t.Fatalf("replay of version %d: %v", s.version, err)
		}
	}
	rv, rin, reg := f.policies(t, f.admin, replay)
	if rv != v || !slices.Equal(rin, in) || !slices.Equal(reg, eg) {
		t.Errorf("final state differs from the serial replay:\n got v%d %v\nwant v%d %v", v, in, rv, rin)
	}
	t.Logf("%d successes, %d version conflicts", len(successes), writers*attempts-len(successes))
}
