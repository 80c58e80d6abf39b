package service_test

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
)

// TestSimulateCorruptStore writes values that do not parse straight into
// the rows of a real SQLite store — an address template's entry and a
// member instance's address, both behind policies — and checks that
// SimulateTraffic refuses to decide, naming each group, policy and value,
// rather than deciding with the values skipped (which would open a DROP),
// and that DescribeInstances names the instance and its bad address.
func TestSimulateCorruptStore(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	path, svc, c, plat := f.path, f.svc, f.admin, f.platform
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ipm, err := svc.CreateAddressTemplate(ctx, c, service.TemplateInput{Name: "blocked", Entries: []service.TemplateEntry{{Value: "192.0.2.0/24"}}})
	must(err)
	ppm, err := svc.CreateServiceTemplate(ctx, c, service.TemplateInput{Name: "web", Entries: []service.TemplateEntry{{Value: "tcp:80"}}})
	must(err)
	ref, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "ref"})
	must(err)
	g, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "g", Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{
		raw("DROP TCP 22 " + ref.ID), raw("DROP ALL ALL " + ipm.ID), raw("ACCEPT ALL ALL 0.0.0.0/0"),
	}}})
	must(err)
	ids, err := svc.RegisterInstances(ctx, plat, service.RegisterInstancesInput{AccountID: f.account, Instances: []service.InstanceSpec{
		{InstanceName: "member", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.5"}, SecurityGroupIDs: []string{ref.ID}},
		{InstanceName: "target", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.9"}, SecurityGroupIDs: []string{g.ID}},
	}})
	must(err)
	member, target := ids[0], ids[1]

	// Before the corruption the DROPs decide.
	in := service.SimulateInput{InstanceID: target, Direction: "INGRESS", Protocol: "TCP", Address: "192.0.2.7", Port: 80}
	d, err := svc.SimulateTraffic(ctx, c, in)
	if err != nil || d.Verdict.String() != "DROP" || d.SecurityGroupID != g.ID || *d.PolicyIndex != 1 {
		t.Fatalf("SimulateTraffic before = %+v, %v; want DROP by %s policy 1", d, err, g.ID)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE templates SET entries = ? WHERE id = ?`, []any{`[{"v":"192.0.2.0/33"}]`, ipm.ID}},
		{`UPDATE instances SET private_ips = ? WHERE id = ?`, []any{"10.0.0.300", member}},
		{`UPDATE templates SET entries = ? WHERE id = ?`, []any{`[{"v":"tcp:80-"}]`, ppm.ID}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	// A write the feed records for every instance, so that no compiled list
	// is reused (the raw updates above bypass the feed).
	if err := svc.AddPlatformAddress(ctx, netip.MustParsePrefix("192.0.2.254/32")); err != nil {
		t.Fatal(err)
	}

	d, err = svc.SimulateTraffic(ctx, c, in)
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindUnresolvable {
		t.Fatalf("SimulateTraffic after = %+v, %v; want a KindUnresolvable error", d, err)
	}
	t.Logf("SimulateTraffic: %s", se.Message)
	for _, want := range []string{target, g.ID + " Ingress policy 0", `"10.0.0.300"`, member, g.ID + " Ingress policy 1", `"192.0.2.0/33"`, ipm.ID} {
		if !strings.Contains(se.Message, want) {
			t.Errorf("error %q does not name %s", se.Message, want)
		}
	}

	// A policy written with the broken service template is not checked
	// against a partial expansion: the write fails, naming the entry.
	_, err = svc.CreateSecurityGroupPolicies(ctx, c, service.PoliciesInput{SecurityGroupID: ref.ID,
		Set: service.PolicySetInput{Egress: []service.PolicyInput{raw("ACCEPT " + ppm.ID + " 0.0.0.0/0")}}})
	if !errors.As(err, &se) || se.Kind != service.KindUnresolvable || !strings.Contains(se.Message, `"tcp:80-"`) {
		t.Errorf("CreateSecurityGroupPolicies = %v; want an error naming the stored entry", err)
	}

	_, _, err = svc.DescribeInstances(ctx, c, service.InstanceQuery{})
	if !errors.As(err, &se) || se.Kind != service.KindUnresolvable || !strings.Contains(se.Message, member) || !strings.Contains(se.Message, `"10.0.0.300"`) {
		t.Errorf("DescribeInstances = %v; want an error naming %s and its address", err, member)
	}
}

// TestSimulateMissingReferencedGroup deletes, straight from the rows of a
// real SQLite store, a group that a DROP policy references (a write the
// service refuses), its bindings left as they are, and checks that SimulateTraffic refuses to decide,
// naming the group, the policy and the missing group, rather than reading
// the reference as no address (which would open the DROP).
func TestSimulateMissingReferencedGroup(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	path, svc, c, plat := f.path, f.svc, f.admin, f.platform
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ref, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "ref"})
	must(err)
	g, _, err := svc.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "g", Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{
		raw("ACCEPT TCP 80 0.0.0.0/0"), raw("DROP ALL ALL " + ref.ID), raw("ACCEPT ALL ALL 0.0.0.0/0"),
	}}})
	must(err)
	ids, err := svc.RegisterInstances(ctx, plat, service.RegisterInstancesInput{AccountID: f.account, Instances: []service.InstanceSpec{
		{InstanceName: "member", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.5"}, SecurityGroupIDs: []string{ref.ID}},
		{InstanceName: "target", Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0.9"}, SecurityGroupIDs: []string{g.ID}},
	}})
	must(err)
	target := ids[1]

	// Before the corruption the DROP decides for the member's address.
	in := service.SimulateInput{InstanceID: target, Direction: "INGRESS", Protocol: "TCP", Address: "10.0.0.5", Port: 22}
	d, err := svc.SimulateTraffic(ctx, c, in)
	if err != nil || d.Verdict.String() != "DROP" || d.SecurityGroupID != g.ID || *d.PolicyIndex != 1 {
		t.Fatalf("SimulateTraffic before = %+v, %v; want DROP by %s policy 1", d, err, g.ID)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `DELETE FROM security_groups WHERE id = ?`, ref.ID); err != nil {
		t.Fatal(err)
	}
	// A write the feed records for every instance (the raw delete bypasses
	// the feed).
	if err := svc.AddPlatformAddress(ctx, netip.MustParsePrefix("192.0.2.254/32")); err != nil {
		t.Fatal(err)
	}

	d, err = svc.SimulateTraffic(ctx, c, in)
	var se *service.Error
	if !errors.As(err, &se) || se.Kind != service.KindUnresolvable {
		t.Fatalf("SimulateTraffic after = %+v, %v; want a KindUnresolvable error", d, err)
	}
	for _, want := range []string{target, g.ID + " Ingress policy 1", `"` + ref.ID + `"`, "does not exist"} {
		if !strings.Contains(se.Message, want) {
			t.Errorf("error %q does not name %s", se.Message, want)
		}
	}
}
