package service

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestHostDelta: which feed entries may change a host's state, and which
// make its instances be listed again.
func TestHostDelta(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	err = st.Tx(ctx, func(tx store.Tx) error {
		for _, h := range []string{"host-mine0000", "host-other000"} {
			if err := tx.CreateHost(ctx, store.Host{ID: h, Name: h, Created: now}); err != nil {
				return err
			}
		}
		if err := tx.CreateAccount(ctx, store.Account{ID: "acc-a0000000", Name: "a", Created: now}); err != nil {
			return err
		}
		for id, host := range map[string]string{"ins-mine0000": "host-mine0000", "ins-new00000": "host-mine0000", "ins-other000": "host-other000"} {
			in := store.Instance{ID: id, AccountID: "acc-a0000000", Region: "ap-guangzhou", Zone: "ap-guangzhou-3", Name: id, HostID: host, State: store.StateRunning, Created: now, Updated: now}
			if err := tx.CreateInstance(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap := newHostSnapshot("host-mine0000", 0, []hostRecord{
		{problem: &hoststate.Problem{InstanceID: "ins-broken00"}, deps: resolve.Deps{Account: "acc-b0000000", Instance: "ins-broken00", Groups: []string{"sg-broken00"}}},
		{instance: &hoststate.Instance{ID: "ins-mine0000"}, deps: resolve.Deps{Account: "acc-a0000000", Instance: "ins-mine0000", Groups: []string{"sg-bound000"}, Refs: []string{"sg-ref00000"}, Templates: []string{"ipm-used0000"}}},
	}, 0)

	tests := []struct {
		name         string
		c            store.Change
		want, relist bool
	}{
		{"nothing of the host", store.Change{AccountID: "acc-a0000000", Accounts: []string{"acc-a0000000"}, Groups: []string{"sg-else0000"}}, false, false},
		{"the host", store.Change{Hosts: []string{"host-mine0000"}}, true, true},
		{"another host", store.Change{Hosts: []string{"host-other000"}}, false, false},
		{"a bound group", store.Change{Groups: []string{"sg-bound000"}}, true, false},
		{"a referenced group's members", store.Change{Members: []string{"sg-ref00000"}}, true, false},
		{"a bound group's members", store.Change{Members: []string{"sg-bound000"}}, false, false},
		{"a template used", store.Change{Templates: []string{"ipm-used0000"}}, true, false},
		{"the platform addresses", store.Change{Platform: true}, true, false},
		{"an instance of the host", store.Change{Instances: []string{"ins-mine0000"}}, true, true},
		{"an instance placed on the host since", store.Change{Instances: []string{"ins-new00000"}}, true, true},
		{"another host's instance", store.Change{Instances: []string{"ins-other000"}}, false, false},
		{"an instance no longer stored", store.Change{Instances: []string{"ins-gone0000"}}, true, true},
		{"the account of an unresolvable instance", store.Change{AccountID: "acc-b0000000", Accounts: []string{"acc-b0000000"}, Templates: []string{"ipm-else0000"}}, true, false},
		{"one of several accounts, an unresolvable instance's", store.Change{Accounts: []string{"acc-a0000000", "acc-b0000000"}}, true, false},
		{"an account row", store.Change{AccountID: "acc-a0000000", Accounts: []string{"acc-a0000000"}, AccountRow: true}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.View(ctx, func(tx store.Tx) error {
				d, err := snap.delta([]store.Change{tt.c}, func(ids []string) (map[string]string, error) { return placedIn(ctx, tx, ids) })
				if err != nil {
					return err
				}
				if got := !d.empty(); got != tt.want {
					t.Errorf("delta(%+v) = %+v, want a change: %v", tt.c, d, tt.want)
				}
				if tt.relist != d.relist {
					t.Errorf("delta(%+v) relists: %v, want %v", tt.c, d.relist, tt.relist)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
