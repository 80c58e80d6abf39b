package resolve_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/resolve/resolvetest"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
)

func pol(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

func template(id string, kind store.TemplateKind, entries ...string) store.Template {
	t := store.Template{ID: id, Kind: kind}
	for _, e := range entries {
		t.Entries = append(t.Entries, store.TemplateEntry{Value: e})
	}
	return t
}

// fixture is an instance bound to two groups whose policies use every kind
// of reference.
func fixture() *resolvetest.Data {
	return &resolvetest.Data{
		Account:  store.Account{ID: "acc-00000001"},
		Instance: store.Instance{ID: "ins-00000001", AccountID: "acc-00000001", Region: "ap-guangzhou", GroupIDs: []string{"sg-0000000a", "sg-0000000b"}},
		Groups: map[string]policy.PolicySet{
			"sg-0000000a": {Ingress: []policy.Policy{
				pol("ACCEPT TCP 22 10.0.0.0/8"),
				pol("DROP ALL ALL sg-0000peer"),
				pol("ACCEPT ALL ALL ipm-00000001"),
			}},
			"sg-0000000b": {
				Ingress: []policy.Policy{pol("DROP ppmg-00000001 ipmg-00000001")},
				Egress:  []policy.Policy{pol("ACCEPT ppm-00000001 ::/0"), pol("ACCEPT TCP 25 sg-0000peer")},
			},
		},
		Members: []store.Member{
			{GroupID: "sg-0000peer", InstanceID: "ins-000peer1", State: "RUNNING", PrivateIPs: []string{"10.1.0.1"}, IPv6s: []string{"2001:db8::1"}},
			{GroupID: "sg-0000peer", InstanceID: "ins-000peer2", State: "STOPPED", PrivateIPs: []string{"10.1.0.2"}},
			{GroupID: "sg-0000peer", InstanceID: "ins-000peer3", State: "TERMINATED", PrivateIPs: []string{"10.1.0.3"}},
		},
		Templates: []store.Template{
			template("ipm-00000001", store.KindAddress, "192.0.2.0/25", "192.0.2.128-192.0.2.130", "2001:db8:1::/48"),
			template("ipm-00000002", store.KindAddress, "198.51.100.7"),
			template("ipmg-00000001", store.KindAddressGroup, "ipm-00000001", "ipm-00000002"),
			template("ppm-00000001", store.KindService, "tcp:80,443", "udp:53"),
			template("ppm-00000002", store.KindService, "icmp"),
			template("ppmg-00000001", store.KindServiceGroup, "ppm-00000001", "ppm-00000002"),
		},
		Platform: []string{"169.254.0.0/16"},
	}
}

// ranges spells a set's ranges, an address alone for a range of one.
func ranges(s *netipx.IPSet) string {
	if s == nil {
		return ""
	}
	var out []string
	for _, r := range s.Ranges() {
		if r.From() == r.To() {
			out = append(out, r.From().String())
		} else {
			out = append(out, r.String())
		}
	}
	return strings.Join(out, " ")
}

func TestBuild(t *testing.T) {
	d := fixture()
	l, err := resolve.Instance(context.Background(), d, "ins-00000001", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.Reads != 5 {
		t.Errorf("%d reads, want 5", d.Reads)
	}
	want := resolve.Deps{
		Account: "acc-00000001", Region: "ap-guangzhou", Instance: "ins-00000001",
		Groups:    []string{"sg-0000000a", "sg-0000000b"},
		Refs:      []string{"sg-0000peer"},
		Members:   []string{"ins-000peer1", "ins-000peer2", "ins-000peer3"},
		Templates: []string{"ipm-00000001", "ipm-00000002", "ipmg-00000001", "ppm-00000001", "ppm-00000002", "ppmg-00000001"},
	}
	if got := l.Deps; got.Account != want.Account || got.Region != want.Region || got.Instance != want.Instance ||
		!slices.Equal(got.Groups, want.Groups) || !slices.Equal(got.Refs, want.Refs) || !slices.Equal(got.Members, want.Members) || !slices.Equal(got.Templates, want.Templates) {
		t.Errorf("Deps = %+v, want %+v", got, want)
	}

	describe := func(l *rules.List) []string {
		var out []string
		for _, e := range l.Entries {
			out = append(out, e.Describe())
		}
		return out
	}
	if got, want := describe(&l.Ingress), []string{
		"PLATFORM: platform service address 169.254.0.0/16",
		"SECURITY_GROUP: sg-0000000a policy 0 (ACCEPT TCP 22 from 10.0.0.0/8)",
		"SECURITY_GROUP: sg-0000000a policy 1 (DROP ALL ALL from sg-0000peer)",
		"SECURITY_GROUP: sg-0000000a policy 2 (ACCEPT ALL ALL from ipm-00000001)",
		"SECURITY_GROUP: sg-0000000b policy 0 (DROP ppmg-00000001 from ipmg-00000001)",
	}; !slices.Equal(got, want) {
		t.Errorf("ingress = %q, want %q", got, want)
	}
	if got, want := describe(&l.Egress), []string{
		"PLATFORM: outbound TCP 25 is blocked for the account",
		"PLATFORM: platform service address 169.254.0.0/16",
		"SECURITY_GROUP: sg-0000000b policy 0 (ACCEPT ppm-00000001 to ::/0)",
		"SECURITY_GROUP: sg-0000000b policy 1 (ACCEPT TCP 25 to sg-0000peer)",
	}; !slices.Equal(got, want) {
		t.Errorf("egress = %q, want %q", got, want)
	}

	peer := l.Ingress.Entries[2]
	if peer.Source != (rules.Source{Kind: rules.SourceSecurityGroup, ID: "sg-0000peer"}) ||
		ranges(peer.V4) != "10.1.0.1-10.1.0.2" || ranges(peer.V6) != "2001:db8::1" {
		t.Errorf("group reference = %v %v %v, want the running and stopped members, not the terminated one", peer.Source, peer.V4, peer.V6)
	}
	if shared := l.Egress.Entries[3]; shared.V4 != peer.V4 {
		t.Error("two references to one group do not share its address set")
	}
	grp := l.Ingress.Entries[4]
	if grp.Source.Kind != rules.SourceAddressTemplateGroup || ranges(grp.V4) != "192.0.2.0-192.0.2.130 198.51.100.7" ||
		grp.ServiceID != "ppmg-00000001" || len(grp.Services) != 3 {
		t.Errorf("template group entry = %v %v %s %v", grp.Source, grp.V4, grp.ServiceID, grp.Services)
	}

	d.Account.Port25Unblocked = true
	l, err = resolve.Instance(context.Background(), d, "ins-00000001", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if l.Egress.Len() != 3 || l.Egress.Entries[0].Origin.Platform != rules.PlatformAddress {
		t.Errorf("with the block lifted, egress = %q", describe(&l.Egress))
	}
}

// TestBuildNoReferences checks that an instance whose policies refer to
// nothing costs three reads.
func TestBuildNoReferences(t *testing.T) {
	d := fixture()
	d.Groups = map[string]policy.PolicySet{"sg-0000000a": {Ingress: []policy.Policy{pol("ACCEPT TCP 22 10.0.0.0/8")}}}
	d.Instance.GroupIDs = []string{"sg-0000000a"}
	if _, err := resolve.Instance(context.Background(), d, "ins-00000001", time.Now()); err != nil {
		t.Fatal(err)
	}
	if d.Reads != 3 {
		t.Errorf("%d reads, want 3", d.Reads)
	}
}

// TestBuildProblems corrupts one stored value at a time and checks that
// the lists are refused with a problem naming the group, direction, policy
// and value — never resolved with the value skipped.
func TestBuildProblems(t *testing.T) {
	setTemplate := func(d *resolvetest.Data, t store.Template) {
		for i := range d.Templates {
			if d.Templates[i].ID == t.ID {
				d.Templates[i] = t
				return
			}
		}
		d.Templates = append(d.Templates, t)
	}
	tests := []struct {
		name    string
		corrupt func(d *resolvetest.Data)
		want    []resolve.Problem // Reason is matched as a substring
	}{
		{"member address", func(d *resolvetest.Data) { d.Members[1].PrivateIPs = []string{"10.1.0.300"} },
			[]resolve.Problem{
				{GroupID: "sg-0000000a", Direction: policy.Ingress, PolicyIndex: 1, Value: "10.1.0.300", Reason: "instance ins-000peer2"},
				{GroupID: "sg-0000000b", Direction: policy.Egress, PolicyIndex: 1, Value: "10.1.0.300", Reason: "does not parse"},
			}},
		{"referenced group missing", func(d *resolvetest.Data) {
			d.Missing, d.Members = []string{"sg-0000peer"}, nil
		}, []resolve.Problem{
			{GroupID: "sg-0000000a", Direction: policy.Ingress, PolicyIndex: 1, Value: "sg-0000peer", Reason: "referenced security group does not exist"},
			{GroupID: "sg-0000000b", Direction: policy.Egress, PolicyIndex: 1, Value: "sg-0000peer", Reason: "referenced security group does not exist"},
		}},
		{"address template entry", func(d *resolvetest.Data) {
			setTemplate(d, template("ipm-00000002", store.KindAddress, "198.51.100.0/33"))
		}, []resolve.Problem{{GroupID: "sg-0000000b", Direction: policy.Ingress, PolicyIndex: 0, Value: "198.51.100.0/33", Reason: "ipm-00000002 does not parse"}}},
		{"service template entry", func(d *resolvetest.Data) {
			setTemplate(d, template("ppm-00000001", store.KindService, "tcp:80", "tcp:99999"))
		}, []resolve.Problem{
			{GroupID: "sg-0000000b", Direction: policy.Ingress, PolicyIndex: 0, Value: "tcp:99999", Reason: "service template ppm-00000001"},
			{GroupID: "sg-0000000b", Direction: policy.Egress, PolicyIndex: 0, Value: "tcp:99999", Reason: "service template ppm-00000001"},
		}},
		{"template group member of another kind", func(d *resolvetest.Data) {
			setTemplate(d, template("ipmg-00000001", store.KindAddressGroup, "ipm-00000001", "ppm-00000002"))
		}, []resolve.Problem{{GroupID: "sg-0000000b", Direction: policy.Ingress, PolicyIndex: 0, Value: "ppm-00000002", Reason: "is of kind service"}}},
		{"template group member missing", func(d *resolvetest.Data) {
			setTemplate(d, template("ppmg-00000001", store.KindServiceGroup, "ppm-00000001", "ppm-0000gone"))
		}, []resolve.Problem{{GroupID: "sg-0000000b", Direction: policy.Ingress, PolicyIndex: 0, Value: "ppm-0000gone", Reason: "does not exist"}}},
		{"referenced template missing", func(d *resolvetest.Data) {
			d.Templates = slices.DeleteFunc(d.Templates, func(t store.Template) bool { return t.ID == "ipm-00000001" })
			d.Templates = append(d.Templates, template("ipmg-00000001", store.KindAddressGroup, "ipm-00000002"))
		}, []resolve.Problem{{GroupID: "sg-0000000a", Direction: policy.Ingress, PolicyIndex: 2, Value: "ipm-00000001", Reason: "does not exist"}}},
		{"referenced template of another kind", func(d *resolvetest.Data) {
			setTemplate(d, template("ipm-00000001", store.KindService, "tcp:80"))
		}, []resolve.Problem{
			{GroupID: "sg-0000000a", Direction: policy.Ingress, PolicyIndex: 2, Value: "ipm-00000001", Reason: "referenced template is of kind service"},
			{GroupID: "sg-0000000b", Direction: policy.Ingress, PolicyIndex: 0, Value: "ipm-00000001", Reason: "member of template group ipmg-00000001 is of kind service"},
		}},
		{"invalid stored policy", func(d *resolvetest.Data) {
			set := d.Groups["sg-0000000b"]
			set.Egress = append(set.Egress, policy.Policy{Action: policy.Drop})
			d.Groups["sg-0000000b"] = set
		}, []resolve.Problem{{GroupID: "sg-0000000b", Direction: policy.Egress, PolicyIndex: 2, Reason: ""}}},
		{"stored platform address", func(d *resolvetest.Data) { d.Platform = append(d.Platform, "169.254.0.0/99") },
			[]resolve.Problem{{PolicyIndex: -1, Value: "169.254.0.0/99", Reason: "platform address"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fixture()
			tt.corrupt(d)
			l, err := resolve.Instance(context.Background(), d, "ins-00000001", time.Now())
			var re *resolve.Error
			if !errors.As(err, &re) || l != nil {
				t.Fatalf("Instance = %v, %v; want the lists refused with a *resolve.Error", l, err)
			}
			if re.InstanceID != "ins-00000001" || len(re.Problems) != len(tt.want) {
				t.Fatalf("problems of %s = %v, want %d", re.InstanceID, re.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				p := re.Problems[i]
				if p.GroupID != w.GroupID || p.Direction != w.Direction || p.PolicyIndex != w.PolicyIndex || w.Value != "" && p.Value != w.Value || !strings.Contains(p.Reason, w.Reason) {
					t.Errorf("problem %d = %+v, want %+v", i, p, w)
				}
				if !strings.Contains(err.Error(), p.Error()) {
					t.Errorf("error %q does not name problem %q", err, p)
				}
			}
		})
	}
}

func TestErrorSummary(t *testing.T) {
	e := &resolve.Error{InstanceID: "ins-00000001", Problems: []resolve.Problem{
		{GroupID: "sg-0000000a", Direction: policy.Ingress, PolicyIndex: 1, Value: "10.1.0.300", Reason: "does not parse"},
		{GroupID: "sg-0000000a", Direction: policy.Egress, PolicyIndex: 2, Value: "tcp:99999", Reason: "does not parse"},
		{PolicyIndex: -1, Value: "x", Reason: "stored platform address does not parse"},
	}}
	if got, want := e.Summary(1), `effective rules of ins-00000001 do not resolve: sg-0000000a Ingress policy 1: "10.1.0.300": does not parse; and 2 more`; got != want {
		t.Errorf("Summary(1) = %q, want %q", got, want)
	}
	if got := e.Error(); !strings.HasSuffix(got, `; "x": stored platform address does not parse`) {
		t.Errorf("Error() = %q, want every problem", got)
	}
}

// TestSharedSegments: with a shared cache, a group whose policies are all
// literal resolves to the same entries from the same decoded policies, and
// to new ones when its policies are new (another version), never to stale
// ones.
func TestSharedSegments(t *testing.T) {
	ctx := context.Background()
	d := fixture()
	d.Groups["sg-0000000c"] = policy.PolicySet{Ingress: []policy.Policy{pol("ACCEPT TCP 22 10.0.0.0/8"), pol("DROP UDP 53 192.0.2.0/24")}}
	d.Instance.GroupIDs = append(d.Instance.GroupIDs, "sg-0000000c")
	shared := resolve.NewPrefixes(100)
	build := func() *rules.List {
		t.Helper()
		ins, groups, err := d.GetInstancePolicies(ctx, d.Instance.ID)
		if err != nil {
			t.Fatal(err)
		}
		l, err := resolve.BuildWith(ctx, d, d.Account, ins, groups, time.Now(), shared)
		if err != nil {
			t.Fatal(err)
		}
		return &l.Ingress
	}
	describe := func(l *rules.List) []string {
		var out []string
		for i := range l.Entries {
			out = append(out, l.Entries[i].Describe())
		}
		return out
	}
	first, second := build(), build()
	if got, want := describe(second), describe(first); !slices.Equal(got, want) {
		t.Errorf("built again from the cache:\n%q\nwant\n%q", got, want)
	}
	// A new version: new decoded policies.
	d.Groups["sg-0000000c"] = policy.PolicySet{Version: 2, Ingress: []policy.Policy{pol("DROP TCP 22 10.0.0.0/8")}}
	third := describe(build())
	if last := third[len(third)-1]; !strings.Contains(last, "DROP TCP 22") || slices.Contains(third, describe(first)[len(first.Entries)-1]) {
		t.Errorf("after a new version, the lists end with %q (all: %q)", last, third)
	}
}

// TestSharedSegmentsReferences: with a shared cache, the entries of
// policies naming a reference or a service template are built again at
// every resolution from what is read then — members, templates, a group
// gone — while those of literal policies of the same group are kept; and a
// group with an expiring policy is built again at every resolution.
func TestSharedSegmentsReferences(t *testing.T) {
	ctx := context.Background()
	d := fixture()
	now := time.Now()
	d.Groups["sg-0000000c"] = policy.PolicySet{Ingress: []policy.Policy{pol("ACCEPT TCP 22 10.0.0.0/8"), pol("DROP UDP 53 192.0.2.0/24")}}
	d.Groups["sg-0000000c"].Ingress[0].ExpiresAt = now.Add(time.Hour)
	d.Instance.GroupIDs = append(d.Instance.GroupIDs, "sg-0000000c")
	shared := resolve.NewPrefixes(100)
	build := func(at time.Time) (*resolve.Lists, error) {
		t.Helper()
		ins, groups, err := d.GetInstancePolicies(ctx, d.Instance.ID)
		if err != nil {
			t.Fatal(err)
		}
		return resolve.BuildWith(ctx, d, d.Account, ins, groups, at, shared)
	}
	// find returns the entry of a group's policy.
	find := func(l *rules.List, group string, index int) *rules.Entry {
		t.Helper()
		for i := range l.Entries {
			if o := l.Entries[i].Origin; o.GroupID == group && o.PolicyIndex == index {
				return &l.Entries[i]
			}
		}
		return nil
	}
	first, err := build(now)
	if err != nil {
		t.Fatal(err)
	}
	d.Members = []store.Member{{GroupID: "sg-0000peer", InstanceID: "ins-000peer9", State: "RUNNING", PrivateIPs: []string{"10.1.0.9"}}}
	for i, tp := range d.Templates {
		switch tp.ID {
		case "ipm-00000001":
			d.Templates[i] = template("ipm-00000001", store.KindAddress, "203.0.113.0/24")
		case "ppm-00000001":
			d.Templates[i] = template("ppm-00000001", store.KindService, "tcp:8080")
		}
	}
	second, err := build(now.Add(2 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := find(&first.Ingress, "sg-0000000a", 0), find(&second.Ingress, "sg-0000000a", 0); a == nil || b == nil || a.V4 != b.V4 {
		t.Errorf("the literal policy's entry was not kept: %v, %v", a, b)
	}
	tests := []struct {
		name string
		e    *rules.Entry
		want string // ranges of V4, or the services
	}{
		{"a group's members", find(&second.Ingress, "sg-0000000a", 1), "10.1.0.9"},
		{"a template's entries", find(&second.Ingress, "sg-0000000a", 2), "203.0.113.0-203.0.113.255"},
		{"the same members, other direction", find(&second.Egress, "sg-0000000b", 1), "10.1.0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.e == nil {
				t.Fatal("no entry")
			}
			if got := ranges(tt.e.V4); got != tt.want {
				t.Errorf("V4 = %s, want %s", got, tt.want)
			}
		})
	}
	if e := find(&second.Egress, "sg-0000000b", 0); e == nil || len(e.Services) != 1 || e.Services[0].String() != "TCP 8080" {
		t.Errorf("the service template's entry = %+v, want TCP 8080", e)
	}
	if e := find(&second.Ingress, "sg-0000000c", 0); e != nil {
		t.Errorf("the expired policy is still in the lists: %s", e.Describe())
	}
	if e := find(&second.Ingress, "sg-0000000c", 1); e == nil {
		t.Error("the policy after the expired one is missing")
	}
	// A referenced group gone: refused, the kept segments notwithstanding.
	d.Missing = []string{"sg-0000peer"}
	_, err = build(now)
	var re *resolve.Error
	if !errors.As(err, &re) || len(re.Problems) != 2 || re.Problems[0].Value != "sg-0000peer" || re.Problems[1].Value != "sg-0000peer" {
		t.Errorf("with the referenced group gone: %v, want two problems naming it", err)
	}
}
