package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

type fixture struct {
	svc       *service.Service
	st        store.Store
	admin     service.Caller // account A, ap-guangzhou
	readonly  service.Caller // account A, read-only
	shanghai  service.Caller // account A, ap-shanghai
	other     service.Caller // account B, ap-guangzhou
	platform  service.Caller // ap-guangzhou
	accountID string
}

func newFixture(t testing.TB, opts service.Options) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opts.Clock == nil {
		now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
		opts.Clock = func() time.Time { return now }
	}
	svc := service.New(st, opts)
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateAccount(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := svc.CreateCredential(ctx, a.AccountID, service.RoleReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(id string) service.Credential {
		c, err := svc.LookupCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return &fixture{
		svc:       svc,
		st:        st,
		admin:     lookup(a.SecretID).Caller("ap-guangzhou", "req-a"),
		readonly:  lookup(ro.SecretID).Caller("ap-guangzhou", "req-ro"),
		shanghai:  lookup(a.SecretID).Caller("ap-shanghai", "req-sh"),
		other:     lookup(b.SecretID).Caller("ap-guangzhou", "req-b"),
		platform:  lookup(pk.SecretID).Caller("ap-guangzhou", "req-p"),
		accountID: a.AccountID,
	}
}

func raw(s string) service.PolicyInput {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return service.PolicyInput{Raw: p.Raw()}
}

func at(i int, in service.PolicyInput) service.PolicyInput {
	in.Index = &i
	return in
}

func idx(i int) service.PolicyInput { return service.PolicyInput{Index: &i} }

func (f *fixture) group(t testing.TB, c service.Caller, name string, ingress ...string) string {
	t.Helper()
	in := service.CreateGroupInput{Name: name}
	if len(ingress) > 0 {
		in.Policies = &service.PolicySetInput{}
		for _, p := range ingress {
			in.Policies.Ingress = append(in.Policies.Ingress, raw(p))
		}
	}
	g, _, err := f.svc.CreateSecurityGroup(context.Background(), c, in)
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func (f *fixture) policies(t testing.TB, c service.Caller, id string) (uint64, []string, []string) {
	t.Helper()
	gp, err := f.svc.DescribeSecurityGroupPolicies(context.Background(), c, service.DescribePoliciesInput{SecurityGroupID: id})
	if err != nil {
		t.Fatal(err)
	}
	str := func(ps []service.IndexedPolicy) []string {
		out := []string{}
		for _, p := range ps {
			q := p.Policy
			q.Description, q.ModifyTime = "", time.Time{}
			out = append(out, q.String())
		}
		return out
	}
	return gp.Version, str(gp.Ingress), str(gp.Egress)
}

func (f *fixture) instances(t testing.TB, groups [][]string, names ...string) []string {
	t.Helper()
	var specs []service.InstanceSpec
	for i, n := range names {
		spec := service.InstanceSpec{InstanceName: n, Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{"10.0.0." + string(rune('1'+i))}}
		if i < len(groups) {
			spec.SecurityGroupIDs = groups[i]
		}
		specs = append(specs, spec)
	}
	ids, err := f.svc.RegisterInstances(context.Background(), f.platform, service.RegisterInstancesInput{AccountID: f.accountID, Instances: specs})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func kindOf(err error) service.Kind {
	var e *service.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func fieldOf(err error) (string, policy.ErrorKind) {
	fes := policy.FieldErrors(err)
	if len(fes) == 0 {
		return "", 0
	}
	return fes[0].Field, fes[0].Kind
}

func wantKind(t *testing.T, err error, want service.Kind) *service.Error {
	t.Helper()
	var e *service.Error
	if !errors.As(err, &e) || e.Kind != want {
		t.Fatalf("error = %v, want kind %v", err, want)
	}
	return e
}

func TestCreateFromTemplate(t *testing.T) {
	f := newFixture(t, service.Options{})
	g, _, err := f.svc.CreateSecurityGroup(context.Background(), f.admin, service.CreateGroupInput{Name: "oc", Template: "open-common"})
	if err != nil {
		t.Fatal(err)
	}
	v, in, eg := f.policies(t, f.admin, g.ID)
	wantIn := []string{"ACCEPT TCP 3389 0.0.0.0/0", "ACCEPT TCP 3389 ::/0", "ACCEPT TCP 22 0.0.0.0/0", "ACCEPT TCP 22 ::/0",
		"ACCEPT TCP 80,443 0.0.0.0/0", "ACCEPT TCP 80,443 ::/0", "ACCEPT ICMP ALL 0.0.0.0/0", "ACCEPT ICMPv6 ALL ::/0",
		"ACCEPT ALL ALL 10.0.0.0/8", "ACCEPT ALL ALL 172.16.0.0/12", "ACCEPT ALL ALL 192.168.0.0/16"}
	if v != 1 || !slices.Equal(in, wantIn) || !slices.Equal(eg, []string{"ACCEPT ALL ALL 0.0.0.0/0", "ACCEPT ALL ALL ::/0"}) {
		t.Errorf("open-common = v%d %v / %v", v, in, eg)
	}
	_, _, err = f.svc.CreateSecurityGroup(context.Background(), f.admin, service.CreateGroupInput{Name: "x", Template: "nope"})
	if field, _ := fieldOf(err); field != "Template" {
		t.Errorf("unknown template: %v", err)
	}
}

func TestPolicyWrites(t *testing.T) {
	ctx := context.Background()
	type step func(f *fixture, id string) (service.WriteResult, error)
	create := func(in ...service.PolicyInput) step {
		return func(f *fixture, id string) (service.WriteResult, error) {
			return f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: in}})
		}
	}
	// move is ReplaceSecurityGroupPolicies with update type u, moving the
	// policies orig names to the positions in new.
	move := func(u service.UpdateType, orig []service.PolicyInput, new ...service.PolicyInput) step {
		return func(f *fixture, id string) (service.WriteResult, error) {
			in := service.ReplacePoliciesInput{UpdateType: u, PoliciesInput: service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: new}}}
			if orig != nil {
				in.Original = &service.PolicySetInput{Ingress: orig}
			}
			return f.svc.ReplaceSecurityGroupPolicies(ctx, f.admin, in)
		}
	}
	p3 := []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"}
	tests := []struct {
		name      string
		initial   []string
		do        step
		wantIn    []string
		wantErr   string // field, or Kind name
		wantFKind policy.ErrorKind
	}{
		{"append", []string{"ACCEPT TCP 22 10.0.0.0/8"}, create(raw("ACCEPT TCP 80 0.0.0.0/0"), raw("DROP TCP 81 0.0.0.0/0")),
			[]string{"ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 80 0.0.0.0/0", "DROP TCP 81 0.0.0.0/0"}, "", 0},
		{"insert at top keeps request order", []string{"ACCEPT TCP 22 10.0.0.0/8"}, create(at(0, raw("ACCEPT TCP 80 0.0.0.0/0")), at(0, raw("DROP TCP 81 0.0.0.0/0"))),
			[]string{"ACCEPT TCP 80 0.0.0.0/0", "DROP TCP 81 0.0.0.0/0", "ACCEPT TCP 22 10.0.0.0/8"}, "", 0},
		{"insert in the middle", []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, create(at(1, raw("ACCEPT TCP 3 10.0.0.0/8"))),
			[]string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, "", 0},
		{"insert at length appends", []string{"ACCEPT TCP 1 10.0.0.0/8"}, create(at(1, raw("ACCEPT TCP 3 10.0.0.0/8"))),
			[]string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"}, "", 0},
		{"insert beyond length", []string{"ACCEPT TCP 1 10.0.0.0/8"}, create(at(2, raw("ACCEPT TCP 3 10.0.0.0/8"))),
			nil, "SecurityGroupPolicySet.Ingress.0.PolicyIndex", policy.OutOfRange},
		{"different indexes", nil, create(at(0, raw("ACCEPT TCP 3 10.0.0.0/8")), at(1, raw("ACCEPT TCP 4 10.0.0.0/8"))),
			nil, "SecurityGroupPolicySet.Ingress.1.PolicyIndex", policy.Malformed},
		{"malformed port names field and value", nil, create(raw("ACCEPT TCP 1 10.0.0.0/8"), service.PolicyInput{Raw: policy.Raw{Protocol: "TCP", Port: "70000", CidrBlock: "1.1.1.1", Action: "ACCEPT"}}),
			nil, "SecurityGroupPolicySet.Ingress.1.Port", policy.OutOfRange},
		{"no protocol, port or template means ALL", nil, create(service.PolicyInput{Raw: policy.Raw{CidrBlock: "10.0.0.0/8", Action: "DROP"}}),
			[]string{"DROP ALL ALL 10.0.0.0/8"}, "", 0},
		{"a port without a protocol", nil, create(service.PolicyInput{Raw: policy.Raw{Port: "22", CidrBlock: "10.0.0.0/8", Action: "DROP"}}),
			nil, "SecurityGroupPolicySet.Ingress.0.Protocol", policy.Missing},
		{"policies differing only in description", nil, create(raw("ACCEPT TCP 1 10.0.0.0/8 # a"), raw("ACCEPT TCP 1 10.0.0.0/8 # b")),
			[]string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8"}, "", 0},
		{"duplicate of an existing policy", []string{"ACCEPT TCP 22 10.0.0.0/8"}, create(raw("accept tcp 22 10.0.0.0/8")),
			nil, "DuplicatePolicy", 0},
		{"both directions", nil, func(f *fixture, id string) (service.WriteResult, error) {
			return f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id,
				Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 1 1.1.1.1")}, Egress: []service.PolicyInput{raw("ACCEPT TCP 1 1.1.1.1")}}})
		}, nil, "SecurityGroupPolicySet.Egress", policy.Coexist},
		{"unknown referenced group", nil, create(raw("ACCEPT TCP 22 sg-zzzzzzzz")), nil, "NotFound", 0},
		{"delete by index", []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{idx(2), idx(0)}}})
			}, []string{"ACCEPT TCP 2 10.0.0.0/8"}, "", 0},
		{"delete by index out of range", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{idx(1)}}})
			}, nil, "SecurityGroupPolicySet.Ingress.0.PolicyIndex", policy.OutOfRange},
		{"delete by content, case-insensitive", []string{"ACCEPT ICMP ALL 1.1.1.1", "ACCEPT TCP 2 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{
					{Raw: policy.Raw{Action: "Accept", Protocol: "icmp", CidrBlock: "1.1.1.1/32", Port: "all"}}}}})
			}, []string{"ACCEPT TCP 2 10.0.0.0/8"}, "", 0},
		{"delete mixing modes", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{idx(0), raw("ACCEPT TCP 1 10.0.0.0/8")}}})
			}, nil, "SecurityGroupPolicySet.Ingress.1", policy.Coexist},
		{"delete mixing modes, content first", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 1 10.0.0.0/8"), idx(0)}}})
			}, nil, "SecurityGroupPolicySet.Ingress.1.PolicyIndex", policy.Coexist},
		{"delete by index, an entry without one", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{idx(0), {}}}})
			}, nil, "SecurityGroupPolicySet.Ingress.1.PolicyIndex", policy.Missing},
		{"delete by content without protocol or port is ALL", []string{"ACCEPT TCP 1 10.0.0.0/8", "DROP ALL ALL 0.0.0.0/0"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{
					{Raw: policy.Raw{Action: "DROP", CidrBlock: "0.0.0.0/0"}}}}})
			}, []string{"ACCEPT TCP 1 10.0.0.0/8"}, "", 0},
		{"delete by content not found", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 9 10.0.0.0/8")}}})
			}, nil, "NotFound", 0},
		{"replace many", []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.ReplaceSecurityGroupPolicies(ctx, f.admin, service.ReplacePoliciesInput{UpdateType: service.UpdatePolicy, PoliciesInput: service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{
					at(2, raw("DROP TCP 30 10.0.0.0/8")), at(0, raw("DROP TCP 10 10.0.0.0/8"))}}}})
			}, []string{"DROP TCP 10 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "DROP TCP 30 10.0.0.0/8"}, "", 0},
		{"priority: move one to the top", p3, move(service.UpdatePriority, []service.PolicyInput{idx(2)}, idx(0)),
			[]string{"ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, "", 0},
		{"priority: move one to the end", p3, move(service.UpdatePriority, []service.PolicyInput{idx(0)}, idx(2)),
			[]string{"ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8"}, "", 0},
		{"priority: swap two, the other stays", p3, move(service.UpdatePriority, []service.PolicyInput{idx(0), idx(2)}, idx(2), idx(0)),
			[]string{"ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8"}, "", 0},
		{"priority: original content that matches", p3, move(service.UpdatePriority, []service.PolicyInput{at(1, raw("ACCEPT TCP 2 10.0.0.0/8"))}, at(0, raw("ACCEPT TCP 2 10.0.0.0/8"))),
			[]string{"ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"}, "", 0},
		{"priority: new content is refused, nothing changes", p3, move(service.UpdatePriority, []service.PolicyInput{idx(1)}, at(0, raw("DROP TCP 2 10.0.0.0/8"))),
			nil, "Unsupported", 0},
		{"priority: original that is not the policy there", p3, move(service.UpdatePriority, []service.PolicyInput{at(1, raw("ACCEPT TCP 9 10.0.0.0/8"))}, idx(0)),
			nil, "OriginalSecurityGroupPolicySet.Ingress.0", policy.Malformed},
		{"priority: original is required", p3, move(service.UpdatePriority, nil, idx(0)),
			nil, "OriginalSecurityGroupPolicySet", policy.Missing},
		{"priority: as many originals as targets", p3, move(service.UpdatePriority, []service.PolicyInput{idx(0), idx(1)}, idx(2)),
			nil, "OriginalSecurityGroupPolicySet.Ingress", policy.Malformed},
		{"priority: a position beyond the list", p3, move(service.UpdatePriority, []service.PolicyInput{idx(0)}, idx(3)),
			nil, "SecurityGroupPolicySet.Ingress.0.PolicyIndex", policy.OutOfRange},
		{"priority: one target twice", p3, move(service.UpdatePriority, []service.PolicyInput{idx(0), idx(1)}, idx(2), idx(2)),
			nil, "SecurityGroupPolicySet.Ingress.1.PolicyIndex", policy.Malformed},
		{"both: move and rewrite", p3, move(service.UpdateBoth, []service.PolicyInput{idx(2)}, at(0, raw("DROP TCP 30 10.0.0.0/8"))),
			[]string{"DROP TCP 30 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, "", 0},
		{"both: content is required", p3, move(service.UpdateBoth, []service.PolicyInput{idx(2)}, idx(0)),
			nil, "SecurityGroupPolicySet.Ingress.0.CidrBlock", policy.Missing},
		{"replace one needs an index", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.ReplaceSecurityGroupPolicy(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("DROP TCP 10 10.0.0.0/8")}}})
			}, nil, "SecurityGroupPolicySet.Ingress.0.PolicyIndex", policy.Missing},
		{"replace into a duplicate", []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.ReplaceSecurityGroupPolicy(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{at(1, raw("ACCEPT TCP 1 10.0.0.0/8"))}}})
			}, nil, "DuplicatePolicy", 0},
		{"replace one out of range", []string{"ACCEPT TCP 1 10.0.0.0/8"},
			func(f *fixture, id string) (service.WriteResult, error) {
				return f.svc.ReplaceSecurityGroupPolicy(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Ingress: []service.PolicyInput{at(5, raw("DROP TCP 10 10.0.0.0/8"))}}})
			}, nil, "SecurityGroupPolicySet.Ingress.0.PolicyIndex", policy.OutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, service.Options{})
			id := f.group(t, f.admin, "g", tc.initial...)
			v0, in0, _ := f.policies(t, f.admin, id)
			res, err := tc.do(f, id)
			v, in, _ := f.policies(t, f.admin, id)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				if !slices.Equal(in, tc.wantIn) {
					t.Errorf("Ingress = %v, want %v", in, tc.wantIn)
				}
				if v != v0+1 || res.Version != v {
					t.Errorf("Version %d -> %d (result %d), want +1", v0, v, res.Version)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %s", tc.wantErr)
			}
			if field, kind := fieldOf(err); field != tc.wantErr && kindOf(err).String() != tc.wantErr || field == tc.wantErr && kind != tc.wantFKind {
				t.Errorf("error = %v (field %q kind %v), want %s %v", err, field, kind, tc.wantErr, tc.wantFKind)
			}
			if v != v0 || !slices.Equal(in, in0) {
				t.Errorf("rejected write changed the group: v%d %v -> v%d %v", v0, in0, v, in)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	id := f.group(t, f.admin, "g")
	if v, _, _ := f.policies(t, f.admin, id); v != 0 {
		t.Fatalf("new empty group at version %d, want 0", v)
	}
	ins := func(version, rule string) error {
		_, err := f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id,
			Set: service.PolicySetInput{Version: version, Ingress: []service.PolicyInput{raw(rule)}}})
		return err
	}
	if err := ins("0", "ACCEPT TCP 1 1.1.1.1"); err != nil {
		t.Fatal(err)
	}
	if err := ins("", "ACCEPT TCP 2 1.1.1.1"); err != nil {
		t.Fatal(err)
	}
	e := wantKind(t, ins("1", "ACCEPT TCP 3 1.1.1.1"), service.KindVersionMismatch)
	if e.Field != "SecurityGroupPolicySet.Version" {
		t.Errorf("field = %q", e.Field)
	}
	if field, kind := fieldOf(ins("x", "ACCEPT TCP 3 1.1.1.1")); field != "SecurityGroupPolicySet.Version" || kind != policy.Malformed {
		t.Errorf("malformed version: %s %v", field, kind)
	}
	_, err := f.svc.DeleteSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Version: "7", Ingress: []service.PolicyInput{idx(0)}}})
	wantKind(t, err, service.KindVersionMismatch)
	_, err = f.svc.ReplaceSecurityGroupPolicy(ctx, f.admin, service.PoliciesInput{SecurityGroupID: id, Set: service.PolicySetInput{Version: "1", Ingress: []service.PolicyInput{at(0, raw("DROP TCP 1 1.1.1.1"))}}})
	wantKind(t, err, service.KindVersionMismatch)
	v, in, _ := f.policies(t, f.admin, id)
	if v != 2 || len(in) != 2 {
		t.Errorf("after mismatches: v%d %v, want v2 with 2 policies", v, in)
	}
	// Modify ignores Version unless "0".
	res, err := f.svc.ModifySecurityGroupPolicies(ctx, f.admin, service.ModifyPoliciesInput{SecurityGroupID: id,
		Set: service.PolicySetInput{Version: "99", Egress: []service.PolicyInput{raw("ACCEPT ALL ALL 0.0.0.0/0")}}})
	if err != nil || res.Version != 3 {
		t.Fatalf("Modify = %+v, %v", res, err)
	}
	v, in, eg := f.policies(t, f.admin, id)
	if v != 3 || len(in) != 2 || !slices.Equal(eg, []string{"ACCEPT ALL ALL 0.0.0.0/0"}) {
		t.Errorf("Modify egress only: v%d %v %v (ingress must be left as it was)", v, in, eg)
	}
	res, err = f.svc.ModifySecurityGroupPolicies(ctx, f.admin, service.ModifyPoliciesInput{SecurityGroupID: id,
		Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("DROP TCP 5 1.1.1.1"), raw("ACCEPT TCP 4 1.1.1.1")}}, SortPolicys: true})
	if err != nil {
		t.Fatal(err)
	}
	v, in, eg = f.policies(t, f.admin, id)
	if v != 4 || !slices.Equal(in, []string{"DROP TCP 5 1.1.1.1", "ACCEPT TCP 4 1.1.1.1"}) || len(eg) != 1 {
		t.Errorf("Modify ingress: v%d %v %v", v, in, eg)
	}
	if _, err := f.svc.ModifySecurityGroupPolicies(ctx, f.admin, service.ModifyPoliciesInput{SecurityGroupID: id,
		Set: service.PolicySetInput{Version: "0", Ingress: []service.PolicyInput{raw("DROP TCP 6 1.1.1.1")}}}); err != nil {
		t.Fatal(err)
	}
	v, in, eg = f.policies(t, f.admin, id)
	if v != 5 || len(in) != 0 || len(eg) != 0 {
		t.Errorf("Modify Version 0: v%d %v %v, want v5 and nothing", v, in, eg)
	}
}

