package service_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestDescribeSecurityGroupFindings: findings resolve references as the
// simulation does (a policy covered by a referenced group's members is
// found), answer only the caller's own groups and instances, in their
// region, and refuse stored data that does not resolve.
func TestDescribeSecurityGroupFindings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	a, err := svc.CreateAccount(ctx, "a")
	must(err)
	b, err := svc.CreateAccount(ctx, "b")
	must(err)
	pk, err := svc.CreatePlatformKey(ctx)
	must(err)
	caller := func(secretID, region string) service.Caller {
		cr, err := svc.LookupCredential(ctx, secretID)
		must(err)
		return cr.Caller(region, "req")
	}
	c, other, plat := caller(a.SecretID, "ap-guangzhou"), caller(b.SecretID, "ap-guangzhou"), caller(pk.SecretID, "ap-guangzhou")

	ipm, err := svc.CreateAddressTemplate(ctx, c, service.TemplateInput{Name: "office", Entries: []service.TemplateEntry{{Value: "192.0.2.0/24"}}})
	must(err)
	ref, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "ref"})
	must(err)
	g, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "g", Policies: &service.PolicySetInput{
		Ingress: []service.PolicyInput{
			raw("DROP TCP 22 " + ref.ID),
			raw("ACCEPT TCP 22 10.0.0.5"),     // the member's address: shadowed by policy 0
			raw("ACCEPT TCP 80 " + ipm.ID),    // the template's addresses
			raw("ACCEPT TCP 80 192.0.2.0/25"), // within them: redundant
			raw("ACCEPT ICMP ALL 0.0.0.0/0"),
		},
		Egress: []service.PolicyInput{raw("ACCEPT ALL ALL 0.0.0.0/0")},
	}})
	must(err)
	ids, err := svc.RegisterInstances(ctx, plat, service.RegisterInstancesInput{AccountID: a.AccountID, Instances: []service.InstanceSpec{
		{InstanceName: "member", OsType: "linux", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.5"}, SecurityGroupIDs: []string{ref.ID}},
		{InstanceName: "target", OsType: "linux", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.9"}, SecurityGroupIDs: []string{g.ID}},
	}})
	must(err)
	target := ids[1]
	kinds := func(sets []service.FindingSet) []string {
		var out []string
		for _, s := range sets {
			for _, f := range s.Findings {
				out = append(out, fmt.Sprintf("%s %s %s %d", f.Kind, f.SecurityGroupID, f.Direction, f.PolicyIndex))
			}
		}
		return out
	}

	sets, err := svc.DescribeSecurityGroupFindings(ctx, c, service.FindingsInput{SecurityGroupIDs: []string{g.ID, ref.ID, g.ID}})
	must(err)
	want := []string{
		"SHADOWED " + g.ID + " INGRESS 1",
		"REDUNDANT " + g.ID + " INGRESS 3",
		"PORT25_BLOCKED " + g.ID + " EGRESS 0",
	}
	if got := kinds(sets); !slices.Equal(got, want) || len(sets) != 2 || sets[0].SecurityGroupID != g.ID || sets[1].SecurityGroupID != ref.ID {
		t.Fatalf("group findings = %q in %d sets, want %q in 2 (g, ref)", got, len(sets), want)
	}
	if p := sets[0].Findings[0].Policies; len(p) != 2 || p[1].SecurityGroupID != g.ID || p[1].PolicyIndex != 0 {
		t.Errorf("SHADOWED policies %+v, want policy 0, the reference to %s", p, ref.ID)
	}

	sets, err = svc.DescribeSecurityGroupFindings(ctx, c, service.FindingsInput{InstanceIDs: []string{target}})
	must(err)
	want = append(slices.Clone(want), "NO_LOGIN_PORT  INGRESS -1") // the port 25 DROP covers ACCEPT ALL ALL only in part
	if got := kinds(sets); !slices.Equal(got, want) || sets[0].InstanceID != target {
		t.Fatalf("instance findings = %q, want %q", got, want)
	}

	// Another account's group and instance, or another region's, are not
	// found; the id is named.
	var se *service.Error
	for _, tt := range []struct {
		name string
		c    service.Caller
		in   service.FindingsInput
	}{
		{"other account's group", other, service.FindingsInput{SecurityGroupIDs: []string{g.ID}}},
		{"other account's instance", other, service.FindingsInput{InstanceIDs: []string{target}}},
		{"other region's group", caller(a.SecretID, "ap-shanghai"), service.FindingsInput{SecurityGroupIDs: []string{g.ID}}},
	} {
		_, err := svc.DescribeSecurityGroupFindings(ctx, tt.c, tt.in)
		if !errors.As(err, &se) || se.Kind != service.KindNotFound || !strings.Contains(se.Message, strings.Join(append(tt.in.SecurityGroupIDs, tt.in.InstanceIDs...), "")) {
			t.Errorf("%s: %v, want not found", tt.name, err)
		}
	}

	// A template entry that does not parse refuses both kinds of request,
	// naming the group, the policy and the value.
	db, err := sql.Open("sqlite", path)
	must(err)
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `UPDATE templates SET entries = ? WHERE id = ?`, `[{"v":"192.0.2.0/33"}]`, ipm.ID); err != nil {
		t.Fatal(err)
	}
	must(svc.AddPlatformAddress(ctx, netip.MustParsePrefix("192.0.2.254/32")))
	for _, in := range []service.FindingsInput{{SecurityGroupIDs: []string{g.ID}}, {InstanceIDs: []string{target}}} {
		sets, err := svc.DescribeSecurityGroupFindings(ctx, c, in)
		if !errors.As(err, &se) || se.Kind != service.KindUnresolvable {
			t.Fatalf("findings of %v after corruption = %v, %v; want KindUnresolvable", in, kinds(sets), err)
		}
		for _, w := range []string{g.ID + " Ingress policy 2", `"192.0.2.0/33"`} {
			if !strings.Contains(se.Message, w) {
				t.Errorf("error %q does not name %s", se.Message, w)
			}
		}
	}
}

