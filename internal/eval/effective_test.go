package eval_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/reference"
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

func q(peer string, proto uint8, port uint16) eval.Query {
	return eval.Query{Peer: addr(peer), Proto: proto, Port: port}
}

// stored builds an instance's stored data: account "acc-00000001" with the
// port 25 block as given, instance "ins-00000001" bound to groups in order,
// each group given as its id and policies (the same ones in both
// directions).
func stored(blocked bool, groups ...group) *resolvetest.Data {
	d := &resolvetest.Data{
		Account:  store.Account{ID: "acc-00000001", Port25Unblocked: !blocked},
		Instance: store.Instance{ID: "ins-00000001", AccountID: "acc-00000001", Region: "ap-guangzhou"},
		Groups:   map[string]policy.PolicySet{},
	}
	for _, g := range groups {
		var ps []policy.Policy
		for _, s := range g.policies {
			ps = append(ps, pol(s))
		}
		d.Instance.GroupIDs = append(d.Instance.GroupIDs, g.id)
		d.Groups[g.id] = policy.PolicySet{Version: 1, Ingress: ps, Egress: ps}
	}
	return d
}

type group struct {
	id       string
	policies []string
}

func grp(id string, policies ...string) group { return group{id, policies} }

func template(id string, kind store.TemplateKind, entries ...string) store.Template {
	t := store.Template{ID: id, Kind: kind}
	for _, e := range entries {
		t.Entries = append(t.Entries, store.TemplateEntry{Value: e})
	}
	return t
}

// lists resolves the data's lists through resolve.
func lists(tb testing.TB, d *resolvetest.Data) *resolve.Lists {
	tb.Helper()
	l, err := resolve.Instance(context.Background(), d, d.Instance.ID, d.Now)
	if err != nil {
		tb.Fatalf("resolve: %v", err)
	}
	return l
}

// compiled returns the list of dir compiled both ways: the walk and the
// classifier.
func compiled(tb testing.TB, l *resolve.Lists, dir policy.Direction) (walk, classifier *eval.Effective) {
	tb.Helper()
	walk, err := eval.CompileList(*l.List(dir))
	if err != nil {
		tb.Fatalf("CompileList: %v", err)
	}
	classifier, err = eval.CompileListClassifier(*l.List(dir))
	if err != nil {
		tb.Fatalf("CompileListClassifier: %v", err)
	}
	return walk, classifier
}

// asReference is a decision in the reference's terms.
func asReference(d eval.Decision) reference.Decision {
	return reference.Decision{Verdict: d.Verdict, Layer: d.Layer.String(), GroupID: d.GroupID, PolicyIndex: d.PolicyIndex}
}

func sgDecision(id string, i int, v policy.Action) reference.Decision {
	return reference.Decision{Verdict: v, Layer: reference.LayerSecurityGroup, GroupID: id, PolicyIndex: i}
}

var (
	platformAccept = reference.Decision{Verdict: policy.Accept, Layer: reference.LayerPlatform, PolicyIndex: -1}
	platformDrop   = reference.Decision{Verdict: policy.Drop, Layer: reference.LayerPlatform, PolicyIndex: -1}
	defaultDrop    = reference.Decision{Verdict: policy.Drop, Layer: reference.LayerDefault, PolicyIndex: -1}
)

// entryProblem says what is wrong with the entry a decision names, if
// anything: its index must name an entry with the decision's origin and
// action, or be −1 for the default.
func entryProblem(e *eval.Effective, d eval.Decision) string {
	if d.Layer == rules.LayerDefault {
		if o := e.Origin(d); d.Entry != -1 || o.Layer != rules.LayerDefault || o.PolicyIndex != -1 {
			return fmt.Sprintf("default decision names entry %d", d.Entry)
		}
		return ""
	}
	if d.Entry < 0 || d.Entry >= e.Len() {
		return fmt.Sprintf("entry %d out of the list's %d", d.Entry, e.Len())
	}
	o := e.Origin(d)
	if en := e.Entry(d.Entry); en.Origin != o || en.Action != d.Verdict || o.Layer != d.Layer || o.Platform != d.Platform || o.GroupID != d.GroupID || o.PolicyIndex != d.PolicyIndex {
		return fmt.Sprintf("entry %d is %+v %v, decision %+v", d.Entry, en.Origin, en.Action, d)
	}
	return ""
}

