package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

func addHost(t *testing.T, s store.Store, id string) {
	t.Helper()
	tx(t, s, func(tx store.Tx) error {
		return tx.CreateHost(context.Background(), store.Host{ID: id, Name: "name-" + id, Created: t0})
	})
}

func testHostStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	addHost(t, s, "host-00000001")
	addHost(t, s, "host-00000002")
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetHostStatus(ctx, "host-00000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetHostStatus before any report: %v, want ErrNotFound", err)
		}
		return nil
	})
	rev := revision(t, s)
	first := store.HostStatus{HostID: "host-00000001", AppliedRevision: 7, AgentStart: t0, Reported: t0.Add(time.Minute),
		Errors: []store.HostError{{InstanceID: "ins-00000001", Message: "nft: no such device"}, {Message: "table flushed"}}}
	tx(t, s, func(tx store.Tx) error { return tx.SetHostStatus(ctx, first) })
	second := store.HostStatus{HostID: "host-00000001", AppliedRevision: 9, AgentStart: t0, Reported: t0.Add(2 * time.Minute)}
	tx(t, s, func(tx store.Tx) error { return tx.SetHostStatus(ctx, second) })
	other := store.HostStatus{HostID: "host-00000002", AppliedRevision: 3, AgentStart: t0, Reported: t0}
	tx(t, s, func(tx store.Tx) error { return tx.SetHostStatus(ctx, other) })
	if got := revision(t, s); got != rev {
		t.Errorf("revision after reports = %d, want %d: a report is not a change", got, rev)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetHostStatus(ctx, "host-00000001")
		if err != nil || !reflect.DeepEqual(got, second) {
			t.Errorf("GetHostStatus = %+v, %v, want %+v", got, err, second)
		}
		list, err := tx.ListHostStatus(ctx, []string{"host-00000002", "host-00000009", "host-00000001"})
		if err != nil || len(list) != 2 || list[0].HostID != "host-00000002" || list[1].HostID != "host-00000001" {
			t.Errorf("ListHostStatus = %+v, %v, want hosts 2 and 1", list, err)
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error { return tx.SetHostStatus(ctx, first) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetHostStatus(ctx, "host-00000001")
		if err != nil || !reflect.DeepEqual(got, first) {
			t.Errorf("GetHostStatus = %+v, %v, want %+v", got, err, first)
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error { return tx.DeleteHost(ctx, "host-00000001") })
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetHostStatus(ctx, "host-00000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetHostStatus of a deleted host: %v, want ErrNotFound", err)
		}
		return nil
	})
}

