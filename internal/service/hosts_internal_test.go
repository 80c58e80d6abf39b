package service

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestHostAffectedBy: which feed entries may change a host's state.
func TestHostAffectedBy(t *testing.T) {
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
	snap := func() *hostSnapshot {
		return &hostSnapshot{
			state:     HostState{HostID: "host-mine0000"},
			instances: []string{"ins-broken00", "ins-mine0000"},
			deps: []resolve.Deps{
				{Account: "acc-a0000000", Instance: "ins-mine0000", Groups: []string{"sg-bound000"}, Refs: []string{"sg-ref00000"}, Templates: []string{"ipm-used0000"}},
				{Account: "acc-b0000000", Instance: "ins-broken00", Groups: []string{"sg-broken00"}},
			},
			accounts:  []string{"acc-b0000000"},
			elsewhere: map[string]bool{},
		}
	}
	tests := []struct {
		name string
		c    store.Change
		want bool
	}{
		{"nothing of the host", store.Change{AccountID: "acc-a0000000", Accounts: []string{"acc-a0000000"}, Groups: []string{"sg-else0000"}}, false},
		{"the host", store.Change{Hosts: []string{"host-mine0000"}}, true},
		{"another host", store.Change{Hosts: []string{"host-other000"}}, false},
		{"a bound group", store.Change{Groups: []string{"sg-bound000"}}, true},
		{"a referenced group's members", store.Change{Members: []string{"sg-ref00000"}}, true},
		{"a bound group's members", store.Change{Members: []string{"sg-bound000"}}, false},
		{"a template used", store.Change{Templates: []string{"ipm-used0000"}}, true},
		{"the platform addresses", store.Change{Platform: true}, true},
		{"an instance of the host", store.Change{Instances: []string{"ins-mine0000"}}, true},
		{"an instance placed on the host since", store.Change{Instances: []string{"ins-new00000"}}, true},
		{"another host's instance", store.Change{Instances: []string{"ins-other000"}}, false},
		{"an instance no longer stored", store.Change{Instances: []string{"ins-gone0000"}}, true},
		{"the account of an unresolvable instance", store.Change{AccountID: "acc-b0000000", Accounts: []string{"acc-b0000000"}, Templates: []string{"ipm-else0000"}}, true},
		{"one of several accounts, an unresolvable instance's", store.Change{Accounts: []string{"acc-a0000000", "acc-b0000000"}}, true},
		{"an account row", store.Change{AccountID: "acc-a0000000", Accounts: []string{"acc-a0000000"}, AccountRow: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.View(ctx, func(tx store.Tx) error {
				got, err := snap().affectedBy(ctx, tx, &tt.c)
				if err != nil {
					return err
				}
				if got != tt.want {
					t.Errorf("affectedBy(%+v) = %v, want %v", tt.c, got, tt.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