func TestEffective(t *testing.T) {
	const (
		web  = "sg-0000web1"
		db   = "sg-00000db1"
		peer = "sg-0peer001"
		tmpl = "ipm-0000tpl1"
		svc  = "ppm-0000svc1"
	)
	data := stored(true,
		grp("sg-00empty1"), // no policies: falls through
		grp(web,
			"ACCEPT TCP 80,443 0.0.0.0/0",
			"ACCEPT TCP 80,443 ::/0",
			"DROP TCP 22 10.9.0.0/16",
			"ACCEPT TCP 22 10.0.0.0/8",
			"ACCEPT ICMP ALL 0.0.0.0/0",
			"ACCEPT ICMPv6 ALL ::/0",
			"ACCEPT TCP 25 0.0.0.0/0",
		),
		grp(db,
			"ACCEPT TCP 22 10.0.0.0/8",    // shadowed by web's
			"ACCEPT TCP 3306 "+peer,       // group reference, both families
			"ACCEPT ALL ALL "+tmpl,        // address template
			"ACCEPT "+svc+" 192.0.2.0/24", // service template
			"DROP GRE ALL 0.0.0.0/0",
		),
	)
	data.Platform = []string{"169.254.0.0/16", "fd00:ec2::254/128"}
	data.Members = []store.Member{{GroupID: peer, InstanceID: "ins-0000peer", State: "RUNNING", PrivateIPs: []string{"10.20.0.5"}, IPv6s: []string{"2001:db8::5"}}}
	data.Templates = []store.Template{
		template(tmpl, store.KindAddress, "198.51.100.0/25", "198.51.100.128-198.51.100.191"),
		template(svc, store.KindService, "udp:53", "tcp:8000-8080"),
	}
	resolved := lists(t, data)
	tests := []struct {
		name string
		dir  policy.Direction
		q    eval.Query
		want reference.Decision
	}{
		{"web v4", policy.Ingress, q("203.0.113.9", 6, 443), sgDecision(web, 0, policy.Accept)},
		{"web v6", policy.Ingress, q("2001:db8:1::9", 6, 80), sgDecision(web, 1, policy.Accept)},
		{"web wrong port", policy.Ingress, q("203.0.113.9", 6, 8443), defaultDrop},
		{"ssh dropped first", policy.Ingress, q("10.9.1.1", 6, 22), sgDecision(web, 2, policy.Drop)},
		{"ssh accepted", policy.Ingress, q("10.8.1.1", 6, 22), sgDecision(web, 3, policy.Accept)},
		{"ssh over udp", policy.Ingress, q("10.8.1.1", 17, 22), defaultDrop},
		{"icmp v4", policy.Ingress, q("8.8.8.8", 1, 0), sgDecision(web, 4, policy.Accept)},
		{"icmp number from v6", policy.Ingress, q("2001:db8::1", 1, 0), defaultDrop},
		{"icmpv6", policy.Ingress, q("2001:db8::1", 58, 0), sgDecision(web, 5, policy.Accept)},
		{"icmpv6 number from v4", policy.Ingress, q("8.8.8.8", 58, 0), defaultDrop},
		{"icmp ignores port", policy.Ingress, q("8.8.8.8", 1, 1234), sgDecision(web, 4, policy.Accept)},
		{"cidr block is v4 only", policy.Ingress, q("2001:db8::9", 6, 22), defaultDrop},
		{"mapped address is v4", policy.Ingress, q("::ffff:203.0.113.9", 6, 443), sgDecision(web, 0, policy.Accept)},
		{"group reference v4", policy.Ingress, q("10.20.0.5", 6, 3306), sgDecision(db, 1, policy.Accept)},
		{"group reference v6", policy.Ingress, q("2001:db8::5", 6, 3306), sgDecision(db, 1, policy.Accept)},
		{"group reference other host", policy.Ingress, q("10.20.0.6", 6, 3306), defaultDrop},
		{"address template", policy.Ingress, q("198.51.100.190", 47, 0), sgDecision(db, 2, policy.Accept)},
		{"address template gap", policy.Ingress, q("198.51.100.200", 47, 0), sgDecision(db, 4, policy.Drop)},
		{"service template udp", policy.Ingress, q("192.0.2.1", 17, 53), sgDecision(db, 3, policy.Accept)},
		{"service template tcp", policy.Ingress, q("192.0.2.1", 6, 8080), sgDecision(db, 3, policy.Accept)},
		{"service template miss", policy.Ingress, q("192.0.2.1", 6, 53), defaultDrop},
		{"platform address first", policy.Ingress, q("169.254.169.254", 6, 22), platformAccept},
		{"platform v6", policy.Ingress, q("fd00:ec2::254", 17, 53), platformAccept},
		{"ingress 25 not blocked", policy.Ingress, q("203.0.113.9", 6, 25), sgDecision(web, 6, policy.Accept)},
		{"egress 25 blocked", policy.Egress, q("203.0.113.9", 6, 25), platformDrop},
		{"egress 25 blocked v6", policy.Egress, q("2001:db8::9", 6, 25), platformDrop},
		{"egress 25 to platform still blocked", policy.Egress, q("169.254.169.254", 6, 25), platformDrop},
		{"egress udp 25", policy.Egress, q("203.0.113.9", 17, 25), defaultDrop},
		{"egress web", policy.Egress, q("203.0.113.9", 6, 443), sgDecision(web, 0, policy.Accept)},
		{"invalid peer", policy.Ingress, eval.Query{Proto: 6, Port: 80}, defaultDrop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			walk, classifier := compiled(t, resolved, tt.dir)
			for _, e := range []*eval.Effective{walk, classifier} {
				d := e.Decide(tt.q)
				if got := asReference(d); got != tt.want {
					t.Errorf("Decide(%+v) (classifier %v) = %v, want %v", tt.q, e.UsesClassifier(), got, tt.want)
				}
				if problem := entryProblem(e, d); problem != "" {
					t.Errorf("Decide(%+v) (classifier %v): %s", tt.q, e.UsesClassifier(), problem)
				}
			}
			ref, err := reference.Decide(data.Reference(tt.dir), tt.q.Peer, tt.q.Proto, tt.q.Port)
			if err != nil || ref != tt.want {
				t.Errorf("reference.Decide(%+v) = %v, %v; want %v", tt.q, ref, err, tt.want)
			}
			d, lines := walk.Trace(tt.q)
			if problem := traceProblem(walk, tt.want, lines); asReference(d) != tt.want || problem != "" {
				t.Errorf("Trace(%+v) = %v %q, want %v: %s", tt.q, d, lines, tt.want, problem)
			}
		})
	}

	t.Run("port 25 lifted", func(t *testing.T) {
		data.Account.Port25Unblocked = true
		defer func() { data.Account.Port25Unblocked = false }()
		e, _ := compiled(t, lists(t, data), policy.Egress)
		if got, want := asReference(e.Decide(q("203.0.113.9", 6, 25))), sgDecision(web, 6, policy.Accept); got != want {
			t.Errorf("Decide = %v, want %v", got, want)
		}
	})
}