func TestQuotas(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{Quotas: service.Quotas{GroupsPerRegion: 3, PoliciesPerDirection: 2, GroupsPerInstance: 2, InstancesPerGroup: 2, ReferencedGroupsPerGroup: 1}})
	q, err := f.svc.DescribeSecurityGroupLimits(ctx, f.admin)
	if err != nil || q.GroupsPerRegion != 3 || q.ReferencedGroupsPerGroup != 1 {
		t.Fatalf("limits = %+v, %v", q, err)
	}
	a, b, c := f.group(t, f.admin, "a"), f.group(t, f.admin, "b"), f.group(t, f.admin, "c")
	_, _, err = f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "d"})
	if e := wantKind(t, err, service.KindLimitExceeded); e.Quota != service.QuotaGroupsPerRegion {
		t.Errorf("quota = %s", e.Quota)
	}
	if _, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "d", ProjectID: 1}); err != nil {
		t.Errorf("another project has its own quota: %v", err)
	}
	_, err = f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: a, Set: service.PolicySetInput{
		Ingress: []service.PolicyInput{raw("ACCEPT TCP 1 1.1.1.1"), raw("ACCEPT TCP 2 1.1.1.1"), raw("ACCEPT TCP 3 1.1.1.1")}}})
	if e := wantKind(t, err, service.KindLimitExceeded); e.Quota != service.QuotaPoliciesPerDirection {
		t.Errorf("quota = %s", e.Quota)
	}
	_, err = f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: a, Set: service.PolicySetInput{
		Ingress: []service.PolicyInput{raw("ACCEPT TCP 1 " + b), raw("ACCEPT TCP 1 " + c)}}})
	if e := wantKind(t, err, service.KindLimitExceeded); e.Quota != service.QuotaReferencedGroupsPerGroup {
		t.Errorf("quota = %s", e.Quota)
	}
	ins := f.instances(t, [][]string{{a, b}, {a}}, "i1", "i2", "i3")
	err = f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{c}, InstanceIDs: []string{ins[0]}})
	if e := wantKind(t, err, service.KindLimitExceeded); e.Quota != service.QuotaGroupsPerInstance {
		t.Errorf("quota = %s", e.Quota)
	}
	err = f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{a}, InstanceIDs: []string{ins[2]}})
	if e := wantKind(t, err, service.KindLimitExceeded); e.Quota != service.QuotaInstancesPerGroup {
		t.Errorf("quota = %s", e.Quota)
	}
	// The operator raises quotas.
	if _, err := f.svc.SetQuotas(ctx, f.accountID, service.Quotas{InstancesPerGroup: 10}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{a}, InstanceIDs: []string{ins[2]}}); err != nil {
		t.Errorf("after raising the quota: %v", err)
	}
}

