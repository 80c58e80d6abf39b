// Package storetest is the behaviour every store.Store backend must have,
// as one suite each backend's tests run against a fresh store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// Run runs the suite; open returns a fresh, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"accounts", testAccounts},
		{"credentials and hosts", testCredentials},
		{"platform addresses", testPlatformAddresses},
		{"groups", testGroups},
		{"group versions", testGroupVersions},
		{"lookups by account and region", testAccountLookups},
		{"group names", testGroupNames},
		{"list groups", testListGroups},
		{"references", testReferences},
		{"history", testHistory},
		{"prune history", testPruneHistory},
		{"instances and bindings", testInstances},
		{"templates", testTemplates},
		{"instance policies", testInstancePolicies},
		{"members", testMembers},
		{"resolve templates", testResolveTemplates},
		{"transactions", testTransactions},
		{"change feed", testFeed},
		{"change feed of instances", testFeedInstances},
		{"change feed filters", testFeedFilters},
		{"wait", testWait},
		{"host status", testHostStatus},
		{"pending confirmations", testPendingConfirmations},
		{"host counters", testHostCounters},
		{"last change", testLastChange},
		{"signatures", testSignatures},
		{"report transactions", testReport},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

func tx(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func mustPolicy(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

func addAccount(t *testing.T, s store.Store, id string) {
	t.Helper()
	tx(t, s, func(tx store.Tx) error {
		return tx.CreateAccount(context.Background(), store.Account{ID: id, Name: "name-" + id, Created: t0})
	})
}

func group(id, account, region, name string, policies ...string) store.Group {
	g := store.Group{ID: id, AccountID: account, Region: region, Name: name, Description: "d", Created: t0, Updated: t0}
	for _, p := range policies {
		g.Policies.Ingress = append(g.Policies.Ingress, mustPolicy(p))
	}
	return g
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, store.Account{ID: "acc-00000001", Name: "again"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateAccount(duplicate) = %v, want ErrConflict", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, "acc-00000001")
		if err != nil {
			return err
		}
		if a.Name != "name-acc-00000001" || a.Port25Unblocked || !a.Created.Equal(t0) {
			t.Errorf("GetAccount = %+v", a)
		}
		if _, err := tx.GetAccount(ctx, "acc-missing0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetAccount(missing) = %v, want ErrNotFound", err)
		}
		head, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		if b, rev, plat, err := tx.ResolveAccount(ctx, "acc-00000001"); err != nil || b != a || rev != head || head == 0 || len(plat) != 0 {
			t.Errorf("ResolveAccount = %+v, %d, %v, %v; want %+v, %d (non-zero), no platform address", b, rev, plat, err, a, head)
		}
		if _, _, _, err := tx.ResolveAccount(ctx, "acc-missing0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ResolveAccount(missing) = %v, want ErrNotFound", err)
		}
		if b, err := tx.FindAccountByName(ctx, "name-acc-00000001"); err != nil || b.ID != a.ID {
			t.Errorf("FindAccountByName = %+v, %v; want %s", b, err, a.ID)
		}
		if _, err := tx.FindAccountByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindAccountByName(missing) = %v, want ErrNotFound", err)
		}
		n, err := tx.CountAccounts(ctx)
		if n != 1 || err != nil {
			t.Errorf("CountAccounts = %d, %v; want 1", n, err)
		}
		return nil
	})
	rev0 := revision(t, s)
	tx(t, s, func(tx store.Tx) error {
		a, _ := tx.GetAccount(ctx, "acc-00000001")
		a.Port25Unblocked, a.Port25By, a.Port25At = true, "AKIDx", t0
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		if err := tx.AddAccountEvent(ctx, store.AccountEvent{AccountID: a.ID, Time: t0, Kind: "UnblockPort25", SecretID: "AKIDx", RequestID: "r1"}); err != nil {
			return err
		}
		if err := tx.SetQuotaOverride(ctx, a.ID, "GroupsPerRegion", 7); err != nil {
			return err
		}
		return tx.SetQuotaOverride(ctx, a.ID, "GroupsPerRegion", 9)
	})
	wantChanges(t, s, rev0, store.Change{AccountID: "acc-00000001", Accounts: []string{"acc-00000001"}, AccountRow: true})
	view(t, s, func(tx store.Tx) error {
		a, _ := tx.GetAccount(ctx, "acc-00000001")
		if !a.Port25Unblocked || a.Port25By != "AKIDx" || !a.Port25At.Equal(t0) {
			t.Errorf("after update: %+v", a)
		}
		ev, err := tx.ListAccountEvents(ctx, a.ID)
		if err != nil || len(ev) != 1 || ev[0].Kind != "UnblockPort25" || ev[0].RequestID != "r1" {
			t.Errorf("ListAccountEvents = %+v, %v", ev, err)
		}
		q, err := tx.QuotaOverrides(ctx, a.ID)
		if err != nil || q["GroupsPerRegion"] != 9 || len(q) != 1 {
			t.Errorf("QuotaOverrides = %v, %v; want GroupsPerRegion 9", q, err)
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error {
		if err := tx.UpdateAccount(ctx, store.Account{ID: "acc-missing0"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateAccount(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testCredentials(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateHost(ctx, store.Host{ID: "host-00000001", Name: "h1", Created: t0}); err != nil {
			return err
		}
		for _, c := range []store.Credential{
			{SecretID: "AKIDa", SecretKey: "ka", AccountID: "acc-00000001", Role: "admin", Created: t0},
			{SecretID: "AKIDp", SecretKey: "kp", Role: "platform", Created: t0},
			{SecretID: "AKIDh", SecretKey: "kh", Role: "host", HostID: "host-00000001", Created: t0},
		} {
			if err := tx.CreateCredential(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.CreateCredential(ctx, store.Credential{SecretID: "AKIDa", SecretKey: "x", Role: "admin"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateCredential(duplicate) = %v, want ErrConflict", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for _, want := range []store.Credential{
			{SecretID: "AKIDa", SecretKey: "ka", AccountID: "acc-00000001", Role: "admin", Created: t0},
			{SecretID: "AKIDp", SecretKey: "kp", Role: "platform", Created: t0},
			{SecretID: "AKIDh", SecretKey: "kh", Role: "host", HostID: "host-00000001", Created: t0},
		} {
			got, err := tx.GetCredential(ctx, want.SecretID)
			if err != nil || got != want {
				t.Errorf("GetCredential(%s) = %+v, %v; want %+v", want.SecretID, got, err, want)
			}
		}
		if _, err := tx.GetCredential(ctx, "AKIDnone"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetCredential(missing) = %v, want ErrNotFound", err)
		}
		h, err := tx.GetHost(ctx, "host-00000001")
		if err != nil || h.Name != "h1" {
			t.Errorf("GetHost = %+v, %v", h, err)
		}
		return nil
	})
}

func testPlatformAddresses(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	rev := revision(t, s)
	tx(t, s, func(tx store.Tx) error {
		if err := tx.AddPlatformAddress(ctx, "169.254.0.0/16"); err != nil {
			return err
		}
		if err := tx.AddPlatformAddress(ctx, "100.64.0.1/32"); err != nil {
			return err
		}
		if err := tx.AddPlatformAddress(ctx, "100.64.0.1/32"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("AddPlatformAddress(duplicate) = %v, want ErrConflict", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		head, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		want, err := tx.GetAccount(ctx, "acc-00000001")
		if err != nil {
			return err
		}
		// The same addresses, in the same order, as ListPlatformAddresses.
		a, rev, plat, err := tx.ResolveAccount(ctx, "acc-00000001")
		if err != nil || a != want || rev != head || !slices.Equal(plat, []string{"100.64.0.1/32", "169.254.0.0/16"}) {
			t.Errorf("ResolveAccount = %+v, %d, %v, %v; want %+v, %d, both addresses in order", a, rev, plat, err, want, head)
		}
		if _, _, _, err := tx.ResolveAccount(ctx, "acc-missing0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ResolveAccount(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error {
		if err := tx.DeletePlatformAddress(ctx, "169.254.0.0/16"); err != nil {
			return err
		}
		if err := tx.DeletePlatformAddress(ctx, "10.0.0.0/8"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeletePlatformAddress(missing) = %v, want ErrNotFound", err)
		}
		got, err := tx.ListPlatformAddresses(ctx)
		if err != nil || !slices.Equal(got, []string{"100.64.0.1/32"}) {
			t.Errorf("ListPlatformAddresses = %v, %v", got, err)
		}
		return nil
	})
	// Platform-wide: in every account's feed.
	wantChanges(t, s, rev, store.Change{Platform: true}, store.Change{Platform: true})
	wantAccountChanges(t, s, rev, "acc-00000001", store.Change{Platform: true}, store.Change{Platform: true})
}

func testGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	g := group("sg-00000001", "acc-00000001", "ap-guangzhou", "web", "ACCEPT TCP 80,443 0.0.0.0/0 # web", "DROP UDP 53 ::/0")
	g.Policies.Egress = []policy.Policy{mustPolicy("ACCEPT ALL ALL 0.0.0.0/0")}
	g.Policies.Ingress[0].ModifyTime = t0
	g.Policies.Ingress[1].Disabled = true
	g.Policies.Egress[0].ExpiresAt = t0.Add(time.Hour)
	g.Policies.Version = 3
	g.Tags = []store.Tag{{Key: "env", Value: "prod"}, {Key: "app", Value: "web"}}
	g.ProjectID = 7
	tx(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, g) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetGroup(ctx, "sg-00000001")
		if err != nil {
			return err
		}
		if got.Name != "web" || got.ProjectID != 7 || got.Policies.Version != 3 || !slices.Equal(got.Tags, g.Tags) || !got.Created.Equal(t0) {
			t.Errorf("GetGroup = %+v", got)
		}
		if len(got.Policies.Ingress) != 2 || len(got.Policies.Egress) != 1 {
			t.Fatalf("policies = %+v", got.Policies)
		}
		for i, p := range got.Policies.Ingress {
			if !p.SameRule(g.Policies.Ingress[i]) || p.Description != g.Policies.Ingress[i].Description {
				t.Errorf("Ingress[%d] = %v, want %v", i, p, g.Policies.Ingress[i])
			}
		}
		if !got.Policies.Ingress[0].ModifyTime.Equal(t0) {
			t.Errorf("ModifyTime = %v, want %v", got.Policies.Ingress[0].ModifyTime, t0)
		}
		if in, eg := got.Policies.Ingress, got.Policies.Egress; in[0].Disabled || !in[1].Disabled || !in[0].ExpiresAt.IsZero() || !eg[0].ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("Disabled, ExpiresAt = (%v %v %v), (%v %v %v); want only Ingress 1 disabled and only Egress 0 expiring at %v",
				in[0].Disabled, in[1].Disabled, eg[0].Disabled, in[0].ExpiresAt, in[1].ExpiresAt, eg[0].ExpiresAt, t0.Add(time.Hour))
		}
		if _, err := tx.GetGroup(ctx, "sg-missing0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetGroup(missing) = %v, want ErrNotFound", err)
		}
		n, err := tx.CountGroups(ctx, "acc-00000001", "ap-guangzhou", 7)
		if n != 1 || err != nil {
			t.Errorf("CountGroups = %d, %v", n, err)
		}
		n, _ = tx.CountGroups(ctx, "acc-00000001", "ap-guangzhou", 0)
		if n != 0 {
			t.Errorf("CountGroups(project 0) = %d, want 0", n)
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error {
		if err := tx.DeleteGroup(ctx, "sg-00000001"); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, "sg-00000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteGroup(again) = %v, want ErrNotFound", err)
		}
		_, err := tx.GetGroup(ctx, "sg-00000001")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetGroup(deleted) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testGroupVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	g := group("sg-00000001", "acc-00000001", "ap-guangzhou", "g")
	tx(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, g) })
	g.Policies.Ingress = []policy.Policy{mustPolicy("ACCEPT TCP 22 10.0.0.0/8")}
	g.Policies.Version = 1
	tx(t, s, func(tx store.Tx) error { return tx.UpdateGroup(ctx, g, 0) })
	g.Policies.Version = 2
	tx(t, s, func(tx store.Tx) error {
		if err := tx.UpdateGroup(ctx, g, 0); !errors.Is(err, store.ErrVersionMismatch) {
			t.Errorf("UpdateGroup(stale) = %v, want ErrVersionMismatch", err)
		}
		missing := g
		missing.ID = "sg-missing0"
		if err := tx.UpdateGroup(ctx, missing, 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateGroup(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, _ := tx.GetGroup(ctx, "sg-00000001")
		if got.Policies.Version != 1 || len(got.Policies.Ingress) != 1 {
			t.Errorf("after stale update: version %d, %d policies; want 1, 1", got.Policies.Version, len(got.Policies.Ingress))
		}
		return nil
	})
}

func testGroupNames(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	addAccount(t, s, "acc-00000002")
	tx(t, s, func(tx store.Tx) error {
		return tx.CreateGroup(ctx, group("sg-00000001", "acc-00000001", "ap-guangzhou", "web"))
	})
	tests := []struct {
		name string
		g    store.Group
		want error
	}{
		{"same name, same region", group("sg-00000002", "acc-00000001", "ap-guangzhou", "web"), store.ErrConflict},
		{"same id", group("sg-00000001", "acc-00000002", "ap-shanghai", "x"), store.ErrConflict},
		{"same name, other region", group("sg-00000003", "acc-00000001", "ap-shanghai", "web"), nil},
		{"same name, other account", group("sg-00000004", "acc-00000002", "ap-guangzhou", "web"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateGroup(ctx, tc.g) })
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("CreateGroup = %v, want %v", err, tc.want)
			}
		})
	}
	// Default groups: all named "default", one per project.
	def := func(id string, project int64) store.Group {
		g := group(id, "acc-00000001", "ap-guangzhou", "default")
		g.IsDefault, g.ProjectID = true, project
		return g
	}
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, def("sg-0000000a", 0)); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, def("sg-0000000b", 1)); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, def("sg-0000000c", 1)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second default group of project 1 = %v, want ErrConflict", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		g, err := tx.GetDefaultGroup(ctx, "acc-00000001", "ap-guangzhou", 1)
		if err != nil || g.ID != "sg-0000000b" {
			t.Errorf("GetDefaultGroup(1) = %s, %v", g.ID, err)
		}
		if _, err := tx.GetDefaultGroup(ctx, "acc-00000001", "ap-shanghai", 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetDefaultGroup(other region) = %v, want ErrNotFound", err)
		}
		g, err = tx.GetGroupByName(ctx, "acc-00000001", "ap-shanghai", "web")
		if err != nil || g.ID != "sg-00000003" {
			t.Errorf("GetGroupByName = %s, %v", g.ID, err)
		}
		if _, err := tx.GetGroupByName(ctx, "acc-00000001", "ap-guangzhou", "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetGroupByName(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testListGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	addAccount(t, s, "acc-00000002")
	tx(t, s, func(tx store.Tx) error {
		for i := 1; i <= 6; i++ {
			g := group(fmt.Sprintf("sg-0000000%d", i), "acc-00000001", "ap-guangzhou", fmt.Sprintf("g%d", i))
			g.ProjectID = int64(i % 2)
			g.Created = t0.Add(time.Duration(i) * time.Minute)
			g.Updated = t0.Add(time.Duration(10-i) * time.Minute)
			switch i {
			case 1:
				g.Tags = []store.Tag{{Key: "env", Value: "prod"}}
			case 2:
				g.Tags = []store.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "a"}}
			case 3:
				g.Tags = []store.Tag{{Key: "team", Value: "b"}}
			}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		if err := tx.CreateGroup(ctx, group("sg-00000007", "acc-00000001", "ap-shanghai", "g7")); err != nil {
			return err
		}
		return tx.CreateGroup(ctx, group("sg-00000008", "acc-00000002", "ap-guangzhou", "g8"))
	})
	mine := store.GroupFilter{AccountID: "acc-00000001", Region: "ap-guangzhou"}
	with := func(mod func(*store.GroupFilter)) store.GroupFilter {
		f := mine
		mod(&f)
		return f
	}
	tests := []struct {
		name      string
		f         store.GroupFilter
		wantIDs   []string
		wantTotal int
	}{
		{"account and region", mine, []string{"sg-00000001", "sg-00000002", "sg-00000003", "sg-00000004", "sg-00000005", "sg-00000006"}, 6},
		{"ids", with(func(f *store.GroupFilter) { f.IDs = []string{"sg-00000003", "sg-00000007", "sg-00000008"} }), []string{"sg-00000003"}, 1},
		{"names", with(func(f *store.GroupFilter) { f.Names = []string{"g2", "g5"} }), []string{"sg-00000002", "sg-00000005"}, 2},
		{"project", with(func(f *store.GroupFilter) { f.ProjectIDs = []int64{0} }), []string{"sg-00000002", "sg-00000004", "sg-00000006"}, 3},
		{"tag keys", with(func(f *store.GroupFilter) { f.TagKeys = [][]string{{"team", "nope"}} }), []string{"sg-00000002", "sg-00000003"}, 2},
		{"two tag key lists", with(func(f *store.GroupFilter) { f.TagKeys = [][]string{{"team", "nope"}, {"env"}} }), []string{"sg-00000002"}, 1},
		{"tag value", with(func(f *store.GroupFilter) { f.Tags = []store.TagCond{{Key: "env", Values: []string{"prod", "qa"}}} }), []string{"sg-00000001"}, 1},
		{"two tag conditions", with(func(f *store.GroupFilter) {
			f.Tags = []store.TagCond{{Key: "env"}, {Key: "team", Values: []string{"a"}}}
		}), []string{"sg-00000002"}, 1},
		{"paging", with(func(f *store.GroupFilter) { f.Offset, f.Limit = 2, 2 }), []string{"sg-00000003", "sg-00000004"}, 6},
		{"offset only", with(func(f *store.GroupFilter) { f.Offset = 5 }), []string{"sg-00000006"}, 6},
		{"offset past end", with(func(f *store.GroupFilter) { f.Offset, f.Limit = 10, 5 }), nil, 6},
		{"created desc", with(func(f *store.GroupFilter) { f.OrderBy, f.Desc, f.Limit = "CreatedTime", true, 2 }), []string{"sg-00000006", "sg-00000005"}, 6},
		{"updated asc", with(func(f *store.GroupFilter) { f.OrderBy, f.Limit = "UpdateTime", 2 }), []string{"sg-00000006", "sg-00000005"}, 6},
		{"other account", store.GroupFilter{AccountID: "acc-00000002"}, []string{"sg-00000008"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			view(t, s, func(tx store.Tx) error {
				gs, total, err := tx.ListGroups(ctx, tc.f)
				if err != nil {
					return err
				}
				var ids []string
				for _, g := range gs {
					ids = append(ids, g.ID)
				}
				if !slices.Equal(ids, tc.wantIDs) || total != tc.wantTotal {
					t.Errorf("ListGroups = %v (total %d), want %v (total %d)", ids, total, tc.wantIDs, tc.wantTotal)
				}
				return nil
			})
		})
	}
	view(t, s, func(tx store.Tx) error {
		gs, _, _ := tx.ListGroups(ctx, with(func(f *store.GroupFilter) { f.IDs = []string{"sg-00000002"} }))
		if len(gs) != 1 || !slices.Equal(gs[0].Tags, []store.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "a"}}) {
			t.Errorf("listed tags = %+v", gs)
		}
		return nil
	})
}

func testReferences(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tx(t, s, func(tx store.Tx) error {
		for _, g := range []store.Group{
			group("sg-0000000a", "acc-00000001", "r", "a"),
			group("sg-0000000b", "acc-00000001", "r", "b", "ACCEPT TCP 22 sg-0000000a", "ACCEPT TCP 80 sg-0000000a", "ACCEPT ppm-00000001 ipm-00000001"),
			group("sg-0000000c", "acc-00000001", "r", "c", "ACCEPT TCP 22 sg-0000000a", "DROP ALL ALL sg-0000000c"),
		} {
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		return tx.CreateTemplate(ctx, store.Template{ID: "ipmg-00000001", AccountID: "acc-00000001", Region: "r", Kind: store.KindAddressGroup, Name: "ag",
			Entries: []store.TemplateEntry{{Value: "ipm-00000001"}, {Value: "ipm-00000002"}}})
	})
	refs := func(ids ...string) []store.Ref {
		var out []store.Ref
		view(t, s, func(tx store.Tx) error {
			var err error
			out, err = tx.Referrers(ctx, ids)
			return err
		})
		return out
	}
	want := []store.Ref{{From: "sg-0000000b", To: "sg-0000000a"}, {From: "sg-0000000c", To: "sg-0000000a"}, {From: "sg-0000000c", To: "sg-0000000c"}}
	if got := refs("sg-0000000a", "sg-0000000c"); !slices.Equal(got, want) {
		t.Errorf("Referrers(sg) = %v, want %v", got, want)
	}
	want = []store.Ref{{From: "ipmg-00000001", To: "ipm-00000001"}, {From: "sg-0000000b", To: "ipm-00000001"}, {From: "sg-0000000b", To: "ppm-00000001"}}
	if got := refs("ipm-00000001", "ppm-00000001"); !slices.Equal(got, want) {
		t.Errorf("Referrers(templates) = %v, want %v", got, want)
	}
	// Updating and deleting keep the index in step.
	tx(t, s, func(tx store.Tx) error {
		g, _ := tx.GetGroup(ctx, "sg-0000000b")
		g.Policies.Ingress = g.Policies.Ingress[2:]
		g.Policies.Version++
		if err := tx.UpdateGroup(ctx, g, g.Policies.Version-1); err != nil {
			return err
		}
		return tx.DeleteGroup(ctx, "sg-0000000c")
	})
	if got := refs("sg-0000000a", "sg-0000000c"); len(got) != 0 {
		t.Errorf("Referrers after update and delete = %v, want none", got)
	}
	tx(t, s, func(tx store.Tx) error {
		tp, _ := tx.GetTemplate(ctx, "ipmg-00000001")
		tp.Entries = tp.Entries[1:]
		return tx.UpdateTemplate(ctx, tp)
	})
	want = []store.Ref{{From: "sg-0000000b", To: "ipm-00000001"}}
	if got := refs("ipm-00000001"); !slices.Equal(got, want) {
		t.Errorf("Referrers after template update = %v, want %v", got, want)
	}
	if got := refs(); got != nil {
		t.Errorf("Referrers() = %v, want none", got)
	}
}

func testHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	tx(t, s, func(tx store.Tx) error {
		for v := uint64(1); v <= 3; v++ {
			if err := tx.AddHistory(ctx, store.History{GroupID: "sg-00000001", AccountID: "acc-00000001", Version: v, Time: t0, SecretID: "AKIDx", RequestID: fmt.Sprint("r", v), Action: "A", Detail: "{}"}); err != nil {
				return err
			}
		}
		return tx.AddHistory(ctx, store.History{GroupID: "sg-00000002", Version: 1, Time: t0})
	})
	view(t, s, func(tx store.Tx) error {
		hs, err := tx.ListHistory(ctx, "sg-00000001")
		if err != nil {
			return err
		}
		if len(hs) != 3 || hs[0].Version != 1 || hs[2].Version != 3 || hs[2].RequestID != "r3" || !hs[1].Time.Equal(t0) || hs[0].Seq >= hs[1].Seq {
			t.Errorf("ListHistory = %+v", hs)
		}
		return nil
	})
}

func testPruneHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Versions 1..10 of sg-1, snapshots at 1, 4 and 8, and an attribute
	// change (no snapshot) at version 8; sg-2 has a snapshot at 1.
	tx(t, s, func(tx store.Tx) error {
		for v := uint64(1); v <= 10; v++ {
			h := store.History{GroupID: "sg-00000001", Version: v, Time: t0, Detail: "{}"}
			if v == 1 || v == 4 || v == 8 {
				h.Snapshot = fmt.Sprintf(`{"Version":"%d"}`, v)
			}
			if v == 8 {
				if err := tx.AddHistory(ctx, store.History{GroupID: "sg-00000001", Version: 8, Time: t0, Detail: "{}", Action: "attribute"}); err != nil {
					return err
				}
			}
			if err := tx.AddHistory(ctx, h); err != nil {
				return err
			}
		}
		return tx.AddHistory(ctx, store.History{GroupID: "sg-00000002", Version: 1, Time: t0, Snapshot: "{}"})
	})
	versions := func(group string) []uint64 {
		var out []uint64
		view(t, s, func(tx store.Tx) error {
			hs, err := tx.ListHistory(ctx, group)
			for _, h := range hs {
				out = append(out, h.Version)
			}
			return err
		})
		return out
	}
	tests := []struct {
		name     string
		keepFrom uint64
		deleted  int
		want     []uint64
	}{
		{"before every snapshot but the first", 3, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10}},
		{"at a snapshot", 4, 3, []uint64{4, 5, 6, 7, 8, 8, 9, 10}},
		{"between snapshots", 7, 0, []uint64{4, 5, 6, 7, 8, 8, 9, 10}},
		{"past the last snapshot", 10, 4, []uint64{8, 8, 9, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			tx(t, s, func(tx store.Tx) error {
				var err error
				n, err = tx.PruneHistory(ctx, "sg-00000001", tt.keepFrom)
				return err
			})
			if got := versions("sg-00000001"); n != tt.deleted || !slices.Equal(got, tt.want) {
				t.Errorf("PruneHistory(%d) = %d, then versions %v; want %d, %v", tt.keepFrom, n, got, tt.deleted, tt.want)
			}
		})
	}
	if got := versions("sg-00000002"); !slices.Equal(got, []uint64{1}) {
		t.Errorf("another group's history = %v, want [1]", got)
	}
	view(t, s, func(tx store.Tx) error {
		hs, err := tx.ListHistory(ctx, "sg-00000001")
		if err == nil && (len(hs) < 2 || hs[0].Action != "attribute" || hs[1].Snapshot != `{"Version":"8"}`) {
			t.Errorf("rows kept = %+v, want the attribute change and the snapshot of version 8 first", hs)
		}
		return err
	})
	var err error
	if err = s.View(ctx, func(tx store.Tx) error { _, err := tx.PruneHistory(ctx, "sg-00000001", 10); return err }); err == nil {
		t.Errorf("PruneHistory in View succeeded")
	}
}