func testHostCounters(t *testing.T, s store.Store) {
	ctx := context.Background()
	addHost(t, s, "host-00000001")
	addHost(t, s, "host-00000002")
	key := func(host, group string, index int) store.CounterKey {
		return store.CounterKey{HostID: host, InstanceID: "ins-00000001", Direction: policy.Ingress, GroupID: group, PolicyIndex: index}
	}
	c := func(group string, index int, packets, bytes int64) store.HostCounter {
		return store.HostCounter{CounterKey: key("", group, index), Packets: packets, Bytes: bytes}
	}
	run1, run2 := t0, t0.Add(time.Hour)
	report := func(host string, start time.Time, at time.Duration, cs ...store.HostCounter) {
		t.Helper()
		tx(t, s, func(tx store.Tx) error { return tx.AddHostCounters(ctx, host, start, t0.Add(at), cs) })
	}
	type total struct {
		host           string
		index          int
		packets, bytes int64
	}
	want := func(step string, ts ...total) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			got, err := tx.GroupCounters(ctx, "sg-00000001")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(ts) {
				t.Fatalf("%s: GroupCounters = %+v, want %v", step, got, ts)
			}
			for i, w := range ts {
				g := got[i]
				if g.CounterKey != key(w.host, "sg-00000001", w.index) || g.Packets != w.packets || g.Bytes != w.bytes {
					t.Errorf("%s: counter %d = %+v, want %+v", step, i, g, w)
				}
			}
			return nil
		})
	}
	rev := revision(t, s)
	report("host-00000001", run1, 0, c("sg-00000001", 0, 10, 1000), c("sg-00000001", 1, 0, 0), c("sg-00000002", 0, 5, 5))
	want("first report", total{"host-00000001", 0, 10, 1000}, total{"host-00000001", 1, 0, 0})
	// The same run: the values are cumulative, so a report replaces them,
	// and the same report sent again changes nothing.
	report("host-00000001", run1, time.Minute, c("sg-00000001", 0, 15, 1500))
	report("host-00000001", run1, time.Minute, c("sg-00000001", 0, 15, 1500))
	want("same run", total{"host-00000001", 0, 15, 1500}, total{"host-00000001", 1, 0, 0})
	// The agent restarts: its counters start from zero again.
	report("host-00000001", run2, 2*time.Minute, c("sg-00000001", 0, 4, 400))
	want("restart", total{"host-00000001", 0, 19, 1900}, total{"host-00000001", 1, 0, 0})
	// A late report of the earlier run changes nothing.
	report("host-00000001", run1, 3*time.Minute, c("sg-00000001", 0, 16, 1600))
	want("late report", total{"host-00000001", 0, 19, 1900}, total{"host-00000001", 1, 0, 0})
	// The counters went down within a run (the rules were applied
	// again): what was counted is kept.
	report("host-00000001", run2, 4*time.Minute, c("sg-00000001", 0, 1, 100))
	want("reset", total{"host-00000001", 0, 20, 2000}, total{"host-00000001", 1, 0, 0})
	// Another host's counters of the same group are kept apart.
	report("host-00000002", run1, 5*time.Minute, c("sg-00000001", 0, 7, 70))
	want("two hosts", total{"host-00000001", 0, 20, 2000}, total{"host-00000001", 1, 0, 0}, total{"host-00000002", 0, 7, 70})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GroupCounters(ctx, "sg-00000001")
		if err != nil {
			return err
		}
		if !got[0].Since.Equal(t0) || !got[0].Updated.Equal(t0.Add(4*time.Minute)) {
			t.Errorf("window = %v to %v, want %v to %v", got[0].Since, got[0].Updated, t0, t0.Add(4*time.Minute))
		}
		return nil
	})
	if got := revision(t, s); got != rev {
		t.Errorf("revision after counters = %d, want %d: counters are not a change", got, rev)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteHost(ctx, "host-00000002") })
	want("host deleted", total{"host-00000001", 0, 20, 2000}, total{"host-00000001", 1, 0, 0})
}

func testLastChange(t *testing.T, s store.Store) {
	ctx := context.Background()
	addAccount(t, s, "acc-00000001")
	g1 := group("sg-00000001", "acc-00000001", "ap-guangzhou", "one", "ACCEPT TCP 22 10.0.0.0/8")
	g2 := group("sg-00000002", "acc-00000001", "ap-guangzhou", "two")
	tx(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, g1) })
	tx(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, g2) })
	created2 := revision(t, s)
	g1.Policies.Ingress = append(g1.Policies.Ingress, mustPolicy("DROP TCP 23 0.0.0.0/0"))
	g1.Policies.Version++
	tx(t, s, func(tx store.Tx) error { return tx.UpdateGroup(ctx, g1, g1.Policies.Version-1) })
	updated1 := revision(t, s)
	addHost(t, s, "host-00000001")
	for _, tt := range []struct {
		id   string
		want int64
	}{
		{"sg-00000001", updated1},
		{"sg-00000002", created2},
		{"sg-0000000", 0}, // a prefix of an id names nothing
		{"sg-00000009", 0},
		{"acc-00000001", updated1},
		{"host-00000001", updated1 + 1},
	} {
		t.Run(tt.id, func(t *testing.T) {
			view(t, s, func(tx store.Tx) error {
				got, err := tx.LastChange(ctx, tt.id)
				if err != nil || got != tt.want {
					t.Errorf("LastChange(%s) = %d, %v, want %d", tt.id, got, err, tt.want)
				}
				return nil
			})
		})
	}
}