func TestBindings(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	a, b, c := f.group(t, f.admin, "a"), f.group(t, f.admin, "b"), f.group(t, f.admin, "c")
	ins := f.instances(t, [][]string{{b}}, "i1", "i2")
	groupsOf := func(id string) []string {
		t.Helper()
		list, _, err := f.svc.DescribeInstances(ctx, f.admin, service.InstanceQuery{IDs: []string{id}})
		if err != nil || len(list) != 1 {
			t.Fatalf("DescribeInstances = %v, %v", list, err)
		}
		return list[0].SecurityGroupIDs
	}
	if err := f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{a}, InstanceIDs: ins}); err != nil {
		t.Fatal(err)
	}
	if got := groupsOf(ins[0]); !slices.Equal(got, []string{b, a}) {
		t.Errorf("after associate: %v, want [b a] (appended at the end)", got)
	}
	if err := f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{b}, InstanceIDs: []string{ins[0]}}); err != nil {
		t.Fatal(err)
	}
	if got := groupsOf(ins[0]); !slices.Equal(got, []string{b, a}) {
		t.Errorf("re-associating a bound group moved it: %v", got)
	}
	if err := f.svc.ModifyInstancesAttribute(ctx, f.admin, service.ModifyInstancesInput{InstanceIDs: []string{ins[0]}, SecurityGroupIDs: []string{c, a, b}}); err != nil {
		t.Fatal(err)
	}
	if got := groupsOf(ins[0]); !slices.Equal(got, []string{c, a, b}) {
		t.Errorf("after modify: %v", got)
	}
	if err := f.svc.DisassociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{a}, InstanceIDs: []string{ins[0]}}); err != nil {
		t.Fatal(err)
	}
	if got := groupsOf(ins[0]); !slices.Equal(got, []string{c, b}) {
		t.Errorf("after disassociate: %v", got)
	}
	// All or nothing: one unknown instance leaves the others untouched.
	err := f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{c}, InstanceIDs: []string{ins[1], "ins-zzzzzzzz"}})
	wantKind(t, err, service.KindNotFound)
	if got := groupsOf(ins[1]); !slices.Equal(got, []string{a}) {
		t.Errorf("failed associate changed %s: %v", ins[1], got)
	}
	// Only the instance's region's groups.
	sh := f.group(t, f.shanghai, "sh")
	err = f.svc.AssociateSecurityGroups(ctx, f.admin, service.BindInput{SecurityGroupIDs: []string{sh}, InstanceIDs: []string{ins[1]}})
	wantKind(t, err, service.KindNotFound)
	// Recycle bin keeps bindings; purge releases them.
	if err := f.svc.TerminateInstances(ctx, f.admin, []string{ins[1]}); err != nil {
		t.Fatal(err)
	}
	list, _, _ := f.svc.DescribeInstances(ctx, f.admin, service.InstanceQuery{Filters: []service.Filter{{Name: "instance-state", Values: []string{"RECYCLED"}}}})
	if len(list) != 1 || list[0].ID != ins[1] || !slices.Equal(list[0].SecurityGroupIDs, []string{a}) {
		t.Errorf("recycled instance = %+v", list)
	}
	if err := f.svc.PurgeInstances(ctx, f.platform, []string{ins[1]}); err != nil {
		t.Fatal(err)
	}
	if got := groupsOf(ins[1]); len(got) != 0 {
		t.Errorf("purged instance keeps %v", got)
	}
	list, total, err := f.svc.DescribeInstances(ctx, f.admin, service.InstanceQuery{Filters: []service.Filter{{Name: "security-group-id", Values: []string{b}}}})
	if err != nil || total != 1 || list[0].ID != ins[0] {
		t.Errorf("filter by group = %v (%d), %v", list, total, err)
	}
}

