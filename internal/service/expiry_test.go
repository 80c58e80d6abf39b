package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/service"
)

// verdict simulates inbound TCP from addr to port on ins and returns
// "VERDICT LAYER[ POLICYINDEX]".
func verdict(t *testing.T, f *fixture, ins, addr string, port int) string {
	t.Helper()
	d, err := f.svc.SimulateTraffic(context.Background(), f.admin, service.SimulateInput{InstanceID: ins, Direction: "INGRESS", Protocol: "TCP", Address: addr, Port: port})
	if err != nil {
		t.Fatalf("SimulateTraffic: %v", err)
	}
	out := fmt.Sprint(d.Verdict, " ", d.Layer)
	if d.PolicyIndex != nil {
		out += fmt.Sprint(" ", *d.PolicyIndex)
	}
	return out
}

func newestHistory(t *testing.T, f *fixture, g string) service.HistoryEntry {
	t.Helper()
	h, _, err := f.svc.DescribeSecurityGroupHistory(context.Background(), f.readonly, service.HistoryQuery{SecurityGroupID: g, Page: service.Page{Limit: 1}})
	if err != nil || len(h) != 1 {
		t.Fatalf("DescribeSecurityGroupHistory = %v, %v", h, err)
	}
	return h[0]
}

func diffText(e service.HistoryEntry) string {
	var lines []string
	for _, l := range e.Diff {
		lines = append(lines, l.String())
	}
	return strings.Join(lines, "\n")
}

// TestDisabledPolicyDoesNotMatch disables a policy (it stays in its group,
// recorded as a new version) and re-enables it: disabled, it decides
// nothing; enabled again, it matches as before.
func TestDisabledPolicyDoesNotMatch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	g := f.group(t, f.admin, "g", "ACCEPT TCP 22 10.0.0.0/8 # ssh", "DROP TCP 22 0.0.0.0/0")
	ins := f.instances(t, [][]string{{g}}, "a")[0]
	set := func(disabled bool) {
		t.Helper()
		p := at(0, raw("ACCEPT TCP 22 10.0.0.0/8 # ssh"))
		p.Disabled = disabled
		if _, err := f.svc.ReplaceSecurityGroupPolicy(ctx, f.admin, service.PoliciesInput{SecurityGroupID: g,
			Set: service.PolicySetInput{Ingress: []service.PolicyInput{p}}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		disabled *bool
		want     string
		diff     string
	}{
		{name: "enabled by default", want: "ACCEPT SECURITY_GROUP 0"},
		{name: "disabled", disabled: new(true), want: "DROP SECURITY_GROUP 1",
			diff: "- Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh\n+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh [disabled]"},
		{name: "enabled again", disabled: new(false), want: "ACCEPT SECURITY_GROUP 0",
			diff: "- Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh [disabled]\n+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.disabled != nil {
				set(*tc.disabled)
			}
			if got := verdict(t, f, ins, "10.1.2.3", 22); got != tc.want {
				t.Errorf("SimulateTraffic(10.1.2.3:22) = %s, want %s", got, tc.want)
			}
			gp, err := f.svc.DescribeSecurityGroupPolicies(ctx, f.admin, service.DescribePoliciesInput{SecurityGroupID: g})
			if err != nil || len(gp.Ingress) != 2 || gp.Ingress[0].Disabled != (tc.disabled != nil && *tc.disabled) {
				t.Errorf("DescribeSecurityGroupPolicies = %+v, %v: want both policies, the first disabled = %v", gp.Ingress, err, tc.disabled != nil && *tc.disabled)
			}
			if tc.diff != "" {
				if got := diffText(newestHistory(t, f, g)); got != tc.diff {
					t.Errorf("history diff =\n%s\nwant\n%s", got, tc.diff)
				}
			}
		})
	}
}

