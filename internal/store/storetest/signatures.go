package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// sig returns a signature of 64 hex digits made from n.
func sig(n int) string {
	return fmt.Sprintf("%064x", n)
}

func testSignatures(t *testing.T, s store.Store) {
	ctx := context.Background()
	rev := revision(t, s)
	read := store.Signature{Signature: sig(1), Action: "DescribeSecurityGroups", Expires: t0.Add(5 * time.Minute)}
	write := store.Signature{Signature: sig(2), Action: "DeleteSecurityGroup", Write: true, Expires: t0.Add(10 * time.Minute)}
	tests := []struct {
		name      string
		in        store.Signature
		want      store.Signature
		wantFresh bool
	}{
		{"a new read", read, read, true},
		{"a new write", write, write, true},
		{"the read again", read, read, false},
		{"the read's signature for another action", store.Signature{Signature: sig(1), Action: "DeleteSecurityGroup", Write: true, Expires: t0.Add(time.Hour)}, read, false},
		{"the write again", write, write, false},
		{"the write's signature as a read", store.Signature{Signature: sig(2), Action: "DescribeSecurityGroups", Expires: t0}, write, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got store.Signature
			var fresh bool
			tx(t, s, func(tx store.Tx) error {
				var err error
				got, fresh, err = tx.RememberSignature(ctx, tc.in)
				return err
			})
			if fresh != tc.wantFresh || got.Signature != tc.want.Signature || got.Action != tc.want.Action || got.Write != tc.want.Write || !got.Expires.Equal(tc.want.Expires) {
				t.Errorf("RememberSignature(%+v) = %+v, %v; want %+v, %v", tc.in, got, fresh, tc.want, tc.wantFresh)
			}
		})
	}
	if got := revision(t, s); got != rev {
		t.Errorf("revision after remembering signatures = %d, want %d: a signature is not a change", got, rev)
	}

	for _, bad := range []store.Signature{{Action: "DescribeSecurityGroups"}, {Signature: sig(3)}} {
		err := s.Tx(ctx, func(tx store.Tx) error { _, _, err := tx.RememberSignature(ctx, bad); return err })
		if err == nil {
			t.Errorf("RememberSignature(%+v) = nil error, want one naming the missing field", bad)
		}
	}
	err := s.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.RememberSignature(ctx, store.Signature{Signature: sig(4), Action: "A"})
		return err
	})
	if err == nil {
		t.Error("RememberSignature in View = nil error, want a refused write")
	}

	// Pruning deletes exactly the expired ones; a pruned signature can be
	// remembered anew.
	var pruned int
	tx(t, s, func(tx store.Tx) error {
		var err error
		pruned, err = tx.PruneSignatures(ctx, t0.Add(7*time.Minute))
		return err
	})
	if pruned != 1 {
		t.Errorf("PruneSignatures(t0+7m) = %d, want 1 (the read, expiring at t0+5m)", pruned)
	}
	tx(t, s, func(tx store.Tx) error {
		if _, fresh, err := tx.RememberSignature(ctx, write); err != nil || fresh {
			t.Errorf("RememberSignature(write) after pruning = fresh %v, %v; want kept", fresh, err)
		}
		if _, fresh, err := tx.RememberSignature(ctx, read); err != nil || !fresh {
			t.Errorf("RememberSignature(read) after pruning = fresh %v, %v; want new again", fresh, err)
		}
		return nil
	})
	if got := revision(t, s); got != rev {
		t.Errorf("revision after pruning signatures = %d, want %d", got, rev)
	}
}

// testReplicaSignatures remembers the same signatures from several
// replicas at once: each is new to exactly one of them.
func testReplicaSignatures(t *testing.T, open func(t *testing.T) store.Store, _ Opener) {
	const replicas, sigs = 3, 40
	stores := make([]store.Store, replicas)
	for i := range stores {
		stores[i] = open(t)
	}
	ctx := context.Background()
	var fresh [sigs]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, replicas*sigs)
	for _, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range sigs {
				err := s.Tx(ctx, func(tx store.Tx) error {
					first, isNew, err := tx.RememberSignature(ctx, store.Signature{Signature: sig(100 + n), Action: "CreateSecurityGroup", Write: true, Expires: t0})
					if err != nil {
						return err
					}
					if isNew {
						fresh[n].Add(1)
					} else if first.Action != "CreateSecurityGroup" || !first.Write {
						return fmt.Errorf("signature %d first stored as %+v", n, first)
					}
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var wrong []string
	for n := range sigs {
		if got := fresh[n].Load(); got != 1 {
			wrong = append(wrong, fmt.Sprintf("%d: new to %d replicas", n, got))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("each signature must be new to exactly one replica: %s", strings.Join(wrong, "; "))
	}
}

// testReport: a Report transaction writes reports and signatures, commits
// no feed entry, and refuses a write of the desired state, leaving
// nothing of it behind.
func testReport(t *testing.T, s store.Store) {
	ctx := context.Background()
	addHost(t, s, "host-00000001")
	rev := revision(t, s)
	err := s.Report(ctx, func(tx store.Tx) error {
		if err := tx.SetHostStatus(ctx, store.HostStatus{HostID: "host-00000001", AppliedRevision: rev, AgentStart: t0, Reported: t0}); err != nil {
			return err
		}
		_, _, err := tx.RememberSignature(ctx, store.Signature{Signature: sig(1), Action: "ReportHostStatus", Write: true, Expires: t0})
		return err
	})
	if err != nil {
		t.Fatalf("Report with a host status and a signature: %v", err)
	}
	if got := revision(t, s); got != rev {
		t.Errorf("revision after Report = %d, want %d", got, rev)
	}
	view(t, s, func(tx store.Tx) error {
		if st, err := tx.GetHostStatus(ctx, "host-00000001"); err != nil || st.AppliedRevision != rev {
			t.Errorf("GetHostStatus after Report = %+v, %v; want applied revision %d", st, err, rev)
		}
		return nil
	})
	err = s.Report(ctx, func(tx store.Tx) error {
		return tx.CreateHost(ctx, store.Host{ID: "host-00000002", Name: "b", Created: t0})
	})
	if err == nil {
		t.Error("CreateHost in Report = nil error, want a refused write")
	}
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetHost(ctx, "host-00000002"); err == nil {
			t.Error("the host created in a refused Report exists")
		}
		return nil
	})
	if got := revision(t, s); got != rev {
		t.Errorf("revision after a refused Report = %d, want %d", got, rev)
	}
}