// TestUnusedFindings: a policy the agents counted no packet for, over a
// period of counters at least the window since the group's last write,
// is UNUSED; one they counted is not; too short a period says nothing.
func TestUnusedFindings(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	a, err := svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cr, err := svc.LookupCredential(ctx, a.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	c := cr.Caller("ap-guangzhou", "req")
	g, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "g", Policies: &service.PolicySetInput{
		Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 10.0.0.0/8"), raw("ACCEPT TCP 80 10.0.0.0/8")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.CreateHost(ctx, "hv-1")
	if err != nil {
		t.Fatal(err)
	}
	report := func(at time.Time, ssh int64) {
		t.Helper()
		err := st.Tx(ctx, func(tx store.Tx) error {
			key := func(i int) store.CounterKey {
				return store.CounterKey{HostID: h.HostID, InstanceID: "ins-0000000a", Direction: policy.Ingress, GroupID: g.ID, PolicyIndex: i}
			}
			return tx.AddHostCounters(ctx, h.HostID, time.Now().Add(-time.Hour), at, []store.HostCounter{
				{CounterKey: key(0), Packets: ssh}, {CounterKey: key(1), Packets: 0},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	unused := func(window time.Duration) []int {
		t.Helper()
		sets, err := svc.DescribeSecurityGroupFindings(ctx, c, service.FindingsInput{SecurityGroupIDs: []string{g.ID}, UnusedWindow: window})
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, f := range sets[0].Findings {
			if f.Kind == analysis.KindUnused {
				out = append(out, f.PolicyIndex)
			}
		}
		return out
	}
	if got := unused(time.Millisecond); got != nil {
		t.Errorf("with no counters: UNUSED %v, want none", got)
	}
	now := time.Now()
	report(now.Add(time.Second), 3)
	report(now.Add(3*time.Second), 5)
	if got := unused(time.Second); !slices.Equal(got, []int{1}) {
		t.Errorf("UNUSED %v, want [1] (policy 0 counted packets)", got)
	}
	if got := unused(time.Hour); got != nil {
		t.Errorf("with counters over 2 s and a window of an hour: UNUSED %v, want none", got)
	}
}
