package eval_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
)

func pol(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

func group(id string, policies ...string) eval.BoundGroup {
	g := eval.BoundGroup{ID: id}
	for _, s := range policies {
		g.Policies = append(g.Policies, pol(s))
	}
	return g
}

func q(peer string, proto uint8, port uint16) eval.Query {
	return eval.Query{Peer: addr(peer), Proto: proto, Port: port}
}

func sgDecision(id string, i int, v policy.Action) eval.Decision {
	return eval.Decision{Verdict: v, Layer: eval.LayerSecurityGroup, GroupID: id, PolicyIndex: i}
}

var (
	platformAccept = eval.Decision{Verdict: policy.Accept, Layer: eval.LayerPlatform, PolicyIndex: -1}
	platformDrop   = eval.Decision{Verdict: policy.Drop, Layer: eval.LayerPlatform, PolicyIndex: -1}
	defaultDrop    = eval.Decision{Verdict: policy.Drop, Layer: eval.LayerDefault, PolicyIndex: -1}
)

func TestEffective(t *testing.T) {
	const (
		web  = "sg-0000web1"
		db   = "sg-00000db1"
		peer = "sg-0peer001"
		tmpl = "ipm-0000tpl1"
		svc  = "ppm-0000svc1"
	)
	groups := []eval.BoundGroup{
		group("sg-00empty1"), // no policies: falls through
		group(web,
			"ACCEPT TCP 80,443 0.0.0.0/0",
			"ACCEPT TCP 80,443 ::/0",
			"DROP TCP 22 10.9.0.0/16",
			"ACCEPT TCP 22 10.0.0.0/8",
			"ACCEPT ICMP ALL 0.0.0.0/0",
			"ACCEPT ICMPv6 ALL ::/0",
			"ACCEPT TCP 25 0.0.0.0/0",
		),
		group(db,
			"ACCEPT TCP 22 10.0.0.0/8",    // shadowed by web's
			"ACCEPT TCP 3306 "+peer,       // group reference, both families
			"ACCEPT ALL ALL "+tmpl,        // address template
			"ACCEPT "+svc+" 192.0.2.0/24", // service template
			"DROP GRE ALL 0.0.0.0/0",
		),
	}
	in := eval.EffectiveInput{
		Port25Blocked:     true,
		PlatformAddresses: []netip.Prefix{pfx("169.254.0.0/16"), pfx("fd00:ec2::254/128")},
		Groups:            groups,
		Addresses: map[string][]netip.Prefix{
			peer: {pfx("10.20.0.5/32"), pfx("2001:db8::5/128")},
			tmpl: {pfx("198.51.100.0/25"), pfx("198.51.100.128/26")},
		},
		Services: map[string][]eval.Service{
			svc: {{Protocol: policy.UDP, Ports: policy.MustParsePortSet("53")}, {Protocol: policy.TCP, Ports: policy.MustParsePortSet("8000-8080")}},
		},
	}
	tests := []struct {
		name string
		dir  policy.Direction
		q    eval.Query
		want eval.Decision
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
			in := in
			in.Direction = tt.dir
			e, err := eval.CompileEffective(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Decide(tt.q); got != tt.want {
				t.Errorf("Decide(%+v) = %v, want %v", tt.q, got, tt.want)
			}
			c, err := eval.CompileEffectiveClassifier(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Decide(tt.q); got != tt.want {
				t.Errorf("Decide(%+v) through the classifier = %v, want %v", tt.q, got, tt.want)
			}
			ref, err := eval.ReferenceDecide(in, tt.q)
			if err != nil || ref != tt.want {
				t.Errorf("ReferenceDecide(%+v) = %v, %v; want %v", tt.q, ref, err, tt.want)
			}
			d, lines := e.Trace(tt.q)
			if problem := traceProblem(e, tt.want, lines); d != tt.want || problem != "" {
				t.Errorf("Trace(%+v) = %v %q, want %v: %s", tt.q, d, lines, tt.want, problem)
			}
		})
	}

	t.Run("port 25 lifted", func(t *testing.T) {
		in := in
		in.Direction, in.Port25Blocked = policy.Egress, false
		e, err := eval.CompileEffective(in)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := e.Decide(q("203.0.113.9", 6, 25)), sgDecision(web, 6, policy.Accept); got != want {
			t.Errorf("Decide = %v, want %v", got, want)
		}
	})
}

func TestEffectiveTrace(t *testing.T) {
	in := eval.EffectiveInput{
		Direction: policy.Ingress,
		Groups: []eval.BoundGroup{
			group("sg-0000000a", "DROP TCP 22 10.0.0.0/8"),
			group("sg-0000000b", "ACCEPT TCP 22 0.0.0.0/0", "DROP ALL ALL 0.0.0.0/0"),
		},
	}
	e, err := eval.CompileEffective(in)
	if err != nil {
		t.Fatal(err)
	}
	d, lines := e.Trace(q("192.0.2.1", 6, 22))
	want := []string{
		"SECURITY_GROUP: sg-0000000a policy 0 (DROP TCP 22 from 10.0.0.0/8): no match",
		"SECURITY_GROUP: sg-0000000b policy 0 (ACCEPT TCP 22 from 0.0.0.0/0): ACCEPT",
	}
	if d != sgDecision("sg-0000000b", 0, policy.Accept) || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Trace = %v\n%s\nwant\n%s", d, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	_, lines = e.Trace(q("2001:db8::1", 6, 22))
	if last := lines[len(lines)-1]; last != "DEFAULT: no policy matches: DROP" || len(lines) != 4 {
		t.Errorf("Trace(v6) = %q, want every policy then the default", lines)
	}
}

func TestEffectiveErrors(t *testing.T) {
	tests := []struct {
		name string
		in   eval.EffectiveInput
	}{
		{"no direction", eval.EffectiveInput{}},
		{"unresolved group", eval.EffectiveInput{Direction: policy.Ingress, Groups: []eval.BoundGroup{group("sg-0000000a", "ACCEPT TCP 22 sg-0000000b")}}},
		{"unresolved template", eval.EffectiveInput{Direction: policy.Ingress, Groups: []eval.BoundGroup{group("sg-0000000a", "ACCEPT ALL ALL ipmg-0000000b")}}},
		{"unresolved service", eval.EffectiveInput{Direction: policy.Ingress, Groups: []eval.BoundGroup{group("sg-0000000a", "ACCEPT ppm-0000000b 0.0.0.0/0")}}},
		{"bad service", eval.EffectiveInput{Direction: policy.Ingress, Groups: []eval.BoundGroup{group("sg-0000000a", "ACCEPT ppm-0000000b 0.0.0.0/0")},
			Services: map[string][]eval.Service{"ppm-0000000b": {{Protocol: policy.ICMP, Ports: policy.MustParsePortSet("80")}}}}},
		{"bad platform address", eval.EffectiveInput{Direction: policy.Ingress, PlatformAddresses: []netip.Prefix{{}}}},
		{"invalid policy", eval.EffectiveInput{Direction: policy.Ingress, Groups: []eval.BoundGroup{{ID: "sg-0000000a", Policies: []policy.Policy{{}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := eval.CompileEffective(tt.in); err == nil {
				t.Error("CompileEffective succeeded, want an error")
			}
			if _, err := eval.ReferenceDecide(tt.in, q("10.0.0.1", 6, 22)); err == nil {
				t.Error("ReferenceDecide succeeded, want an error")
			}
		})
	}
}

func TestEffectiveDecideAllocs(t *testing.T) {
	for _, compile := range []func(eval.EffectiveInput) (*eval.Effective, error){eval.CompileEffective, eval.CompileEffectiveClassifier} {
		for _, in := range []eval.EffectiveInput{randomEffective(rand.New(rand.NewPCG(5, 5))), realisticInstance(policy.Ingress)} {
			e, err := compile(in)
			if err != nil {
				t.Fatal(err)
			}
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
	in := eval.EffectiveInput{Direction: policy.Egress, Port25Blocked: true}
	for g := range 6 {
		bg := eval.BoundGroup{ID: fmt.Sprintf("sg-0000lng%d", g)}
		for i := range 200 {
			bg.Policies = append(bg.Policies, pol(fmt.Sprintf("%s TCP %d 10.%d.%d.0/24", []string{"ACCEPT", "DROP"}[i%2], 1+i%50, g, i)))
		}
		in.Groups = append(in.Groups, bg)
	}
	e, err := eval.CompileEffective(in)
	if err != nil {
		t.Fatal(err)
	}
	if !e.UsesClassifier() {
		t.Fatalf("%d entries: want the classifier", e.Len())
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20000 {
		qq := eval.Query{Peer: netip.AddrFrom4([4]byte{10, byte(rng.IntN(7)), byte(rng.IntN(210)), 1}), Proto: 6, Port: uint16(rng.IntN(60))}
		want, err := eval.ReferenceDecide(in, qq)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Decide(qq); got != want {
			t.Fatalf("Decide(%+v) = %v, want %v", qq, got, want)
		}
	}
}

// randomEffective builds an input with random groups of random policies
// over a small address space, so that peers, ports and protocols overlap.
func randomEffective(rng *rand.Rand) eval.EffectiveInput {
	id := func(prefix string, n int) string { return fmt.Sprintf("%s%08d", prefix, n) }
	v4 := []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "0.0.0.0/0", "192.168.0.0/16", "192.168.5.5/32"}
	v6 := []string{"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::3/128", "::/0", "fe80::/10"}
	prefixes := func() []netip.Prefix {
		var ps []netip.Prefix
		for range rng.IntN(4) {
			if rng.IntN(2) == 0 {
				ps = append(ps, pfx(v4[rng.IntN(len(v4))]))
			} else {
				ps = append(ps, pfx(v6[rng.IntN(len(v6))]))
			}
		}
		return ps
	}
	portSets := []string{"ALL", "22", "80,443", "8000-8080", "22,80-90,443", "53", "25", "1-1024"}
	protocols := []policy.Protocol{policy.TCP, policy.UDP, policy.ICMP, policy.ICMPv6, policy.GRE, policy.AnyProtocol}
	service := func() eval.Service {
		p := protocols[rng.IntN(len(protocols))]
		s := eval.Service{Protocol: p, Ports: policy.AllPorts()}
		if p.HasPorts() {
			s.Ports = policy.MustParsePortSet(portSets[rng.IntN(len(portSets))])
		}
		return s
	}

	in := eval.EffectiveInput{
		Direction:     policy.Direction(1 + rng.IntN(2)),
		Port25Blocked: rng.IntN(2) == 0,
		Addresses:     map[string][]netip.Prefix{},
		Services:      map[string][]eval.Service{},
	}
	if rng.IntN(2) == 0 {
		in.PlatformAddresses = prefixes()
	}
	refKinds := []struct {
		kind   policy.PeerKind
		prefix string
	}{{policy.PeerSecurityGroup, "sg-"}, {policy.PeerAddressTemplate, "ipm-"}, {policy.PeerAddressTemplateGroup, "ipmg-"}}
	for g := range rng.IntN(5) {
		bg := eval.BoundGroup{ID: id("sg-", 100+g)}
		for range rng.IntN(12) {
			var p policy.Policy
			switch k := rng.IntN(5); k {
			case 0:
				p.Peer = policy.CIDRPeer(pfx(v6[rng.IntN(len(v6))]))
			case 1, 2:
				p.Peer = policy.CIDRPeer(pfx(v4[rng.IntN(len(v4))]))
			default:
				rk := refKinds[rng.IntN(len(refKinds))]
				n := rng.IntN(4)
				peer, err := policy.ReferencePeer(rk.kind, id(rk.prefix, n))
				if err != nil {
					panic(err)
				}
				p.Peer = peer
				if _, ok := in.Addresses[peer.ID]; !ok {
					in.Addresses[peer.ID] = prefixes()
				}
			}
			if rng.IntN(4) == 0 {
				p.ServiceID = id([]string{"ppm-", "ppmg-"}[rng.IntN(2)], rng.IntN(3))
				if _, ok := in.Services[p.ServiceID]; !ok {
					var svcs []eval.Service
					for range rng.IntN(3) {
						svcs = append(svcs, service())
					}
					in.Services[p.ServiceID] = svcs
				}
			} else {
				s := service()
				p.Protocol, p.Ports = s.Protocol, s.Ports
				// ICMP needs an IPv4 peer and ICMPv6 an IPv6 one when the
				// peer is a CIDR block.
				if p.Protocol == policy.ICMP && p.Peer.Kind == policy.PeerCIDR6 || p.Protocol == policy.ICMPv6 && p.Peer.Kind == policy.PeerCIDR {
					p.Protocol = policy.AnyProtocol
				}
			}
			p.Action = policy.Action(1 + rng.IntN(2))
			bg.Policies = append(bg.Policies, p)
		}
		in.Groups = append(in.Groups, bg)
	}
	return in
}

func randomQuery(rng *rand.Rand) eval.Query {
	peers := []string{"10.1.2.3", "10.1.2.4", "10.2.0.1", "192.168.5.5", "192.168.5.6", "8.8.8.8", "0.0.0.0",
		"2001:db8:1::3", "2001:db8:1::4", "2001:db8:2::1", "fe80::1", "2001:db9::1", "::", "::ffff:10.1.2.3", "fe80::1%eth0"}
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

// TestEffectiveDifferential compares the compiled effective list with the
// reference walk over random inputs and queries.
func TestEffectiveDifferential(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 13))
	for round := range 2000 {
		in := randomEffective(rng)
		walk, err := eval.CompileEffective(in)
		if err != nil {
			t.Fatalf("round %d: CompileEffective = %v", round, err)
		}
		classifier, err := eval.CompileEffectiveClassifier(in)
		if err != nil {
			t.Fatalf("round %d: CompileEffectiveClassifier = %v", round, err)
		}
		if walk.UsesClassifier() || !classifier.UsesClassifier() {
			t.Fatalf("round %d: classifier used %v and %v, want false and true", round, walk.UsesClassifier(), classifier.UsesClassifier())
		}
		for range 100 {
			qq := randomQuery(rng)
			want, err := eval.ReferenceDecide(in, qq)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []*eval.Effective{walk, classifier} {
				if got := e.Decide(qq); got != want {
					t.Fatalf("round %d (classifier %v): Decide(%+v) = %v, want %v\ninput %+v", round, e.UsesClassifier(), qq, got, want, in)
				}
			}
			if round%10 == 0 {
				got, lines := walk.Trace(qq)
				if problem := traceProblem(walk, want, lines); got != want || problem != "" {
					t.Fatalf("round %d: Trace(%+v) = %v %q, want %v: %s", round, qq, got, lines, want, problem)
				}
			}
		}
	}
}

// traceProblem says what is wrong with a trace ending in decision d, if
// anything: every line but the last must say "no match", and the last must
// name d's layer, policy and verdict (or be the default's line, after every
// entry).
func traceProblem(e *eval.Effective, d eval.Decision, lines []string) string {
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
	case eval.LayerDefault:
		if last != "DEFAULT: no policy matches: DROP" || len(lines) != e.Len()+1 {
			return "default trace does not list every entry then the default"
		}
		return ""
	case eval.LayerPlatform:
		prefix = "PLATFORM: "
	case eval.LayerSecurityGroup:
		prefix = fmt.Sprintf("SECURITY_GROUP: %s policy %d (", d.GroupID, d.PolicyIndex)
	}
	if !strings.HasPrefix(last, prefix) || !strings.HasSuffix(last, ": "+d.Verdict.String()) {
		return fmt.Sprintf("last line %q does not name %v", last, d)
	}
	return ""
}