// TestExpiredPoliciesAreSwept gives a policy an expiry: before it, the
// policy matches; from it, it matches nothing even before the sweep (and
// through a compiled list cached before); the sweep removes it as a new
// version recorded in the history, and a second sweep finds nothing.
func TestExpiredPoliciesAreSwept(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, service.Options{Clock: func() time.Time { return now }})
	g := f.group(t, f.admin, "g", "ACCEPT TCP 80 0.0.0.0/0")
	ins := f.instances(t, [][]string{{g}}, "a")[0]

	past := raw("ACCEPT TCP 22 10.0.0.0/8")
	past.ExpiresAt = now
	if _, err := f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: g,
		Set: service.PolicySetInput{Ingress: []service.PolicyInput{past}}}); err == nil || !strings.Contains(err.Error(), "ExpiresAt") {
		t.Errorf("a policy expiring now: %v, want an error naming ExpiresAt", err)
	}
	p := at(0, raw("ACCEPT TCP 22 10.0.0.0/8 # temporary"))
	p.ExpiresAt = now.Add(2 * time.Hour)
	w, err := f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: g,
		Set: service.PolicySetInput{Ingress: []service.PolicyInput{p}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := verdict(t, f, ins, "10.1.2.3", 22); got != "ACCEPT SECURITY_GROUP 0" {
		t.Fatalf("before the expiry: %s, want ACCEPT by policy 0", got)
	}
	if n, err := f.svc.SweepExpired(ctx); n != 0 || err != nil {
		t.Fatalf("SweepExpired before the expiry = %d, %v; want 0", n, err)
	}

	now = now.Add(2 * time.Hour)
	if got := verdict(t, f, ins, "10.1.2.3", 22); got != "DROP DEFAULT" {
		t.Errorf("at the expiry, before the sweep: %s, want DROP DEFAULT", got)
	}
	if got := verdict(t, f, ins, "10.1.2.3", 80); got != "ACCEPT SECURITY_GROUP 1" {
		t.Errorf("port 80 at the expiry, before the sweep: %s, want ACCEPT by policy 1 (indexes are kept)", got)
	}
	n, err := f.svc.SweepExpired(ctx)
	if n != 1 || err != nil {
		t.Fatalf("SweepExpired = %d, %v; want 1", n, err)
	}
	gp, err := f.svc.DescribeSecurityGroupPolicies(ctx, f.admin, service.DescribePoliciesInput{SecurityGroupID: g})
	if err != nil || gp.Version != w.Version+1 || len(gp.Ingress) != 1 || gp.Ingress[0].Raw().Port != "80" {
		t.Fatalf("after the sweep: version %d, %+v, %v; want version %d with the port 80 policy only", gp.Version, gp.Ingress, err, w.Version+1)
	}
	e := newestHistory(t, f, g)
	if want := "- Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # temporary [expires 2026-08-01T14:00:00Z]"; e.Action != service.ActionExpirePolicies ||
		e.SecretID != service.ExpirySecretID || e.Version != gp.Version || diffText(e) != want {
		t.Errorf("history of the sweep = %+v (diff %q), want %s by %s: %q", e, diffText(e), service.ActionExpirePolicies, service.ExpirySecretID, want)
	}
	if got := verdict(t, f, ins, "10.1.2.3", 80); got != "ACCEPT SECURITY_GROUP 0" {
		t.Errorf("port 80 after the sweep: %s, want ACCEPT by policy 0", got)
	}
	if n, err := f.svc.SweepExpired(ctx); n != 0 || err != nil {
		t.Errorf("second SweepExpired = %d, %v; want 0", n, err)
	}
}

// BenchmarkDescribeSecurityGroupHistory lists the newest 100 changes of a
// group with 1,000 versions (the default retention).
func BenchmarkDescribeSecurityGroupHistory(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, service.Options{})
	g := f.group(b, f.admin, "g", "ACCEPT TCP 22 10.0.0.0/8")
	for i := range 1000 {
		if _, err := f.svc.ReplaceSecurityGroupPolicy(ctx, f.admin, service.PoliciesInput{SecurityGroupID: g,
			Set: service.PolicySetInput{Ingress: []service.PolicyInput{at(0, raw(fmt.Sprintf("ACCEPT TCP %d 10.0.0.0/8", 1+i)))}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		h, total, err := f.svc.DescribeSecurityGroupHistory(ctx, f.admin, service.HistoryQuery{SecurityGroupID: g, Page: service.Page{Limit: 100}})
		if err != nil || len(h) != 100 || total < 1000 {
			b.Fatalf("DescribeSecurityGroupHistory = %d entries of %d, %v", len(h), total, err)
		}
	}
}

// BenchmarkSweepExpired is one sweep over 1,000 groups of 10 policies
// each, none of them due: the cost every sweep pays.
func BenchmarkSweepExpired(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, service.Options{})
	if _, err := f.svc.SetQuotas(ctx, f.accountID, service.Quotas{GroupsPerRegion: 2000}); err != nil {
		b.Fatal(err)
	}
	var ps []string
	for i := range 10 {
		ps = append(ps, fmt.Sprintf("ACCEPT TCP %d 10.0.0.0/8", 1+i))
	}
	for i := range 1000 {
		f.group(b, f.admin, fmt.Sprintf("g%d", i), ps...)
	}
	b.ResetTimer()
	for b.Loop() {
		if n, err := f.svc.SweepExpired(ctx); n != 0 || err != nil {
			b.Fatalf("SweepExpired = %d, %v", n, err)
		}
	}
}
