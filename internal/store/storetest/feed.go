package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// revision returns the store's current revision.
func revision(t *testing.T, s store.Store) int64 {
	t.Helper()
	var rev int64
	view(t, s, func(tx store.Tx) error {
		var err error
		rev, err = tx.Revision(context.Background())
		return err
	})
	return rev
}

// changesSince returns the changes after since, of accountID ("" every
// account), with the head; times and revisions are checked and cleared.
func changesSince(t *testing.T, s store.Store, since int64, accountID string) (int64, []store.Change) {
	t.Helper()
	var head int64
	var got []store.Change
	view(t, s, func(tx store.Tx) error {
		var err error
		head, got, err = tx.Changes(context.Background(), since, accountID, 0)
		return err
	})
	prev := since
	for i := range got {
		if got[i].Revision <= prev || got[i].Revision > head {
			t.Errorf("change %d: revision %d after %d (head %d)", i, got[i].Revision, prev, head)
		}
		prev = got[i].Revision
		if d := time.Since(got[i].Time); d < 0 || d > time.Minute {
			t.Errorf("change %d: time %v, want about now", i, got[i].Time)
		}
		got[i].Revision, got[i].Time = 0, time.Time{}
	}
	return head, got
}

// wantChanges checks the changes after since, over every account.
func wantChanges(t *testing.T, s store.Store, since int64, want ...store.Change) {
	t.Helper()
	wantAccountChanges(t, s, since, "", want...)
}

func wantAccountChanges(t *testing.T, s store.Store, since int64, accountID string, want ...store.Change) {
	t.Helper()
	head, got := changesSince(t, s, since, accountID)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Changes(%d, %q) =\n%+v\nwant\n%+v", since, accountID, got, want)
	}
	if accountID == "" && head != since+int64(len(want)) {
		t.Errorf("Changes(%d): head %d, want %d", since, head, since+int64(len(want)))
	}
}

func acct(id string) []string { return []string{id} }

func testFeed(t *testing.T, s store.Store) {
	ctx := context.Background()
	if rev := revision(t, s); rev != 0 {
		t.Fatalf("revision of an empty store = %d, want 0", rev)
	}
	wantChanges(t, s, 0)
	const a = "acc-00000001"
	addAccount(t, s, a)
	wantChanges(t, s, 0, store.Change{AccountID: a, Accounts: acct(a), AccountRow: true})

	steps := []struct {
		name  string
		write func(tx store.Tx) error
		want  []store.Change // nil: no entry
	}{
		{"a read only", func(tx store.Tx) error { _, err := tx.GetAccount(ctx, a); return err }, nil},
		{"a rolled-back write", func(tx store.Tx) error {
			if err := tx.CreateGroup(ctx, group("sg-0000000x", a, "ap-guangzhou", "x")); err != nil {
				return err
			}
			return errors.New("boom")
		}, nil},
		{"groups created", func(tx store.Tx) error {
			if err := tx.CreateGroup(ctx, group("sg-0000000b", a, "ap-guangzhou", "b")); err != nil {
				return err
			}
			return tx.CreateGroup(ctx, group("sg-0000000a", a, "ap-guangzhou", "a", "ACCEPT TCP 22 sg-0000000b"))
		}, []store.Change{{AccountID: a, Accounts: acct(a), Groups: []string{"sg-0000000a", "sg-0000000b"}}}},
		{"group updated, with history", func(tx store.Tx) error {
			g := group("sg-0000000a", "", "ap-guangzhou", "a2")
			if err := tx.UpdateGroup(ctx, g, 0); err != nil {
				return err
			}
			return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: a, Time: t0, Action: "x"})
		}, []store.Change{{AccountID: a, Accounts: acct(a), Groups: []string{"sg-0000000a"}}}},
		{"group deleted", func(tx store.Tx) error { return tx.DeleteGroup(ctx, "sg-0000000b") },
			[]store.Change{{AccountID: a, Accounts: acct(a), Groups: []string{"sg-0000000b"}}}},
		{"template created, updated, deleted", func(tx store.Tx) error {
			tp := store.Template{ID: "ipm-00000001", AccountID: a, Region: "ap-guangzhou", Kind: store.KindAddress, Name: "t", Created: t0, Updated: t0}
			if err := tx.CreateTemplate(ctx, tp); err != nil {
				return err
			}
			tp2 := store.Template{ID: "ipm-00000002", AccountID: a, Region: "ap-guangzhou", Kind: store.KindAddress, Name: "u", Created: t0, Updated: t0}
			if err := tx.CreateTemplate(ctx, tp2); err != nil {
				return err
			}
			tp.AccountID, tp.Name = "", "t2"
			if err := tx.UpdateTemplate(ctx, tp); err != nil {
				return err
			}
			return tx.DeleteTemplate(ctx, tp2.ID)
		}, []store.Change{{AccountID: a, Accounts: acct(a), Templates: []string{"ipm-00000001", "ipm-00000002"}}}},
		{"credential, quota and event: the account only", func(tx store.Tx) error {
			if err := tx.CreateCredential(ctx, store.Credential{SecretID: "AKIDa", SecretKey: "k", AccountID: a, Role: "admin", Created: t0}); err != nil {
				return err
			}
			if err := tx.SetQuotaOverride(ctx, a, "GroupsPerRegion", 3); err != nil {
				return err
			}
			return tx.AddAccountEvent(ctx, store.AccountEvent{AccountID: a, Time: t0, Kind: "k"})
		}, []store.Change{{AccountID: a, Accounts: acct(a)}}},
		{"host and its credential", func(tx store.Tx) error {
			if err := tx.CreateHost(ctx, store.Host{ID: "host-00000001", Name: "h", Created: t0}); err != nil {
				return err
			}
			return tx.CreateCredential(ctx, store.Credential{SecretID: "AKIDh", SecretKey: "k", Role: "host", HostID: "host-00000001", Created: t0})
		}, []store.Change{{Hosts: []string{"host-00000001"}}}},
		{"platform address", func(tx store.Tx) error { return tx.AddPlatformAddress(ctx, "100.64.0.0/10") },
			[]store.Change{{Platform: true}}},
		{"two accounts", func(tx store.Tx) error {
			if err := tx.CreateAccount(ctx, store.Account{ID: "acc-00000002", Name: "b", Created: t0}); err != nil {
				return err
			}
			return tx.SetQuotaOverride(ctx, a, "GroupsPerRegion", 4)
		}, []store.Change{{Accounts: []string{a, "acc-00000002"}, AccountRow: true}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			rev := revision(t, s)
			_ = s.Tx(ctx, st.write)
			wantChanges(t, s, rev, st.want...)
		})
	}
}