func TestDeleteProtection(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	target := f.group(t, f.admin, "target")
	ref := f.group(t, f.admin, "ref", "ACCEPT TCP 22 "+target)
	self := f.group(t, f.admin, "self")
	if _, err := f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: self, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT ALL ALL " + self)}}}); err != nil {
		t.Fatalf("self reference: %v", err)
	}
	ins := f.instances(t, [][]string{{target}}, "i1")
	if err := f.svc.TerminateInstances(ctx, f.admin, ins); err != nil {
		t.Fatal(err)
	}
	err := f.svc.DeleteSecurityGroup(ctx, f.admin, target)
	e := wantKind(t, err, service.KindInUse)
	if !slices.Equal(e.Blockers, []string{ins[0], ref}) || !strings.Contains(e.Message, "recycle bin") {
		t.Errorf("blockers = %v, message %q", e.Blockers, e.Message)
	}
	stats, err := f.svc.DescribeSecurityGroupAssociationStatistics(ctx, f.admin, []string{target, self})
	if err != nil || stats[0].CVM != 1 || stats[0].SG != 1 || stats[0].TotalCount != 1 || stats[1].SG != 0 {
		t.Errorf("statistics = %+v, %v", stats, err)
	}
	refs, err := f.svc.DescribeSecurityGroupReferences(ctx, f.admin, []string{target})
	if err != nil || !slices.Equal(refs[0].ReferredSecurityGroupIDs, []string{ref}) {
		t.Errorf("references = %+v, %v", refs, err)
	}
	if err := f.svc.PurgeInstances(ctx, f.admin, ins); err != nil {
		t.Fatal(err)
	}
	e = wantKind(t, f.svc.DeleteSecurityGroup(ctx, f.admin, target), service.KindInUse)
	if !slices.Equal(e.Blockers, []string{ref}) {
		t.Errorf("blockers after purge = %v", e.Blockers)
	}
	if err := f.svc.DeleteSecurityGroup(ctx, f.admin, ref); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteSecurityGroup(ctx, f.admin, target); err != nil {
		t.Errorf("delete after releasing everything: %v", err)
	}
	if err := f.svc.DeleteSecurityGroup(ctx, f.admin, self); err != nil {
		t.Errorf("a self-reference must not block deletion: %v", err)
	}
	wantKind(t, f.svc.DeleteSecurityGroup(ctx, f.admin, target), service.KindNotFound)
}