func TestEffectiveTrace(t *testing.T) {
	data := stored(false,
		grp("sg-0000000a", "DROP TCP 22 10.0.0.0/8"),
		grp("sg-0000000b", "ACCEPT TCP 22 0.0.0.0/0", "DROP ALL ALL 0.0.0.0/0"),
	)
	e, _ := compiled(t, lists(t, data), policy.Ingress)
	d, lines := e.Trace(q("192.0.2.1", 6, 22))
	want := []string{
		"SECURITY_GROUP: sg-0000000a policy 0 (DROP TCP 22 from 10.0.0.0/8): no match",
		"SECURITY_GROUP: sg-0000000b policy 0 (ACCEPT TCP 22 from 0.0.0.0/0): ACCEPT",
	}
	if asReference(d) != sgDecision("sg-0000000b", 0, policy.Accept) || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Trace = %v\n%s\nwant\n%s", d, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	_, lines = e.Trace(q("2001:db8::1", 6, 22))
	if last := lines[len(lines)-1]; last != "DEFAULT: no policy matches: DROP" || len(lines) != 4 {
		t.Errorf("Trace(v6) = %q, want every policy then the default", lines)
	}

	data = stored(true)
	data.Platform = []string{"169.254.0.0/16"}
	e, _ = compiled(t, lists(t, data), policy.Egress)
	_, lines = e.Trace(q("169.254.169.254", 6, 80))
	want = []string{
		"PLATFORM: outbound TCP 25 is blocked for the account: no match",
		"PLATFORM: platform service address 169.254.0.0/16: ACCEPT",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Trace = \n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompileListErrors(t *testing.T) {
	v6 := mustEntries(t, policy.Ingress, "ACCEPT TCP 22 ::/0")
	swapped := v6[0]
	swapped.V4, swapped.V6 = swapped.V6, nil
	badSvc := v6[0]
	badSvc.Services = []rules.Service{{Protocol: policy.ICMP, Ports: policy.MustParsePortSet("80")}}
	noAction := v6[0]
	noAction.Action = 0
	tests := []struct {
		name string
		l    rules.List
	}{
		{"no direction", rules.List{}},
		{"entry of the other direction", rules.List{Direction: policy.Egress, Entries: v6}},
		{"IPv6 addresses in the IPv4 set", rules.List{Direction: policy.Ingress, Entries: []rules.Entry{swapped}}},
		{"bad service", rules.List{Direction: policy.Ingress, Entries: []rules.Entry{badSvc}}},
		{"no action", rules.List{Direction: policy.Ingress, Entries: []rules.Entry{noAction}}},
		{"no layer", rules.List{Direction: policy.Ingress, Entries: []rules.Entry{{Origin: rules.Origin{Direction: policy.Ingress}, Action: policy.Accept}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := eval.CompileList(tt.l); err == nil {
				t.Error("CompileList succeeded, want an error")
			}
		})
	}
}

// mustEntries returns the entries of plain policies (CIDR peers, no
// templates) of group sg-00000001.
func mustEntries(tb testing.TB, dir policy.Direction, policies ...string) []rules.Entry {
	tb.Helper()
	var out []rules.Entry
	for i, s := range policies {
		e, err := rules.PolicyEntry(dir, "sg-00000001", i, new(pol(s)), nil, rules.Addresses{})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestEffectiveDecideAllocs(t *testing.T) {
	for _, data := range []*resolvetest.Data{randomStored(rand.New(rand.NewPCG(5, 5))), realisticInstance()} {
		l := lists(t, data)
		walk, classifier := compiled(t, l, policy.Ingress)
		for _, e := range []*eval.Effective{walk, classifier} {
			qs := []eval.Query{q("10.0.0.1", 6, 22), q("2001:db8::1", 58, 0), q("::ffff:10.0.0.1", 17, 53), q("10.101.1.35", 6, 6379)}
			i := 0
			if n := testing.AllocsPerRun(1000, func() { e.Decide(qs[i%len(qs)]); i++ }); n != 0 {
				t.Errorf("Decide (classifier %v) allocates %v times per call, want 0", e.UsesClassifier(), n)
			}
		}
	}
}

// TestEffectiveLong checks that a list longer than the walk's limit goes
// through the classifier and still agrees with the reference.
func TestEffectiveLong(t *testing.T) {
	var groups []group
	for g := range 6 {
		gr := group{id: fmt.Sprintf("sg-0000lng%d", g)}
		for i := range 200 {
			gr.policies = append(gr.policies, fmt.Sprintf("%s TCP %d 10.%d.%d.0/24", []string{"ACCEPT", "DROP"}[i%2], 1+i%50, g, i))
		}
		groups = append(groups, gr)
	}
	data := stored(true, groups...)
	e, err := eval.CompileList(lists(t, data).Egress)
	if err != nil {
		t.Fatal(err)
	}
	if !e.UsesClassifier() {
		t.Fatalf("%d entries: want the classifier", e.Len())
	}
	in := data.Reference(policy.Egress)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20000 {
		qq := eval.Query{Peer: netip.AddrFrom4([4]byte{10, byte(rng.IntN(7)), byte(rng.IntN(210)), 1}), Proto: 6, Port: uint16(rng.IntN(60))}
		want, err := reference.Decide(in, qq.Peer, qq.Proto, qq.Port)
		if err != nil {
			t.Fatal(err)
		}
		if got := asReference(e.Decide(qq)); got != want {
			t.Fatalf("Decide(%+v) = %v, want %v", qq, got, want)
		}
	}
}

// Pools the random data draws from, small so that peers, ports and
// protocols overlap.
var (
	randV4      = []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "0.0.0.0/0", "192.168.0.0/16", "192.168.5.5/32"}
	randV6      = []string{"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::3/128", "::/0", "fe80::/10"}
	randAddrs   = []string{"10.1.2.3", "10.1.2.4", "192.168.5.5", "10.2.0.1", "2001:db8:1::3", "2001:db8:1::4", "fe80::1"}
	randEntries = []string{"10.1.2.0/24", "10.1.2.3", "10.1.2.2-10.1.2.5", "192.168.0.0/16", "0.0.0.0/0", "2001:db8:1::/48", "2001:db8:1::3-2001:db8:1::9", "::/0", "fe80::1"}
	randSvcs    = []string{"tcp:22", "udp:53", "tcp:80,443", "tcp:8000-8080", "tcp:22,80-90,443", "icmp", "icmpv6", "gre", "all", "tcp", "udp:1-1024", "tcp:25"}
	randStates  = []string{"RUNNING", "RUNNING", "STOPPED", "RECYCLED", "TERMINATED"}
)

// randomStored builds an instance's stored data with random groups of
// random policies, referenced groups with random members and random
// templates and template groups.
func randomStored(rng *rand.Rand) *resolvetest.Data {
	id := func(prefix string, n int) string { return fmt.Sprintf("%s%08d", prefix, n) }
	pick := func(pool []string) string { return pool[rng.IntN(len(pool))] }
	d := &resolvetest.Data{
		Account:  store.Account{ID: "acc-00000001", Port25Unblocked: rng.IntN(2) == 0},
		Instance: store.Instance{ID: "ins-00000001", AccountID: "acc-00000001", Region: "ap-guangzhou"},
		Groups:   map[string]policy.PolicySet{},
		Now:      time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
	}
	if rng.IntN(2) == 0 {
		for range rng.IntN(4) {
			if rng.IntN(2) == 0 {
				d.Platform = append(d.Platform, pick(randV4))
			} else {
				d.Platform = append(d.Platform, pick(randV6))
			}
		}
	}
	// Referenced groups, templates and template groups: every one that a
	// policy may name exists.
	for n := range 4 {
		ref := id("sg-", n)
		for i := range rng.IntN(4) {
			m := store.Member{GroupID: ref, InstanceID: id("ins-", 100+10*n+i), State: store.InstanceState(pick(randStates))}
			for range 1 + rng.IntN(2) {
				a := pick(randAddrs)
				if strings.Contains(a, ":") {
					m.IPv6s = append(m.IPv6s, a)
				} else {
					m.PrivateIPs = append(m.PrivateIPs, a)
				}
			}
			d.Members = append(d.Members, m)
		}
	}
	for n := range 4 {
		var entries []string
		for range rng.IntN(4) {
			entries = append(entries, pick(randEntries))
		}
		d.Templates = append(d.Templates, template(id("ipm-", n), store.KindAddress, entries...))
		entries = nil
		for range rng.IntN(3) {
			entries = append(entries, pick(randSvcs))
		}
		d.Templates = append(d.Templates, template(id("ppm-", n), store.KindService, entries...))
	}
	for n := range 3 {
		var members, smembers []string
		for range rng.IntN(3) {
			members = append(members, id("ipm-", rng.IntN(4)))
			smembers = append(smembers, id("ppm-", rng.IntN(4)))
		}
		d.Templates = append(d.Templates, template(id("ipmg-", n), store.KindAddressGroup, members...),
			template(id("ppmg-", n), store.KindServiceGroup, smembers...))
	}

	portSets := []string{"ALL", "22", "80,443", "8000-8080", "22,80-90,443", "53", "25", "1-1024"}
	protocols := []policy.Protocol{policy.TCP, policy.UDP, policy.ICMP, policy.ICMPv6, policy.GRE, policy.AnyProtocol}
	refKinds := []struct {
		kind   policy.PeerKind
		prefix string
		n      int
	}{{policy.PeerSecurityGroup, "sg-", 4}, {policy.PeerAddressTemplate, "ipm-", 4}, {policy.PeerAddressTemplateGroup, "ipmg-", 3}}
	randomPolicies := func() []policy.Policy {
		var out []policy.Policy
		for range rng.IntN(12) {
			var p policy.Policy
			switch k := rng.IntN(5); k {
			case 0:
				p.Peer = policy.CIDRPeer(pfx(pick(randV6)))
			case 1, 2:
				p.Peer = policy.CIDRPeer(pfx(pick(randV4)))
			default:
				rk := refKinds[rng.IntN(len(refKinds))]
				peer, err := policy.ReferencePeer(rk.kind, id(rk.prefix, rng.IntN(rk.n)))
				if err != nil {
					panic(err)
				}
				p.Peer = peer
			}
			if rng.IntN(4) == 0 {
				p.ServiceID = []string{id("ppm-", rng.IntN(4)), id("ppmg-", rng.IntN(3))}[rng.IntN(2)]
			} else {
				p.Protocol, p.Ports = protocols[rng.IntN(len(protocols))], policy.AllPorts()
				if p.Protocol.HasPorts() {
					p.Ports = policy.MustParsePortSet(portSets[rng.IntN(len(portSets))])
				}
				// ICMP needs an IPv4 peer and ICMPv6 an IPv6 one when the
				// peer is a CIDR block.
				if p.Protocol == policy.ICMP && p.Peer.Kind == policy.PeerCIDR6 || p.Protocol == policy.ICMPv6 && p.Peer.Kind == policy.PeerCIDR {
					p.Protocol = policy.AnyProtocol
				}
			}
			p.Action = policy.Action(1 + rng.IntN(2))
			// Some policies are disabled, some expired at d.Now and some
			// expiring after it: resolve and the reference must pass over
			// the same ones.
			switch rng.IntN(8) {
			case 0:
				p.Disabled = true
			case 1:
				p.ExpiresAt = d.Now.Add(-time.Hour)
			case 2:
				p.ExpiresAt = d.Now
			case 3:
				p.ExpiresAt = d.Now.Add(time.Hour)
			}
			out = append(out, p)
		}
		return out
	}
	for g := range rng.IntN(5) {
		gid := id("sg-", 100+g)
		d.Instance.GroupIDs = append(d.Instance.GroupIDs, gid)
		d.Groups[gid] = policy.PolicySet{Version: 1, Ingress: randomPolicies(), Egress: randomPolicies()}
	}
	return d
}

func randomQuery(rng *rand.Rand) eval.Query {
	peers := []string{"10.1.2.3", "10.1.2.4", "10.1.2.5", "10.2.0.1", "192.168.5.5", "192.168.5.6", "8.8.8.8", "0.0.0.0",
		"2001:db8:1::3", "2001:db8:1::4", "2001:db8:1::a", "2001:db8:2::1", "fe80::1", "2001:db9::1", "::", "::ffff:10.1.2.3", "fe80::1%eth0"}
	protos := []uint8{1, 6, 17, 47, 58, 0, 132, 255}
	ports := []uint16{0, 1, 21, 22, 23, 25, 53, 79, 80, 81, 443, 1024, 1025, 8000, 8080, 8081, 65535}
	qq := eval.Query{
		Peer:  addr(peers[rng.IntN(len(peers))]),
		Proto: protos[rng.IntN(len(protos))],
		Port:  ports[rng.IntN(len(ports))],
	}
	if rng.IntN(20) == 0 {
		qq.Peer = netip.Addr{}
	}
	return qq
}

// TestEffectiveDifferential compares, over random stored data and queries,
// the reference's decision from the stored data with the compiled list's
// (resolve, then the walk and the classifier).
func TestEffectiveDifferential(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 13))
	for round := range 2000 {
		data := randomStored(rng)
		l := lists(t, data)
		for _, dir := range []policy.Direction{policy.Ingress, policy.Egress} {
			walk, classifier := compiled(t, l, dir)
			if walk.UsesClassifier() || !classifier.UsesClassifier() {
				t.Fatalf("round %d: classifier used %v and %v, want false and true", round, walk.UsesClassifier(), classifier.UsesClassifier())
			}
			in := data.Reference(dir)
			for range 50 {
				qq := randomQuery(rng)
				want, err := reference.Decide(in, qq.Peer, qq.Proto, qq.Port)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range []*eval.Effective{walk, classifier} {
					d := e.Decide(qq)
					if got := asReference(d); got != want {
						t.Fatalf("round %d %v (classifier %v): Decide(%+v) = %v, want %v\ndata %+v", round, dir, e.UsesClassifier(), qq, got, want, data)
					}
					if problem := entryProblem(e, d); problem != "" {
						t.Fatalf("round %d %v (classifier %v): Decide(%+v): %s", round, dir, e.UsesClassifier(), qq, problem)
					}
				}
				if round%10 == 0 {
					got, lines := walk.Trace(qq)
					if problem := traceProblem(walk, want, lines); asReference(got) != want || problem != "" {
						t.Fatalf("round %d: Trace(%+v) = %v %q, want %v: %s", round, qq, got, lines, want, problem)
					}
				}
			}
		}
	}
}

// traceProblem says what is wrong with a trace ending in decision d, if
// anything: every line but the last must say "no match", and the last must
// name d's layer, policy and verdict (or be the default's line, after every
// entry).
func traceProblem(e *eval.Effective, d reference.Decision, lines []string) string {
	if len(lines) == 0 {
		return "no lines"
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasSuffix(l, ": no match") {
			return fmt.Sprintf("line %q before the last matched", l)
		}
	}
	last := lines[len(lines)-1]
	var prefix string
	switch d.Layer {
	case reference.LayerDefault:
		if last != "DEFAULT: no policy matches: DROP" || len(lines) != e.Len()+1 {
			return "default trace does not list every entry then the default"
		}
		return ""
	case reference.LayerPlatform:
		prefix = "PLATFORM: "
	case reference.LayerSecurityGroup:
		prefix = fmt.Sprintf("SECURITY_GROUP: %s policy %d (", d.GroupID, d.PolicyIndex)
	}
	if !strings.HasPrefix(last, prefix) || !strings.HasSuffix(last, ": "+d.Verdict.String()) {
		return fmt.Sprintf("last line %q does not name %v", last, d)
	}
	return ""
}

// TestCompileListFrom compiles lists again from an earlier compilation —
// the list itself, with other platform rules in front, entries dropped
// from the front, an entry built again or added in the middle, a list of
// the other direction — and checks that each decides and traces every
// packet as the list compiled afresh does, and that the entries unchanged
// at the same distance from the end are reused.
func TestCompileListFrom(t *testing.T) {
	// An entry of two services and two ranges at the same offsets in the
	// walk's arrays: the copies of its services and of its ranges must not
	// be taken for one another.
	two := stored(false, grp("sg-00000002", "ACCEPT ppm-00000001 sg-0000peer", "DROP ALL ALL 0.0.0.0/0"))
	two.Templates = []store.Template{template("ppm-00000001", store.KindService, "tcp:22", "udp:53")}
	two.Members = []store.Member{
		{GroupID: "sg-0000peer", InstanceID: "ins-000peer1", State: "RUNNING", PrivateIPs: []string{"10.1.2.3"}},
		{GroupID: "sg-0000peer", InstanceID: "ins-000peer2", State: "RUNNING", PrivateIPs: []string{"192.168.5.5"}},
	}
	datas := []*resolvetest.Data{realisticInstance(), two}
	for seed := range uint64(6) {
		datas = append(datas, randomStored(rand.New(rand.NewPCG(seed, 77))))
	}
	platform := func(d policy.Direction, blocked bool, ps ...string) []rules.Entry {
		var prefixes []netip.Prefix
		for _, p := range ps {
			prefixes = append(prefixes, netip.MustParsePrefix(p))
		}
		out, err := rules.Platform(d, blocked, prefixes)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rng := rand.New(rand.NewPCG(3, 4))
	protos := []uint8{1, 6, 17, 47, 58}
	for di, data := range datas {
		ls := lists(t, data)
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			l := *ls.List(d)
			prev, err := eval.CompileList(l)
			if err != nil {
				t.Fatal(err)
			}
			groups := 0 // where the groups' entries start
			for groups < len(l.Entries) && l.Entries[groups].Origin.Layer == rules.LayerPlatform {
				groups++
			}
			od := policy.Egress
			if d == policy.Egress {
				od = policy.Ingress
			}
			other := *ls.List(od)
			// rebuilt is the list with entry i built again (its own
			// services slice), and added the list with a copy of entry i
			// inserted before it.
			mid := len(l.Entries) / 2
			rebuilt := rules.List{Direction: d, Entries: slices.Clone(l.Entries)}
			added := rules.List{Direction: d, Entries: slices.Insert(slices.Clone(l.Entries), mid, l.Entries[mid])}
			if len(l.Entries) > 0 {
				rebuilt.Entries[mid].Services = slices.Clone(rebuilt.Entries[mid].Services)
				added.Entries[mid].Services = slices.Clone(added.Entries[mid].Services)
			}
			tests := []struct {
				name  string
				l     rules.List
				reuse int // at least
			}{
				{"the same list", l, len(l.Entries)},
				{"other platform rules", rules.List{Direction: d, Entries: append(platform(d, false, "169.254.0.0/16", "fd00:ec2::254/128", "10.1.2.0/24"), l.Entries[groups:]...)}, len(l.Entries) - groups},
				{"no platform rules", rules.List{Direction: d, Entries: l.Entries[groups:]}, len(l.Entries) - groups},
				{"a third of the entries dropped", rules.List{Direction: d, Entries: l.Entries[len(l.Entries)/3:]}, len(l.Entries) - len(l.Entries)/3},
				{"an entry built again", rebuilt, len(l.Entries) - 1},
				{"an entry added", added, len(l.Entries) - mid},
				{"the other direction", other, 0},
			}
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%d %v %s", di, d, tt.name), func(t *testing.T) {
					got, reused, err := eval.CompileListFromReused(prev, tt.l)
					if err != nil {
						t.Fatal(err)
					}
					want, err := eval.CompileList(tt.l)
					if err != nil {
						t.Fatal(err)
					}
					if reused < tt.reuse {
						t.Errorf("reused %d entries, want at least %d", reused, tt.reuse)
					}
					if got.Len() != want.Len() {
						t.Fatalf("Len() = %d, want %d", got.Len(), want.Len())
					}
					for range 3000 {
						qq := eval.Query{Peer: addr(randAddrs[rng.IntN(len(randAddrs))]), Proto: protos[rng.IntN(len(protos))], Port: uint16([]int{22, 25, 53, 80, 443, 1000, 8080}[rng.IntN(7)])}
						if g, w := got.Decide(qq), want.Decide(qq); g != w {
							t.Fatalf("Decide(%+v) = %v, want %v", qq, g, w)
						}
						gd, gl := got.Trace(qq)
						wd, wl := want.Trace(qq)
						if gd != wd || strings.Join(gl, "\n") != strings.Join(wl, "\n") {
							t.Fatalf("Trace(%+v) = %v %q, want %v %q", qq, gd, gl, wd, wl)
						}
					}
				})
			}
		}
	}
}