func testFeedInstances(t *testing.T, s store.Store) {
	ctx := context.Background()
	const a = "acc-00000001"
	addAccount(t, s, a)
	tx(t, s, func(tx store.Tx) error {
		for _, id := range []string{"sg-0000000a", "sg-0000000b", "sg-0000000c"} {
			if err := tx.CreateGroup(ctx, group(id, a, "ap-guangzhou", id)); err != nil {
				return err
			}
		}
		return nil
	})
	in := store.Instance{ID: "ins-00000001", AccountID: a, Region: "ap-guangzhou", Name: "i", State: "RUNNING",
		PrivateIPs: []string{"10.0.0.1"}, GroupIDs: []string{"sg-0000000b", "sg-0000000a"}, Created: t0, Updated: t0}
	write := func(t *testing.T, fn func(tx store.Tx) error, want store.Change) {
		t.Helper()
		rev := revision(t, s)
		tx(t, s, fn)
		want.AccountID, want.Accounts, want.Instances = a, acct(a), []string{in.ID}
		wantChanges(t, s, rev, want)
	}
	update := func(edit func(*store.Instance)) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			cur, err := tx.GetInstance(ctx, in.ID)
			if err != nil {
				return err
			}
			edit(&cur)
			cur.AccountID = "" // the store reads the owner itself
			return tx.UpdateInstance(ctx, cur)
		}
	}
	tests := []struct {
		name  string
		write func(tx store.Tx) error
		want  store.Change
	}{
		{"created bound", func(tx store.Tx) error { return tx.CreateInstance(ctx, in) },
			store.Change{Members: []string{"sg-0000000a", "sg-0000000b"}}},
		{"renamed", update(func(in *store.Instance) { in.Name = "renamed" }), store.Change{}},
		{"reordered", update(func(in *store.Instance) { in.GroupIDs = []string{"sg-0000000a", "sg-0000000b"} }), store.Change{}},
		{"rebound", update(func(in *store.Instance) { in.GroupIDs = []string{"sg-0000000c", "sg-0000000a"} }),
			store.Change{Members: []string{"sg-0000000a", "sg-0000000b", "sg-0000000c"}}},
		{"readdressed", update(func(in *store.Instance) { in.IPv6s = []string{"fd00::1"} }),
			store.Change{Members: []string{"sg-0000000a", "sg-0000000c"}}},
		{"stopped", update(func(in *store.Instance) { in.State = "STOPPED" }),
			store.Change{Members: []string{"sg-0000000a", "sg-0000000c"}}},
		{"unbound", update(func(in *store.Instance) { in.GroupIDs = nil }),
			store.Change{Members: []string{"sg-0000000a", "sg-0000000c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { write(t, tt.write, tt.want) })
	}
}

func testFeedFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	addAccount(t, s, "acc-00000002")
	tx(t, s, func(tx store.Tx) error { return tx.AddPlatformAddress(ctx, "100.64.0.0/10") })
	tx(t, s, func(tx store.Tx) error {
		return tx.CreateGroup(ctx, group("sg-0000000a", "acc-00000001", "ap-guangzhou", "a"))
	})
	tx(t, s, func(tx store.Tx) error {
		return tx.CreateGroup(ctx, group("sg-0000000b", "acc-00000002", "ap-guangzhou", "b"))
	})

	wantAccountChanges(t, s, 0, "acc-00000002",
		store.Change{AccountID: "acc-00000002", Accounts: acct("acc-00000002"), AccountRow: true},
		store.Change{Platform: true},
		store.Change{AccountID: "acc-00000002", Accounts: acct("acc-00000002"), Groups: []string{"sg-0000000b"}})
	view(t, s, func(tx store.Tx) error {
		head, got, err := tx.Changes(ctx, 0, "", 2)
		if err != nil || head != 5 || len(got) != 0 {
			t.Errorf("Changes(0, limit 2) = %d, %+v, %v; want head 5 and no change (5 follow)", head, got, err)
		}
		head, got, err = tx.Changes(ctx, 3, "", 2)
		if err != nil || head != 5 || len(got) != 2 || got[0].Revision != 4 || got[1].Revision != 5 {
			t.Errorf("Changes(3, limit 2) = %d, %+v, %v; want head 5 and revisions 4 and 5", head, got, err)
		}
		head, got, err = tx.Changes(ctx, 5, "acc-00000001", 0)
		if err != nil || head != 5 || len(got) != 0 {
			t.Errorf("Changes(head) = %d, %+v, %v; want 5 and nothing", head, got, err)
		}
		head, _, err = tx.Changes(ctx, 6, "", 0)
		if !errors.Is(err, store.ErrCompacted) || head != 5 {
			t.Errorf("Changes(after head) = %d, %v; want 5, ErrCompacted", head, err)
		}
		return nil
	})
}

func testWait(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	head := revision(t, s)
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"already past", func(t *testing.T) {
			if rev, err := s.Wait(ctx, head-1); err != nil || rev != head {
				t.Errorf("Wait(%d) = %d, %v; want %d", head-1, rev, err, head)
			}
		}},
		{"woken by a write", func(t *testing.T) {
			cur := revision(t, s)
			done := make(chan error, 1)
			go func() {
				time.Sleep(20 * time.Millisecond)
				done <- s.Tx(ctx, func(tx store.Tx) error { return tx.SetQuotaOverride(ctx, "acc-00000001", "x", 1) })
			}()
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			rev, err := s.Wait(wctx, cur)
			if err != nil || rev != cur+1 {
				t.Errorf("Wait(%d) = %d, %v; want %d", cur, rev, err, cur+1)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}},
		{"timeout", func(t *testing.T) {
			cur := revision(t, s)
			start := time.Now()
			wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if _, err := s.Wait(wctx, cur); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait with nothing written = %v, want DeadlineExceeded", err)
			}
			if d := time.Since(start); d < 50*time.Millisecond {
				t.Errorf("Wait returned after %v, before its deadline", d)
			}
		}},
		{"cancel", func(t *testing.T) {
			cur := revision(t, s)
			wctx, cancel := context.WithCancel(ctx)
			go func() { time.Sleep(20 * time.Millisecond); cancel() }()
			if _, err := s.Wait(wctx, cur); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait cancelled = %v, want Canceled", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// RunRetention checks the feed's retention on s, a fresh store: insert
// writes, behind the store's back, feed entries from revision from to to
// (inclusive) at time tm, as an older store would have left them.
func RunRetention(t *testing.T, s store.Store, insert func(t *testing.T, from, to int64, tm time.Time)) {
	ctx := context.Background()
	changes := func(since int64) (int64, []store.Change, error) {
		var head int64
		var out []store.Change
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			head, out, err = tx.Changes(ctx, since, "", 0)
			return err
		})
		return head, out, err
	}
	check := func(name string, compacted, kept int64) {
		t.Helper()
		if _, _, err := changes(compacted); !errors.Is(err, store.ErrCompacted) {
			t.Errorf("%s: Changes(%d) = %v, want ErrCompacted", name, compacted, err)
		}
		head, got, err := changes(kept)
		if err != nil || len(got) != int(head-kept) || len(got) == 0 || got[0].Revision != kept+1 {
			t.Errorf("%s: Changes(%d) = %d changes, head %d, %v; want every change after %d", name, kept, len(got), head, err, kept)
		}
	}
	// Entries older than a week go at the next multiple of 1,000.
	insert(t, 1, 998, time.Now().Add(-8*24*time.Hour))
	addAccount(t, s, "acc-00000999")
	if _, got, err := changes(0); err != nil || len(got) != 999 {
		t.Fatalf("before pruning: %d changes, %v; want 999", len(got), err)
	}
	addAccount(t, s, "acc-00001000")
	check("by age", 997, 998)
	// Beyond the last 100,000 entries.
	insert(t, 1001, 100_999, time.Now())
	addAccount(t, s, "acc-00101000")
	check("by count", 999, 1000)
}