func TestDefaultGroup(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	g, err := f.svc.CreateDefaultSecurityGroup(ctx, f.admin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "default" || g.Description != "System created security group" || !g.IsDefault {
		t.Errorf("default group = %+v", g)
	}
	again, err := f.svc.CreateDefaultSecurityGroup(ctx, f.admin, 0)
	if err != nil || again.ID != g.ID {
		t.Errorf("second call = %s, %v; want the same group %s", again.ID, err, g.ID)
	}
	other, err := f.svc.CreateDefaultSecurityGroup(ctx, f.admin, 2)
	if err != nil || other.ID == g.ID {
		t.Errorf("project 2 default = %s, %v", other.ID, err)
	}
	_, in, eg := f.policies(t, f.admin, g.ID)
	if !slices.Equal(in, []string{"ACCEPT ALL ALL 0.0.0.0/0"}) || !slices.Equal(eg, []string{"ACCEPT ALL ALL 0.0.0.0/0"}) {
		t.Errorf("default policies = %v / %v", in, eg)
	}
	wantKind(t, f.svc.DeleteSecurityGroup(ctx, f.admin, g.ID), service.KindUnsupported)
}

func TestClone(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	plain := f.group(t, f.admin, "plain", "ACCEPT TCP 22 10.0.0.0/8", "DROP ALL ALL 0.0.0.0/0")
	refd := f.group(t, f.admin, "refd", "ACCEPT TCP 22 "+plain)
	f.instances(t, [][]string{{plain}}, "i1")
	name := func(s string) *string { return &s }
	proj := func(p int64) *int64 { return &p }

	// Cross-region (target = caller's region, source in RemoteRegion) into project 3.
	g, err := f.svc.CloneSecurityGroup(ctx, f.shanghai, service.CloneInput{SecurityGroupID: plain, RemoteRegion: "ap-guangzhou", ProjectID: proj(3)})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "plain" || g.Region != "ap-shanghai" || g.ProjectID != 3 {
		t.Errorf("clone = %+v", g)
	}
	_, in, _ := f.policies(t, f.shanghai, g.ID)
	if !slices.Equal(in, []string{"ACCEPT TCP 22 10.0.0.0/8", "DROP ALL ALL 0.0.0.0/0"}) {
		t.Errorf("clone policies = %v", in)
	}
	stats, _ := f.svc.DescribeSecurityGroupAssociationStatistics(ctx, f.shanghai, []string{g.ID})
	if stats[0].CVM != 0 {
		t.Errorf("clone copied bindings: %+v", stats)
	}
	tests := []struct {
		name   string
		caller service.Caller
		in     service.CloneInput
		want   service.Kind
	}{
		{"name taken in the target region", f.shanghai, service.CloneInput{SecurityGroupID: plain, RemoteRegion: "ap-guangzhou"}, service.KindDuplicate},
		{"same region keeps the name", f.admin, service.CloneInput{SecurityGroupID: plain}, service.KindDuplicate},
		{"other account", f.other, service.CloneInput{SecurityGroupID: plain, Name: name("stolen")}, service.KindNotFound},
		{"source looked up in the wrong region", f.shanghai, service.CloneInput{SecurityGroupID: plain, Name: name("x")}, service.KindNotFound},
		{"cross-region with references", f.shanghai, service.CloneInput{SecurityGroupID: refd, RemoteRegion: "ap-guangzhou"}, service.KindUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CloneSecurityGroup(ctx, tc.caller, tc.in)
			e := wantKind(t, err, tc.want)
			if tc.want == service.KindUnsupported && (len(e.Blockers) != 1 || !strings.Contains(e.Blockers[0], "Ingress.0")) {
				t.Errorf("blockers = %v", e.Blockers)
			}
		})
	}
	same, err := f.svc.CloneSecurityGroup(ctx, f.admin, service.CloneInput{SecurityGroupID: refd, Name: name("refd-copy")})
	if err != nil {
		t.Fatalf("same-region clone with references: %v", err)
	}
	if _, in, _ := f.policies(t, f.admin, same.ID); !slices.Equal(in, []string{"ACCEPT TCP 22 " + plain}) {
		t.Errorf("same-region clone = %v", in)
	}
}

