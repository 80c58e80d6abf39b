package service

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

func TestChangeAffects(t *testing.T) {
	d := resolve.Deps{Account: "acc-a", Instance: "ins-self", Groups: []string{"sg-bound1", "sg-bound2"}, Refs: []string{"sg-ref"},
		Members: []string{"ins-m1", "ins-m2"}, Templates: []string{"ipm-used", "ppm-used"}}
	tests := []struct {
		name string
		ch   store.Change
		want bool
	}{
		{"nothing", store.Change{AccountID: "acc-a", Accounts: []string{"acc-a"}}, false},
		{"account row", store.Change{AccountID: "acc-a", Accounts: []string{"acc-a"}, AccountRow: true}, true},
		{"account row among several", store.Change{Accounts: []string{"acc-a", "acc-b"}, AccountRow: true}, true},
		{"another account's row", store.Change{AccountID: "acc-b", Accounts: []string{"acc-b"}, AccountRow: true}, false},
		{"platform addresses", store.Change{Platform: true}, true},
		{"a host", store.Change{Hosts: []string{"host-1"}}, false},
		{"bound group", store.Change{Groups: []string{"sg-bound2"}}, true},
		{"referenced group", store.Change{Groups: []string{"sg-ref"}}, true},
		{"other group", store.Change{Groups: []string{"sg-other"}}, false},
		{"the instance", store.Change{Instances: []string{"ins-self"}}, true},
		{"a member's addresses or a binding to the reference", store.Change{Instances: []string{"ins-m2"}, Members: []string{"sg-x", "sg-ref"}}, true},
		{"members of a bound group", store.Change{Instances: []string{"ins-new"}, Members: []string{"sg-bound1"}}, false},
		{"a member renamed", store.Change{Instances: []string{"ins-m1"}}, false},
		{"template used", store.Change{Templates: []string{"ppm-used"}}, true},
		{"other template", store.Change{Templates: []string{"ppm-other"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := affects(&tt.ch, &d); got != tt.want {
				t.Errorf("affects(%+v) = %v, want %v", tt.ch, got, tt.want)
			}
		})
	}
}

// TestSimulatePromotes checks that the cache keeps an instance's compiled
// lists across writes that do not concern it, and compiles them again after
// one that does or after a write it did not see.
func TestSimulatePromotes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, Options{})
	acct, err := s.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := s.LookupCredential(ctx, acct.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	c := cred.Caller("ap-guangzhou", "r")
	pk, err := s.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plat, err := s.LookupCredential(ctx, pk.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	mine, _, err := s.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := s.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.RegisterInstances(ctx, plat.Caller("ap-guangzhou", "r"), RegisterInstancesInput{AccountID: acct.AccountID, Instances: []InstanceSpec{
		{InstanceName: "a", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.1"}, SecurityGroupIDs: []string{mine.ID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	compiled := func() *simEntry {
		t.Helper()
		e, err := s.simulation(ctx, c, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	port := 0
	write := func(s *Service, g string) {
		t.Helper()
		port++
		in := PoliciesInput{SecurityGroupID: g, Set: PolicySetInput{Egress: []PolicyInput{{Raw: policy.Raw{Protocol: "TCP", Port: strconv.Itoa(port), CidrBlock: "192.0.2.1", Action: "ACCEPT"}}}}}
		if _, err := s.CreateSecurityGroupPolicies(ctx, c, in); err != nil {
			t.Fatal(err)
		}
	}
	first := compiled()
	write(s, theirs.ID)
	write(s, theirs.ID)
	if e := compiled(); e.ingress != first.ingress || e.revision <= first.revision {
		t.Errorf("after writes to another group: recompiled (revision %d → %d)", first.revision, e.revision)
	}
	write(s, mine.ID)
	second := compiled()
	if second.ingress == first.ingress {
		t.Error("after a write to the instance's group: not recompiled")
	}
	// A write through another Service on the same store.
	st2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	replica := New(st2, Options{})
	write(replica, theirs.ID)
	third := compiled()
	if third.ingress != second.ingress || third.revision <= second.revision {
		t.Errorf("after a write through another replica to another group: recompiled (revision %d → %d)", second.revision, third.revision)
	}
	write(replica, mine.ID)
	fourth := compiled()
	if fourth.ingress == third.ingress {
		t.Error("after a write through another replica to the instance's group: not recompiled")
	}
	if d, err := s.SimulateTraffic(ctx, c, SimulateInput{InstanceID: ids[0], Direction: "EGRESS", Protocol: "TCP", Address: "192.0.2.1", Port: port}); err != nil ||
		d.Verdict != policy.Accept || d.SecurityGroupID != mine.ID {
		t.Errorf("SimulateTraffic of the replica's policy = %+v, %v; want ACCEPT by %s", d, err, mine.ID)
	}
	// A feed compacted past the entry's revision: compiled again.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Compaction keeps the newest entry, as the store's pruning does.
	compact := func() {
		t.Helper()
		if _, err := raw.ExecContext(ctx, `DELETE FROM changes WHERE revision < (SELECT MAX(revision) FROM changes)`); err != nil {
			t.Fatal(err)
		}
	}
	compact()
	// The cache's tail of the feed still holds the entries compacted: the
	// lists stay valid.
	write(replica, theirs.ID)
	fifth := compiled()
	if fifth.ingress != fourth.ingress {
		t.Error("after the feed was compacted past entries the cache had read: recompiled")
	}
	// Compacted past entries the cache does not hold: compiled again.
	s.cache.tail.mu.Lock()
	s.cache.tail.from, s.cache.tail.changes = 0, nil
	s.cache.tail.mu.Unlock()
	write(replica, theirs.ID)
	write(replica, theirs.ID)
	compact()
	write(replica, theirs.ID)
	if e := compiled(); e.ingress == fifth.ingress {
		t.Error("after the feed was compacted: not recompiled")
	}
}