func testInstances(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tx(t, s, func(tx store.Tx) error {
		for _, g := range []string{"sg-0000000a", "sg-0000000b", "sg-0000000c"} {
			if err := tx.CreateGroup(ctx, group(g, "acc-00000001", "r", g)); err != nil {
				return err
			}
		}
		ins := []store.Instance{
			{ID: "ins-00000001", AccountID: "acc-00000001", Region: "r", Zone: "r-1", Name: "a", OSType: "linux", State: "RUNNING",
				PrivateIPs: []string{"10.0.0.1", "10.0.0.2"}, IPv6s: []string{"fd00::1"}, PublicIP: "1.2.3.4", HostID: "host-00000001", Interface: "tap1",
				GroupIDs: []string{"sg-0000000c", "sg-0000000a"}, Created: t0},
			{ID: "ins-00000002", AccountID: "acc-00000001", Region: "r", Zone: "r-2", Name: "b", OSType: "windows", State: "RECYCLED", ProjectID: 3,
				GroupIDs: []string{"sg-0000000a"}, Created: t0},
			{ID: "ins-00000003", AccountID: "acc-00000001", Region: "q", Zone: "q-1", Name: "c", State: "RUNNING", Created: t0},
		}
		for _, in := range ins {
			if err := tx.CreateInstance(ctx, in); err != nil {
				return err
			}
		}
		if err := tx.CreateInstance(ctx, ins[0]); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateInstance(duplicate) = %v, want ErrConflict", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		in, err := tx.GetInstance(ctx, "ins-00000001")
		if err != nil {
			return err
		}
		if !slices.Equal(in.GroupIDs, []string{"sg-0000000c", "sg-0000000a"}) || !slices.Equal(in.PrivateIPs, []string{"10.0.0.1", "10.0.0.2"}) ||
			!slices.Equal(in.IPv6s, []string{"fd00::1"}) || in.PublicIP != "1.2.3.4" || in.Interface != "tap1" || in.OSType != "linux" {
			t.Errorf("GetInstance = %+v", in)
		}
		if _, err := tx.GetInstance(ctx, "ins-missing0"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetInstance(missing) = %v, want ErrNotFound", err)
		}
		n, err := tx.CountBindings(ctx, []string{"sg-0000000a", "sg-0000000b", "sg-0000000c"})
		if err != nil || n["sg-0000000a"] != 2 || n["sg-0000000b"] != 0 || n["sg-0000000c"] != 1 {
			t.Errorf("CountBindings = %v, %v", n, err)
		}
		return nil
	})
	tests := []struct {
		name      string
		f         store.InstanceFilter
		wantIDs   []string
		wantTotal int
	}{
		{"region", store.InstanceFilter{AccountID: "acc-00000001", Region: "r"}, []string{"ins-00000001", "ins-00000002"}, 2},
		{"group", store.InstanceFilter{AccountID: "acc-00000001", GroupIDs: []string{"sg-0000000c", "sg-0000000b"}}, []string{"ins-00000001"}, 1},
		{"group sets", store.InstanceFilter{GroupSets: [][]string{{"sg-0000000a"}, {"sg-0000000b", "sg-0000000c"}}}, []string{"ins-00000001"}, 1},
		{"group and group set", store.InstanceFilter{GroupIDs: []string{"sg-0000000a"}, GroupSets: [][]string{{"sg-0000000b"}}}, nil, 0},
		{"state", store.InstanceFilter{States: []store.InstanceState{store.StateRecycled}}, []string{"ins-00000002"}, 1},
		{"zone and name", store.InstanceFilter{Zones: []string{"r-1", "q-1"}, Names: []string{"c"}}, []string{"ins-00000003"}, 1},
		{"project", store.InstanceFilter{ProjectIDs: []int64{3}}, []string{"ins-00000002"}, 1},
		{"ids and paging", store.InstanceFilter{IDs: []string{"ins-00000001", "ins-00000003"}, Offset: 1, Limit: 1}, []string{"ins-00000003"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			view(t, s, func(tx store.Tx) error {
				got, total, err := tx.ListInstances(ctx, tc.f)
				if err != nil {
					return err
				}
				var ids []string
				for _, in := range got {
					ids = append(ids, in.ID)
				}
				if !slices.Equal(ids, tc.wantIDs) || total != tc.wantTotal {
					t.Errorf("ListInstances = %v (total %d), want %v (total %d)", ids, total, tc.wantIDs, tc.wantTotal)
				}
				return nil
			})
		})
	}
	// Rebinding keeps the order given; a bound group cannot be deleted.
	tx(t, s, func(tx store.Tx) error {
		in, _ := tx.GetInstance(ctx, "ins-00000001")
		in.GroupIDs = []string{"sg-0000000b", "sg-0000000c", "sg-0000000a"}
		in.State, in.Name = "STOPPED", "renamed"
		return tx.UpdateInstance(ctx, in)
	})
	view(t, s, func(tx store.Tx) error {
		in, _ := tx.GetInstance(ctx, "ins-00000001")
		if !slices.Equal(in.GroupIDs, []string{"sg-0000000b", "sg-0000000c", "sg-0000000a"}) || in.State != "STOPPED" || in.Name != "renamed" {
			t.Errorf("after UpdateInstance: %+v", in)
		}
		return nil
	})
	err := s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteGroup(ctx, "sg-0000000b") })
	if err == nil {
		t.Errorf("DeleteGroup(bound) succeeded; the store must refuse to orphan a binding")
	}
	tx(t, s, func(tx store.Tx) error {
		if err := tx.UpdateInstance(ctx, store.Instance{ID: "ins-missing0"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateInstance(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testTemplates(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tx(t, s, func(tx store.Tx) error {
		for _, tp := range []store.Template{
			{ID: "ipm-00000001", AccountID: "acc-00000001", Region: "r", Kind: store.KindAddress, Name: "a1",
				Entries: []store.TemplateEntry{{Value: "10.0.0.1", Description: "one"}, {Value: "10.1.0.0/16"}}, Created: t0},
			{ID: "ppm-00000001", AccountID: "acc-00000001", Region: "r", Kind: store.KindService, Name: "s1", Entries: []store.TemplateEntry{{Value: "tcp:80"}}, Created: t0},
			{ID: "ipm-00000002", AccountID: "acc-00000001", Region: "q", Kind: store.KindAddress, Name: "a2", Entries: []store.TemplateEntry{{Value: "::1"}}, Created: t0},
		} {
			if err := tx.CreateTemplate(ctx, tp); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		tp, err := tx.GetTemplate(ctx, "ipm-00000001")
		if err != nil {
			return err
		}
		if tp.Name != "a1" || tp.Kind != store.KindAddress || !slices.Equal(tp.Entries, []store.TemplateEntry{{Value: "10.0.0.1", Description: "one"}, {Value: "10.1.0.0/16", Description: ""}}) {
			t.Errorf("GetTemplate = %+v", tp)
		}
		list, total, err := tx.ListTemplates(ctx, store.TemplateFilter{AccountID: "acc-00000001", Region: "r", Kind: store.KindAddress})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != "ipm-00000001" {
			t.Errorf("ListTemplates = %+v, %d, %v", list, total, err)
		}
		list, total, _ = tx.ListTemplates(ctx, store.TemplateFilter{Kind: store.KindAddress, Names: []string{"a2"}})
		if total != 1 || list[0].ID != "ipm-00000002" {
			t.Errorf("ListTemplates(name) = %+v", list)
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error {
		tp, _ := tx.GetTemplate(ctx, "ipm-00000001")
		tp.Name, tp.Entries = "renamed", []store.TemplateEntry{{Value: "192.168.0.1-192.168.0.9"}}
		if err := tx.UpdateTemplate(ctx, tp); err != nil {
			return err
		}
		if err := tx.DeleteTemplate(ctx, "ppm-00000001"); err != nil {
			return err
		}
		if err := tx.DeleteTemplate(ctx, "ppm-00000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteTemplate(again) = %v, want ErrNotFound", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		tp, _ := tx.GetTemplate(ctx, "ipm-00000001")
		if tp.Name != "renamed" || len(tp.Entries) != 1 {
			t.Errorf("after update: %+v", tp)
		}
		return nil
	})
}

// policyTexts returns a policy set as text, direction by direction.
func policyTexts(set policy.PolicySet) [2][]string {
	var out [2][]string
	for i, ps := range [][]policy.Policy{set.Ingress, set.Egress} {
		for _, p := range ps {
			out[i] = append(out[i], p.String())
		}
	}
	return out
}

func testInstancePolicies(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	a := group("sg-0000000a", "acc-00000001", "r", "a", "ACCEPT TCP 22 10.0.0.0/8", "DROP ALL ALL 0.0.0.0/0")
	a.Policies.Egress = []policy.Policy{mustPolicy("ACCEPT UDP 53 sg-0000000b")}
	a.Policies.Version = 4
	b := group("sg-0000000b", "acc-00000001", "r", "b")
	tx(t, s, func(tx store.Tx) error {
		for _, g := range []store.Group{a, b} {
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		for _, in := range []store.Instance{
			{ID: "ins-00000001", AccountID: "acc-00000001", Region: "r", Zone: "r-1", Name: "one", State: "RUNNING",
				PrivateIPs: []string{"10.0.0.1"}, IPv6s: []string{"fd00::1"}, GroupIDs: []string{"sg-0000000b", "sg-0000000a"}, Created: t0},
			{ID: "ins-00000002", AccountID: "acc-00000001", Region: "r", Zone: "r-1", Name: "unbound", State: "RUNNING", Created: t0},
		} {
			if err := tx.CreateInstance(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
	// check reads both instances and compares the bound groups' policies
	// with want, by group.
	check := func(step string, want map[string]store.Group) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			in, groups, err := tx.GetInstancePolicies(ctx, "ins-00000001")
			if err != nil {
				return err
			}
			plain, err := tx.GetInstance(ctx, "ins-00000001")
			if err != nil {
				return err
			}
			if !slices.Equal(in.GroupIDs, []string{"sg-0000000b", "sg-0000000a"}) || in.Name != "one" || in.Zone != "r-1" ||
				!slices.Equal(in.PrivateIPs, plain.PrivateIPs) || !slices.Equal(in.IPv6s, plain.IPv6s) || !in.Created.Equal(t0) {
				t.Errorf("%s: GetInstancePolicies instance = %+v, want %+v", step, in, plain)
			}
			if len(groups) != 2 || groups[0].ID != "sg-0000000b" || groups[1].ID != "sg-0000000a" {
				t.Fatalf("%s: GetInstancePolicies groups = %+v", step, groups)
			}
			for _, g := range groups {
				w := want[g.ID]
				if g.Policies.Version != w.Policies.Version || !reflect.DeepEqual(policyTexts(g.Policies), policyTexts(w.Policies)) {
					t.Errorf("%s: policies of %s = %v (version %d), want %v (version %d)", step, g.ID,
						policyTexts(g.Policies), g.Policies.Version, policyTexts(w.Policies), w.Policies.Version)
				}
			}
			in, groups, err = tx.GetInstancePolicies(ctx, "ins-00000002")
			if err != nil || in.ID != "ins-00000002" || len(in.GroupIDs) != 0 || len(groups) != 0 {
				t.Errorf("%s: GetInstancePolicies(unbound) = %+v, %+v, %v", step, in, groups, err)
			}
			if _, _, err := tx.GetInstancePolicies(ctx, "ins-missing0"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: GetInstancePolicies(missing) = %v, want ErrNotFound", step, err)
			}
			return nil
		})
	}
	check("created", map[string]store.Group{a.ID: a, b.ID: b})
	check("read again", map[string]store.Group{a.ID: a, b.ID: b})

	// A new version, then other policies stored under the same version:
	// each read returns what is stored.
	a.Policies.Ingress = a.Policies.Ingress[:1]
	a.Policies.Version = 5
	tx(t, s, func(tx store.Tx) error { return tx.UpdateGroup(ctx, a, 4) })
	check("new version", map[string]store.Group{a.ID: a, b.ID: b})
	a.Policies.Ingress = []policy.Policy{mustPolicy("ACCEPT TCP 23 10.0.0.0/8")}
	tx(t, s, func(tx store.Tx) error { return tx.UpdateGroup(ctx, a, 5) })
	check("same version, other policies", map[string]store.Group{a.ID: a, b.ID: b})

	// A group deleted and created again under its id and version.
	tx(t, s, func(tx store.Tx) error {
		in, err := tx.GetInstance(ctx, "ins-00000001")
		if err != nil {
			return err
		}
		in.GroupIDs = []string{"sg-0000000a"}
		if err := tx.UpdateInstance(ctx, in); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, "sg-0000000b"); err != nil {
			return err
		}
		b = group("sg-0000000b", "acc-00000001", "r", "b", "ACCEPT ICMP ALL 192.0.2.0/24")
		if err := tx.CreateGroup(ctx, b); err != nil {
			return err
		}
		in.GroupIDs = []string{"sg-0000000b", "sg-0000000a"}
		return tx.UpdateInstance(ctx, in)
	})
	check("created again", map[string]store.Group{a.ID: a, b.ID: b})
}

func testMembers(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateHost(ctx, store.Host{ID: "host-00000001", Name: "h1", Created: t0}); err != nil {
			return err
		}
		for _, g := range []string{"sg-0000000a", "sg-0000000b", "sg-0000000c", "sg-0000000d"} {
			if err := tx.CreateGroup(ctx, group(g, "acc-00000001", "r", g)); err != nil {
				return err
			}
		}
		for _, in := range []store.Instance{
			{ID: "ins-00000009", AccountID: "acc-00000001", Region: "r", State: "RUNNING", PrivateIPs: []string{"10.0.0.9"},
				GroupIDs: []string{"sg-0000000b", "sg-0000000c", "sg-0000000a"}, HostID: "host-00000001", Interface: "tap9", Created: t0},
			{ID: "ins-00000001", AccountID: "acc-00000001", Region: "r", State: "TERMINATED", PrivateIPs: []string{"10.0.0.1", "10.0.0.2"},
				IPv6s: []string{"fd00::1"}, GroupIDs: []string{"sg-0000000a"}, Created: t0},
			{ID: "ins-00000005", AccountID: "acc-00000001", Region: "r", State: "RUNNING", GroupIDs: []string{"sg-0000000c"}, Created: t0},
		} {
			if err := tx.CreateInstance(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
	ab := []store.Member{
		{GroupID: "sg-0000000b", InstanceID: "ins-00000009", HostID: "host-00000001", State: "RUNNING", PrivateIPs: []string{"10.0.0.9"}},
		{GroupID: "sg-0000000a", InstanceID: "ins-00000009", HostID: "host-00000001", State: "RUNNING", PrivateIPs: []string{"10.0.0.9"}},
		{GroupID: "sg-0000000a", InstanceID: "ins-00000001", State: "TERMINATED", PrivateIPs: []string{"10.0.0.1", "10.0.0.2"}, IPv6s: []string{"fd00::1"}},
	}
	tests := []struct {
		name     string
		groups   []string
		want     []store.Member
		existing []string // sorted
	}{
		{"none", nil, nil, nil},
		{"one group", []string{"sg-0000000c"}, []store.Member{
			{GroupID: "sg-0000000c", InstanceID: "ins-00000009", HostID: "host-00000001", State: "RUNNING", PrivateIPs: []string{"10.0.0.9"}},
			{GroupID: "sg-0000000c", InstanceID: "ins-00000005", State: "RUNNING"},
		}, []string{"sg-0000000c"}},
		{"two groups, creation then binding order", []string{"sg-0000000a", "sg-0000000b"}, ab, []string{"sg-0000000a", "sg-0000000b"}},
		{"a group that does not exist", []string{"sg-missing0"}, nil, nil},
		{"a group nobody is bound to", []string{"sg-0000000d"}, nil, []string{"sg-0000000d"}},
		{"three groups, one missing", []string{"sg-0000000b", "sg-missing0", "sg-0000000a"}, ab, []string{"sg-0000000a", "sg-0000000b"}},
		{"an empty group among others", []string{"sg-0000000d", "sg-0000000c"}, []store.Member{
			{GroupID: "sg-0000000c", InstanceID: "ins-00000009", HostID: "host-00000001", State: "RUNNING", PrivateIPs: []string{"10.0.0.9"}},
			{GroupID: "sg-0000000c", InstanceID: "ins-00000005", State: "RUNNING"},
		}, []string{"sg-0000000c", "sg-0000000d"}},
		{"a long list", append(manyIDs("sg-", 70), "sg-0000000b", "sg-0000000a"), ab, []string{"sg-0000000a", "sg-0000000b"}},
	}
	for _, tc := range tests {
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ListMembers(ctx, tc.groups)
			if err != nil {
				return err
			}
			if len(got) != len(tc.want) || len(got) > 0 && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: ListMembers = %+v, want %+v", tc.name, got, tc.want)
			}
			existing, got, err := tx.ResolveMembers(ctx, tc.groups)
			if err != nil {
				return err
			}
			if len(got) != len(tc.want) || len(got) > 0 && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: ResolveMembers = %+v, want %+v", tc.name, got, tc.want)
			}
			slices.Sort(existing)
			if !slices.Equal(existing, tc.existing) {
				t.Errorf("%s: ResolveMembers existing = %v, want %v", tc.name, existing, tc.existing)
			}
			return nil
		})
	}
}

// manyIDs returns n ids of prefix that name nothing.
func manyIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%snone%04d", prefix, i)
	}
	return out
}

func testResolveTemplates(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	tmpl := func(id string, kind store.TemplateKind, entries ...string) store.Template {
		tp := store.Template{ID: id, AccountID: "acc-00000001", Region: "r", Kind: kind, Name: id, Created: t0}
		for _, e := range entries {
			tp.Entries = append(tp.Entries, store.TemplateEntry{Value: e})
		}
		return tp
	}
	tx(t, s, func(tx store.Tx) error {
		for _, tp := range []store.Template{
			tmpl("ipm-00000001", store.KindAddress, "10.0.0.1"),
			tmpl("ipm-00000002", store.KindAddress, "10.0.0.2"),
			tmpl("ipm-00000003", store.KindAddress, "10.0.0.3"),
			tmpl("ipmg-0000001", store.KindAddressGroup, "ipm-00000002", "ipm-missing0"),
			tmpl("ppm-00000001", store.KindService, "tcp:80"),
			tmpl("ppmg-0000001", store.KindServiceGroup, "ppm-00000001"),
		} {
			if err := tx.CreateTemplate(ctx, tp); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(step string, ids, want []string) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			got, err := tx.ResolveTemplates(ctx, ids)
			if err != nil {
				return err
			}
			var gotIDs []string
			for _, tp := range got {
				stored, err := tx.GetTemplate(ctx, tp.ID)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(tp, stored) {
					t.Errorf("%s: ResolveTemplates gave %+v, GetTemplate %+v", step, tp, stored)
				}
				gotIDs = append(gotIDs, tp.ID)
			}
			if !slices.Equal(gotIDs, want) {
				t.Errorf("%s: ResolveTemplates(%v) = %v, want %v", step, ids, gotIDs, want)
			}
			return nil
		})
	}
	check("none", nil, nil)
	check("plain and missing", []string{"ipm-00000003", "ipm-missing1"}, []string{"ipm-00000003"})
	check("group with its members", []string{"ipmg-0000001", "ppmg-0000001"}, []string{"ipm-00000002", "ipmg-0000001", "ppm-00000001", "ppmg-0000001"})
	check("a member asked for too", []string{"ppm-00000001", "ppmg-0000001"}, []string{"ppm-00000001", "ppmg-0000001"})
	check("three", []string{"ppmg-0000001", "ipm-00000001", "ipm-00000003"}, []string{"ipm-00000001", "ipm-00000003", "ppm-00000001", "ppmg-0000001"})
	check("a long list", append(manyIDs("ipm-", 70), "ipmg-0000001"), []string{"ipm-00000002", "ipmg-0000001"})
	tx(t, s, func(tx store.Tx) error {
		return tx.UpdateTemplate(ctx, tmpl("ipmg-0000001", store.KindAddressGroup, "ipm-00000001"))
	})
	check("members changed", []string{"ipmg-0000001"}, []string{"ipm-00000001", "ipmg-0000001"})
}

func testTransactions(t *testing.T, s store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, store.Account{ID: "acc-00000001", Name: "a"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Tx = %v, want the function's error", err)
	}
	view(t, s, func(tx store.Tx) error {
		if n, _ := tx.CountAccounts(ctx); n != 0 {
			t.Errorf("rolled-back account persisted: %d accounts", n)
		}
		return nil
	})
	err = s.View(ctx, func(tx store.Tx) error { return tx.CreateAccount(ctx, store.Account{ID: "acc-00000002"}) })
	if err == nil {
		t.Errorf("a write inside View succeeded")
	}
}

// testAccountLookups checks that the lookups by id, account and region find
// a resource only in its own account and region, and answer ErrNotFound for
// another's exactly as for a missing id.
func testAccountLookups(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	addAccount(t, s, "acc-00000002")
	tx(t, s, func(tx store.Tx) error {
		g := group("sg-00000001", "acc-00000001", "r", "web")
		g.Tags = []store.Tag{{Key: "env", Value: "prod"}}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		if err := tx.CreateTemplate(ctx, store.Template{ID: "ipm-00000001", AccountID: "acc-00000001", Region: "r", Kind: store.KindAddress,
			Name: "a", Entries: []store.TemplateEntry{{Value: "10.0.0.1"}}, Created: t0}); err != nil {
			return err
		}
		return tx.CreateInstance(ctx, store.Instance{ID: "ins-00000001", AccountID: "acc-00000001", Region: "r", Zone: "r-1", Name: "a",
			OSType: "linux", State: "RUNNING", GroupIDs: []string{"sg-00000001"}, Created: t0})
	})
	type key struct{ account, region, id string }
	tests := []struct {
		name  string
		key   key
		found bool
	}{
		{"own", key{"acc-00000001", "r", ""}, true},
		{"another account", key{"acc-00000002", "r", ""}, false},
		{"another region", key{"acc-00000001", "q", ""}, false},
		{"missing id", key{"acc-00000001", "r", "missing"}, false},
	}
	view(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := func(real string) string {
					if tt.key.id != "" {
						return real[:len(real)-len(tt.key.id)] + tt.key.id
					}
					return real
				}
				check := func(what string, err error) {
					t.Helper()
					switch {
					case tt.found && err != nil:
						t.Errorf("%s(%s, %s) = %v, want found", what, tt.key.account, tt.key.region, err)
					case !tt.found && !errors.Is(err, store.ErrNotFound):
						t.Errorf("%s(%s, %s) = %v, want ErrNotFound", what, tt.key.account, tt.key.region, err)
					}
				}
				g, err := tx.GetAccountGroup(ctx, tt.key.account, tt.key.region, id("sg-00000001"))
				check("GetAccountGroup", err)
				if tt.found && (g.Name != "web" || len(g.Tags) != 1) {
					t.Errorf("GetAccountGroup = %+v", g)
				}
				_, err = tx.GetAccountTemplate(ctx, tt.key.account, tt.key.region, id("ipm-00000001"))
				check("GetAccountTemplate", err)
				in, err := tx.GetAccountInstance(ctx, tt.key.account, tt.key.region, id("ins-00000001"))
				check("GetAccountInstance", err)
				if tt.found && !slices.Equal(in.GroupIDs, []string{"sg-00000001"}) {
					t.Errorf("GetAccountInstance = %+v", in)
				}
				in, groups, err := tx.GetAccountInstancePolicies(ctx, tt.key.account, tt.key.region, id("ins-00000001"))
				check("GetAccountInstancePolicies", err)
				if tt.found && (in.ID != "ins-00000001" || len(groups) != 1 || groups[0].ID != "sg-00000001") {
					t.Errorf("GetAccountInstancePolicies = %+v, %+v", in, groups)
				}
			})
		}
		// The platform's lookups name no account; the region still counts.
		if _, err := tx.GetAccountInstance(ctx, "", "r", "ins-00000001"); err != nil {
			t.Errorf("GetAccountInstance(any account) = %v", err)
		}
		if _, err := tx.GetAccountInstance(ctx, "", "q", "ins-00000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetAccountInstance(any account, other region) = %v, want ErrNotFound", err)
		}
		return nil
	})
}