func TestTenancyRegionalityRoles(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	id := f.group(t, f.admin, "g", "ACCEPT TCP 22 10.0.0.0/8")
	for _, c := range []service.Caller{f.other, f.shanghai} {
		_, err := f.svc.DescribeSecurityGroupPolicies(ctx, c, service.DescribePoliciesInput{SecurityGroupID: id})
		wantKind(t, err, service.KindNotFound)
		list, total, err := f.svc.DescribeSecurityGroups(ctx, c, service.GroupQuery{})
		if err != nil || total != 0 || len(list) != 0 {
			t.Errorf("%s/%s sees %v", c.AccountID, c.Region, list)
		}
		wantKind(t, f.svc.DeleteSecurityGroup(ctx, c, id), service.KindNotFound)
	}
	// A group in another account cannot be referenced.
	_, err := f.svc.CreateSecurityGroupPolicies(ctx, f.other, service.PoliciesInput{SecurityGroupID: f.group(t, f.other, "b"),
		Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 " + id)}}})
	wantKind(t, err, service.KindNotFound)
	// Roles.
	if _, err := f.svc.DescribeSecurityGroupPolicies(ctx, f.readonly, service.DescribePoliciesInput{SecurityGroupID: id}); err != nil {
		t.Errorf("readonly read: %v", err)
	}
	_, _, err = f.svc.CreateSecurityGroup(ctx, f.readonly, service.CreateGroupInput{Name: "x"})
	wantKind(t, err, service.KindForbidden)
	wantKind(t, f.svc.DeleteSecurityGroup(ctx, f.readonly, id), service.KindForbidden)
	_, err = f.svc.RegisterInstances(ctx, f.admin, service.RegisterInstancesInput{AccountID: f.accountID, Instances: []service.InstanceSpec{{Zone: "ap-guangzhou-3"}}})
	wantKind(t, err, service.KindForbidden)
	_, _, err = f.svc.CreateSecurityGroup(ctx, f.platform, service.CreateGroupInput{Name: "x"})
	wantKind(t, err, service.KindForbidden)
	bad := f.admin
	bad.Region = "eu-nowhere"
	_, _, err = f.svc.DescribeSecurityGroups(ctx, bad, service.GroupQuery{})
	wantKind(t, err, service.KindUnsupportedRegion)
	_, err = f.svc.LookupCredential(ctx, "AKIDnothing")
	wantKind(t, err, service.KindNotFound)
}

func TestDescribeSecurityGroups(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	var ids []string
	for i, name := range []string{"a", "b", "c"} {
		g, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: name, ProjectID: int64(i % 2),
			Tags: []service.Tag{{Key: "env", Value: name}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	tests := []struct {
		name string
		q    service.GroupQuery
		want []string
	}{
		{"all", service.GroupQuery{}, ids},
		{"ids", service.GroupQuery{IDs: []string{ids[2], ids[0]}}, []string{ids[0], ids[2]}},
		{"name", service.GroupQuery{Filters: []service.Filter{{Name: "security-group-name", Values: []string{"b"}}}}, []string{ids[1]}},
		{"project", service.GroupQuery{Filters: []service.Filter{{Name: "project-id", Values: []string{"0"}}}}, []string{ids[0], ids[2]}},
		{"tag", service.GroupQuery{Filters: []service.Filter{{Name: "tag:env", Values: []string{"c", "b"}}}}, []string{ids[1], ids[2]}},
		{"tag key and id", service.GroupQuery{Filters: []service.Filter{{Name: "tag-key", Values: []string{"env"}}, {Name: "security-group-id", Values: []string{ids[1]}}}}, []string{ids[1]}},
		{"paging", service.GroupQuery{Page: service.Page{Offset: 1, Limit: 1}}, []string{ids[1]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, _, err := f.svc.DescribeSecurityGroups(ctx, f.admin, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range list {
				got = append(got, g.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	bad := []struct {
		q     service.GroupQuery
		field string
	}{
		{service.GroupQuery{Filters: []service.Filter{{Name: "nope", Values: []string{"x"}}}}, "Filters.Name"},
		{service.GroupQuery{IDs: []string{ids[0]}, Filters: []service.Filter{{Name: "tag-key", Values: []string{"x"}}}}, "Filters"},
		{service.GroupQuery{Page: service.Page{Limit: 101}}, "Limit"},
		{service.GroupQuery{IDs: []string{"sg-BAD"}}, "SecurityGroupIds.0"},
	}
	for _, b := range bad {
		_, _, err := f.svc.DescribeSecurityGroups(ctx, f.admin, b.q)
		if field, _ := fieldOf(err); field != b.field {
			t.Errorf("%+v: error %v, want field %s", b.q, err, b.field)
		}
	}
	_, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "a"})
	wantKind(t, err, service.KindDuplicate)
	_, _, err = f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: strings.Repeat("x", 61)})
	if field, kind := fieldOf(err); field != "GroupName" || kind != policy.TooLong {
		t.Errorf("long name: %v", err)
	}
	n := "b2"
	if err := f.svc.ModifySecurityGroupAttribute(ctx, f.admin, service.ModifyGroupInput{SecurityGroupID: ids[1], Name: &n}); err != nil {
		t.Fatal(err)
	}
	n = "a"
	wantKind(t, f.svc.ModifySecurityGroupAttribute(ctx, f.admin, service.ModifyGroupInput{SecurityGroupID: ids[1], Name: &n}), service.KindDuplicate)
}

func TestTemplates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	at, err := f.svc.CreateAddressTemplate(ctx, f.admin, service.TemplateInput{Name: "office", Entries: []service.TemplateEntry{{Value: "10.0.0.1"}, {Value: "10.1.0.0/16"}, {Value: "10.2.0.1-10.2.0.100"}}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.CreateServiceTemplate(ctx, f.admin, service.TemplateInput{Name: "web", Entries: []service.TemplateEntry{{Value: "tcp:80,443"}, {Value: "udp:53"}, {Value: "tcp:8000-8080"}, {Value: "icmp"}, {Value: "all"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"tcp:0", "icmp:80", "xyz", "tcp:"} {
		_, err := f.svc.CreateServiceTemplate(ctx, f.admin, service.TemplateInput{Name: "bad", Entries: []service.TemplateEntry{{Value: bad}}})
		if field, kind := fieldOf(err); field != "Services.0" || kind != policy.Malformed {
			t.Errorf("service %q: %v", bad, err)
		}
	}
	for _, bad := range []string{"10.0.0.300", "10.0.0.9-10.0.0.1", "10.0.0.1-::1"} {
		_, err := f.svc.CreateAddressTemplate(ctx, f.admin, service.TemplateInput{Name: "bad", Entries: []service.TemplateEntry{{Value: bad}}})
		if field, _ := fieldOf(err); field != "Addresses.0" {
			t.Errorf("address %q: %v", bad, err)
		}
	}
	ag, err := f.svc.CreateAddressTemplateGroup(ctx, f.admin, service.TemplateGroupInput{Name: "all-offices", TemplateIDs: []string{at.ID}})
	if err != nil || len(ag.Templates) != 1 {
		t.Fatalf("group = %+v, %v", ag, err)
	}
	g := f.group(t, f.admin, "g")
	_, err = f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: g, Set: service.PolicySetInput{
		Ingress: []service.PolicyInput{{Raw: policy.Raw{ServiceId: st.ID, AddressGroupId: ag.ID, Action: "ACCEPT"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	e := wantKind(t, f.svc.DeleteAddressTemplate(ctx, f.admin, at.ID), service.KindInUse)
	if !slices.Equal(e.Blockers, []string{ag.ID}) {
		t.Errorf("blockers = %v", e.Blockers)
	}
	e = wantKind(t, f.svc.DeleteAddressTemplateGroup(ctx, f.admin, ag.ID), service.KindInUse)
	if !slices.Equal(e.Blockers, []string{g}) {
		t.Errorf("blockers = %v", e.Blockers)
	}
	wantKind(t, f.svc.DeleteServiceTemplate(ctx, f.admin, st.ID), service.KindInUse)
	// Regional and per account.
	list, _, _ := f.svc.DescribeAddressTemplates(ctx, f.shanghai, service.TemplateQuery{})
	if len(list) != 0 {
		t.Errorf("shanghai sees %v", list)
	}
	list, _, _ = f.svc.DescribeAddressTemplates(ctx, f.admin, service.TemplateQuery{Filters: []service.Filter{{Name: "address-ip", Values: []string{"10.2.0.50"}}}})
	if len(list) != 1 {
		t.Errorf("address-ip filter = %v", list)
	}
	_, err = f.svc.CreateSecurityGroupPolicies(ctx, f.other, service.PoliciesInput{SecurityGroupID: f.group(t, f.other, "o"), Set: service.PolicySetInput{
		Ingress: []service.PolicyInput{{Raw: policy.Raw{Protocol: "TCP", Port: "22", AddressId: at.ID, Action: "ACCEPT"}}}}})
	wantKind(t, err, service.KindNotFound)
	// Editing a template changes what rules using it match.
	ins := f.instances(t, [][]string{{g}}, "i1")
	sim := func(addr string) policy.Action {
		d, err := f.svc.SimulateTraffic(ctx, f.admin, service.SimulateInput{InstanceID: ins[0], Direction: "INGRESS", Protocol: "TCP", Address: addr, Port: 443})
		if err != nil {
			t.Fatal(err)
		}
		return d.Verdict
	}
	if sim("10.2.0.7") != policy.Accept || sim("192.168.9.9") != policy.Drop {
		t.Errorf("before edit: wrong verdicts")
	}
	if err := f.svc.ModifyAddressTemplateAttribute(ctx, f.admin, service.ModifyTemplateInput{ID: at.ID, Entries: []service.TemplateEntry{{Value: "192.168.9.0/24"}}}); err != nil {
		t.Fatal(err)
	}
	if sim("10.2.0.7") != policy.Drop || sim("192.168.9.9") != policy.Accept {
		t.Errorf("after edit: the rule must follow the template")
	}
}

func TestWarningsAndPort25(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	g := f.group(t, f.admin, "g")
	res, err := f.svc.CreateSecurityGroupPolicies(ctx, f.admin, service.PoliciesInput{SecurityGroupID: g, Set: service.PolicySetInput{
		Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 0.0.0.0/0"), raw("ACCEPT TCP 445 10.0.0.0/8"), raw("ACCEPT TCP 8080 0.0.0.0/0")}}})
	if err != nil {
		t.Fatal(err)
	}
	codes := func(ws []service.Warning) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.Code+"@"+w.Direction.Field()+string(rune('0'+w.PolicyIndex)))
		}
		return out
	}
	if got := codes(res.Warnings); !slices.Equal(got, []string{"EXPOSED_PORT@Ingress0", "ISP_BLOCKED_PORT@Ingress1"}) {
		t.Errorf("warnings = %v", got)
	}
	egress := func() []string {
		res, err := f.svc.ModifySecurityGroupPolicies(ctx, f.admin, service.ModifyPoliciesInput{SecurityGroupID: g, Set: service.PolicySetInput{
			Egress: []service.PolicyInput{raw("ACCEPT TCP 25 0.0.0.0/0"), raw("ACCEPT ALL ALL 0.0.0.0/0")}}})
		if err != nil {
			t.Fatal(err)
		}
		return codes(res.Warnings)
	}
	if got := egress(); !slices.Equal(got, []string{"PORT25_BLOCKED@Egress0", "PORT25_BLOCKED@Egress1"}) {
		t.Errorf("egress warnings = %v", got)
	}
	ins := f.instances(t, [][]string{{g}}, "mail")
	smtp := service.SimulateInput{InstanceID: ins[0], Direction: "EGRESS", Protocol: "TCP", Address: "198.51.100.1", Port: 25}
	d, err := f.svc.SimulateTraffic(ctx, f.admin, smtp)
	if err != nil || d.Verdict != policy.Drop || d.Layer != service.LayerPlatform || d.PolicyIndex != nil || d.SecurityGroupID != "" {
		t.Errorf("blocked 25 = %+v, %v", d, err)
	}
	if _, err := f.svc.SimulateTraffic(ctx, f.readonly, smtp); err != nil {
		t.Errorf("readonly simulate: %v", err)
	}
	wantKind(t, f.svc.UnblockPort25(ctx, f.readonly), service.KindForbidden)
	if err := f.svc.UnblockPort25(ctx, f.admin); err != nil {
		t.Fatal(err)
	}
	acct, err := f.svc.DescribeAccount(ctx, f.admin)
	if err != nil || acct.Port25Blocked || acct.Port25LiftedBy != f.admin.SecretID {
		t.Errorf("account = %+v, %v", acct, err)
	}
	hist, err := f.svc.AccountHistory(ctx, f.admin)
	if err != nil || len(hist) != 1 || hist[0].Kind != store.EventUnblockPort25 || hist[0].SecretID != f.admin.SecretID {
		t.Errorf("history = %+v, %v", hist, err)
	}
	d, err = f.svc.SimulateTraffic(ctx, f.admin, smtp)
	if err != nil || d.Verdict != policy.Accept || d.Layer != service.LayerSecurityGroup || d.SecurityGroupID != g || d.PolicyIndex == nil || *d.PolicyIndex != 0 {
		t.Errorf("unblocked 25 = %+v, %v", d, err)
	}
	if got := egress(); len(got) != 0 {
		t.Errorf("egress warnings after unblock = %v", got)
	}
}

func TestSimulate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	if err := f.svc.AddPlatformAddress(ctx, mustPrefix("169.254.169.254/32")); err != nil {
		t.Fatal(err)
	}
	web := f.group(t, f.admin, "web", "ACCEPT TCP 80 0.0.0.0/0")
	empty := f.group(t, f.admin, "empty")
	db := f.group(t, f.admin, "db", "ACCEPT TCP 3306 "+web, "DROP TCP 3306 0.0.0.0/0", "ACCEPT TCP 22 ::/0")
	ins := f.instances(t, [][]string{{web}, {empty, db}}, "web", "db")
	ip := func(id string) string {
		list, _, _ := f.svc.DescribeInstances(ctx, f.admin, service.InstanceQuery{IDs: []string{id}})
		return list[0].PrivateIPAddresses[0].String()
	}
	type want struct {
		verdict policy.Action
		layer   service.Layer
		group   string
		index   int
	}
	tests := []struct {
		name string
		in   service.SimulateInput
		want want
	}{
		{"referenced group's instance", service.SimulateInput{InstanceID: ins[1], Direction: "INGRESS", Protocol: "TCP", Address: ip(ins[0]), Port: 3306}, want{policy.Accept, service.LayerSecurityGroup, db, 0}},
		{"anyone else", service.SimulateInput{InstanceID: ins[1], Direction: "INGRESS", Protocol: "tcp", Address: "8.8.8.8", Port: 3306}, want{policy.Drop, service.LayerSecurityGroup, db, 1}},
		{"IPv6 policy", service.SimulateInput{InstanceID: ins[1], Direction: "INGRESS", Protocol: "TCP", Address: "2001:db8::1", Port: 22}, want{policy.Accept, service.LayerSecurityGroup, db, 2}},
		{"IPv4 does not match ::/0", service.SimulateInput{InstanceID: ins[1], Direction: "INGRESS", Protocol: "TCP", Address: "1.2.3.4", Port: 22}, want{policy.Drop, service.LayerDefault, "", -1}},
		{"platform address", service.SimulateInput{InstanceID: ins[1], Direction: "EGRESS", Protocol: "UDP", Address: "169.254.169.254", Port: 53}, want{policy.Accept, service.LayerPlatform, "", -1}},
		{"default drop", service.SimulateInput{InstanceID: ins[0], Direction: "EGRESS", Protocol: "ICMP", Address: "1.1.1.1"}, want{policy.Drop, service.LayerDefault, "", -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := f.svc.SimulateTraffic(ctx, f.admin, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			gotIndex := -1
			if d.PolicyIndex != nil {
				gotIndex = *d.PolicyIndex
			}
			if d.Verdict != tc.want.verdict || d.Layer != tc.want.layer || d.SecurityGroupID != tc.want.group || gotIndex != tc.want.index || len(d.Trace) == 0 {
				t.Errorf("SimulateTraffic = %v %v %s %d, want %+v\n%s", d.Verdict, d.Layer, d.SecurityGroupID, gotIndex, tc.want, strings.Join(d.Trace, "\n"))
			}
		})
	}
	// Purging the web instance removes its address from the reference.
	if err := f.svc.TerminateInstances(ctx, f.admin, []string{ins[0]}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.PurgeInstances(ctx, f.platform, []string{ins[0]}); err != nil {
		t.Fatal(err)
	}
	d, _ := f.svc.SimulateTraffic(ctx, f.admin, tests[0].in)
	if d.Verdict != policy.Drop {
		t.Errorf("after purge: %v, want DROP", d.Verdict)
	}
	_, err := f.svc.SimulateTraffic(ctx, f.other, tests[0].in)
	wantKind(t, err, service.KindNotFound)
	_, err = f.svc.SimulateTraffic(ctx, f.admin, service.SimulateInput{InstanceID: ins[1], Direction: "UP", Protocol: "TCP", Address: "1.1.1.1", Port: 1})
	if field, _ := fieldOf(err); field != "Direction" {
		t.Errorf("bad direction: %v", err)
	}
}

func TestHistoryAndBootstrap(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	if c, err := f.svc.EnsureBootstrap(ctx); err != nil || c != nil {
		t.Errorf("bootstrap with accounts = %v, %v; want nil", c, err)
	}
	// Account names are unique: a second account of a name is refused,
	// naming the first, and creates nothing.
	first, err := f.svc.CreateAccount(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var se *service.Error
	if _, err := f.svc.CreateAccount(ctx, "acme"); !errors.As(err, &se) || se.Kind != service.KindDuplicate || se.ID != first.AccountID {
		t.Errorf("CreateAccount(acme) again = %v, want KindDuplicate naming %s", err, first.AccountID)
	}
	cred, err := f.svc.LookupCredential(ctx, first.SecretID)
	if err != nil || cred.SecretKey != first.SecretKey || cred.Role != service.RoleAdmin {
		t.Errorf("first credential = %+v, %v", cred, err)
	}
}

func TestBootstrapEmptyStore(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := service.New(st, service.Options{})
	c, err := svc.EnsureBootstrap(context.Background())
	if err != nil || c == nil || c.AccountID == "" {
		t.Fatalf("bootstrap = %v, %v", c, err)
	}
	again, err := svc.EnsureBootstrap(context.Background())
	if err != nil || again != nil {
		t.Errorf("second bootstrap = %v, %v; want nil", again, err)
	}
}
