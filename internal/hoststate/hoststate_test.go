package hoststate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/wire"
)

// universe is a small address and port space, so that random rules and
// random packets meet often.
type universe struct {
	rng *rand.Rand
}

func (u universe) addr(is6 bool) netip.Addr {
	if is6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(u.rng.IntN(64))})
	}
	return netip.AddrFrom4([4]byte{10, 0, 0, byte(u.rng.IntN(64))})
}

func (u universe) prefix(is6 bool) netip.Prefix {
	a := u.addr(is6)
	bits := a.BitLen() - u.rng.IntN(5)
	if u.rng.IntN(10) == 0 {
		bits = 0
	}
	return netip.PrefixFrom(a, bits).Masked()
}

func (u universe) ports() policy.PortSet {
	if u.rng.IntN(4) == 0 {
		return policy.AllPorts()
	}
	var rs []policy.PortRange
	for range 1 + u.rng.IntN(3) {
		lo := uint16(1 + u.rng.IntN(30))
		rs = append(rs, policy.PortRange{Lo: lo, Hi: lo + uint16(u.rng.IntN(4))})
	}
	return policy.Ports(rs...)
}

func (u universe) service(is6 bool) rules.Service {
	protos := []policy.Protocol{policy.TCP, policy.UDP, policy.GRE, policy.AnyProtocol, policy.ICMP}
	if is6 {
		protos[4] = policy.ICMPv6
	}
	p := protos[u.rng.IntN(len(protos))]
	if p.HasPorts() {
		return rules.Service{Protocol: p, Ports: u.ports()}
	}
	return rules.Service{Protocol: p, Ports: policy.AllPorts()}
}

// set returns the addresses of a reference: a few of the universe's.
func (u universe) set(src rules.Source) rules.Addresses {
	var b netipx.IPSetBuilder
	for range u.rng.IntN(6) {
		b.AddPrefix(u.prefix(u.rng.IntN(2) == 0))
	}
	a, err := rules.Split(src, &b)
	if err != nil {
		panic(err)
	}
	return a
}

func id(prefix string, n int) string { return fmt.Sprintf("%s%08d", prefix, n) }

// list returns a random effective list of direction d: the platform rules,
// then policies of three groups with CIDR peers, group references, address
// templates and service templates. refs are the references' addresses,
// shared by every list of a state as resolution shares them.
func (u universe) list(t *testing.T, d policy.Direction, refs map[string]rules.Addresses, svcs map[string][]rules.Service) rules.List {
	t.Helper()
	plat := []netip.Prefix{u.prefix(false), u.prefix(true)}
	entries, err := rules.Platform(d, u.rng.IntN(2) == 0, plat)
	if err != nil {
		t.Fatal(err)
	}
	l := rules.List{Direction: d, Entries: entries}
	for g := range 3 {
		gid := id(policy.PrefixSecurityGroup, g)
		for i := range 4 + u.rng.IntN(8) {
			is6 := u.rng.IntN(3) == 0
			p := policy.Policy{Action: policy.Accept, Description: "p " + fmt.Sprint(i)}
			if u.rng.IntN(2) == 0 {
				p.Action = policy.Drop
			}
			var addrs rules.Addresses
			switch u.rng.IntN(4) {
			case 0:
				ref := id(policy.PrefixSecurityGroup, 10+u.rng.IntN(3))
				p.Peer, _ = policy.ReferencePeer(policy.PeerSecurityGroup, ref)
				addrs = refs[ref]
			case 1:
				ref := id(policy.PrefixAddressTemplate, u.rng.IntN(2))
				p.Peer, _ = policy.ReferencePeer(policy.PeerAddressTemplate, ref)
				addrs = refs[ref]
			case 2:
				ref := id(policy.PrefixAddressTemplateGroup, 0)
				p.Peer, _ = policy.ReferencePeer(policy.PeerAddressTemplateGroup, ref)
				addrs = refs[ref]
			default:
				p.Peer = policy.CIDRPeer(u.prefix(is6))
				is6 = p.Peer.Prefix.Addr().Is6()
			}
			var services []rules.Service
			if u.rng.IntN(4) == 0 {
				p.ServiceID = id(policy.PrefixServiceTemplate, u.rng.IntN(2))
				services = svcs[p.ServiceID]
			} else {
				s := u.service(is6)
				p.Protocol, p.Ports = s.Protocol, s.Ports
			}
			e, err := rules.PolicyEntry(d, gid, i, &p, services, addrs)
			if err != nil {
				t.Fatalf("PolicyEntry(%v): %v", p, err)
			}
			l.Entries = append(l.Entries, e)
		}
	}
	return l
}

func (u universe) state(t *testing.T) State {
	refs := map[string]rules.Addresses{}
	for _, ref := range []string{id(policy.PrefixSecurityGroup, 10), id(policy.PrefixSecurityGroup, 11), id(policy.PrefixSecurityGroup, 12)} {
		refs[ref] = u.set(rules.Source{Kind: rules.SourceSecurityGroup, ID: ref})
	}
	for _, ref := range []string{id(policy.PrefixAddressTemplate, 0), id(policy.PrefixAddressTemplate, 1)} {
		refs[ref] = u.set(rules.Source{Kind: rules.SourceAddressTemplate, ID: ref})
	}
	ref := id(policy.PrefixAddressTemplateGroup, 0)
	refs[ref] = u.set(rules.Source{Kind: rules.SourceAddressTemplateGroup, ID: ref})
	svcs := map[string][]rules.Service{}
	for n := range 2 {
		for range 1 + u.rng.IntN(3) {
			svcs[id(policy.PrefixServiceTemplate, n)] = append(svcs[id(policy.PrefixServiceTemplate, n)], u.service(u.rng.IntN(2) == 0))
		}
	}
	s := State{Revision: 42, HostID: "host-00000001"}
	for n := range 3 {
		s.Instances = append(s.Instances, Instance{
			ID: id(policy.PrefixInstance, n), AccountID: "acc-00000001", Interface: fmt.Sprintf("tap%d", n), State: "RUNNING",
			PrivateIPs: []string{fmt.Sprintf("10.0.1.%d", n)},
			Ingress:    u.list(t, policy.Ingress, refs, svcs),
			Egress:     u.list(t, policy.Egress, refs, svcs),
		})
	}
	s.Unresolvable = []Problem{{InstanceID: id(policy.PrefixInstance, 9), Message: "referenced template does not exist"}}
	return s
}

// roundTrip encodes s, sends it through JSON and decodes it.
func roundTrip(t *testing.T, s State) State {
	t.Helper()
	w, err := Encode(s)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var back wire.HostState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(back)
	if err != nil {
		t.Fatalf("Decode(Encode(s)): %v", err)
	}
	return got
}

// TestRoundTripDecidesAlike: the lists decoded from the wire form decide
// every packet of a random universe as the lists encoded, by the same
// entry, with the same origin and policy.
func TestRoundTripDecidesAlike(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			u := universe{rng: rand.New(rand.NewPCG(seed, 7))}
			s := u.state(t)
			got := roundTrip(t, s)
			if got.Revision != s.Revision || got.HostID != s.HostID || len(got.Instances) != len(s.Instances) {
				t.Fatalf("Decode(Encode(s)) = revision %d host %s %d instances, want %d %s %d", got.Revision, got.HostID, len(got.Instances), s.Revision, s.HostID, len(s.Instances))
			}
			if len(got.Unresolvable) != 1 || got.Unresolvable[0] != s.Unresolvable[0] {
				t.Errorf("Unresolvable = %v, want %v", got.Unresolvable, s.Unresolvable)
			}
			protos := []uint8{1, 6, 17, 47, 58, 132}
			for i := range s.Instances {
				want, in := &s.Instances[i], &got.Instances[i]
				if in.ID != want.ID || in.Interface != want.Interface || in.State != want.State || in.PrivateIPs[0] != want.PrivateIPs[0] {
					t.Errorf("instance %d = %+v, want %+v", i, in, want)
				}
				for _, d := range directions() {
					wl, gl := want.List(d), in.List(d)
					if gl.Len() != wl.Len() {
						t.Fatalf("%s %v: %d entries, want %d", want.ID, d, gl.Len(), wl.Len())
					}
					for j := range wl.Entries {
						we, ge := &wl.Entries[j], &gl.Entries[j]
						if ge.Origin != we.Origin || ge.Source != we.Source || (ge.Policy == nil) != (we.Policy == nil) ||
							ge.Policy != nil && (!ge.Policy.SameRule(*we.Policy) || ge.Policy.Description != we.Policy.Description) {
							t.Errorf("%s %v entry %d = %+v %v %v, want %+v %v %v", want.ID, d, j, ge.Origin, ge.Source, ge.Policy, we.Origin, we.Source, we.Policy)
						}
					}
					we, err := eval.CompileList(*wl)
					if err != nil {
						t.Fatal(err)
					}
					ge, err := eval.CompileList(*gl)
					if err != nil {
						t.Fatalf("CompileList(decoded): %v", err)
					}
					for range 3000 {
						q := eval.Query{Peer: u.addr(u.rng.IntN(2) == 0), Proto: protos[u.rng.IntN(len(protos))], Port: uint16(u.rng.IntN(40))}
						if g, w := ge.Decide(q), we.Decide(q); g != w {
							t.Fatalf("%s %v: Decide(%v) = %v, want %v", want.ID, d, q, g, w)
						}
					}
				}
			}
		})
	}
}

// TestEncodeAddressSets: a reference is one address set, listed once with
// sorted prefixes, and an empty one has no addresses.
func TestEncodeAddressSets(t *testing.T) {
	var b netipx.IPSetBuilder
	b.AddPrefix(netip.MustParsePrefix("2001:db8::/64"))
	b.AddPrefix(netip.MustParsePrefix("10.0.2.0/24"))
	b.AddPrefix(netip.MustParsePrefix("10.0.1.7/32"))
	sg := id(policy.PrefixSecurityGroup, 1)
	full, _ := rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: sg}, &b)
	empty := id(policy.PrefixSecurityGroup, 2)
	none, _ := rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: empty}, new(netipx.IPSetBuilder))
	entry := func(i int, ref string, a rules.Addresses) rules.Entry {
		peer, _ := policy.ReferencePeer(policy.PeerSecurityGroup, ref)
		e, err := rules.PolicyEntry(policy.Ingress, id(policy.PrefixSecurityGroup, 0), i, &policy.Policy{Protocol: policy.TCP, Ports: policy.MustParsePortSet("22"), Peer: peer, Action: policy.Accept}, nil, a)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	s := State{Instances: []Instance{
		{ID: id(policy.PrefixInstance, 1), Ingress: rules.List{Direction: policy.Ingress, Entries: []rules.Entry{entry(0, sg, full), entry(1, empty, none)}}, Egress: rules.List{Direction: policy.Egress}},
		{ID: id(policy.PrefixInstance, 2), Ingress: rules.List{Direction: policy.Ingress, Entries: []rules.Entry{entry(0, sg, full)}}, Egress: rules.List{Direction: policy.Egress}},
	}}
	w, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.HostAddressSet{{Id: sg, Addresses: []string{"10.0.1.7/32", "10.0.2.0/24", "2001:db8::/64"}}, {Id: empty, Addresses: []string{}}}
	if fmt.Sprint(w.AddressSets) != fmt.Sprint(want) {
		t.Errorf("AddressSets = %v, want %v", w.AddressSets, want)
	}
	if r := w.Instances[0].Ingress[0]; r.AddressSetId != sg || len(r.CidrBlocks) != 0 || r.Policy != "ACCEPT TCP 22 "+sg {
		t.Errorf("rule = %+v, want a reference to %s", r, sg)
	}
	// The same reference resolved to other addresses is refused.
	other, _ := rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: sg}, new(netipx.IPSetBuilder))
	s.Instances[1].Ingress.Entries[0] = entry(0, sg, other)
	if _, err := Encode(s); err == nil || !strings.Contains(err.Error(), sg) {
		t.Errorf("Encode with two resolutions of %s: %v, want an error naming it", sg, err)
	}
}

// TestDecodeFailsClosed: each unreadable value refuses its instance, with
// an error naming the instance, the rule and the value; the other
// instances decode.
func TestDecodeFailsClosed(t *testing.T) {
	idx := func(n int) *int { return &n }
	good := wire.HostRule{Layer: "SECURITY_GROUP", SecurityGroupId: "sg-00000001", PolicyIndex: idx(0), Policy: "ACCEPT TCP 22 10.0.0.0/8",
		Action: "ACCEPT", Services: []wire.HostService{{Protocol: "TCP", Ports: "22"}}, CidrBlocks: []string{"10.0.0.0/8"}}
	tests := []struct {
		name   string
		edit   func(r *wire.HostRule)
		naming string
	}{
		{"action", func(r *wire.HostRule) { r.Action = "ALLOW" }, `Action "ALLOW"`},
		{"layer", func(r *wire.HostRule) { r.Layer = "DEFAULT" }, `Layer "DEFAULT"`},
		{"protocol", func(r *wire.HostRule) { r.Services[0].Protocol = "SCTP" }, `Services.0.Protocol "SCTP"`},
		{"ports", func(r *wire.HostRule) { r.Services[0].Ports = "22-" }, `Services.0.Ports "22-"`},
		{"ports of ICMP", func(r *wire.HostRule) { r.Services[0] = wire.HostService{Protocol: "ICMP", Ports: "22"} }, `Services.0.Ports "22"`},
		{"no services", func(r *wire.HostRule) { r.Services = nil }, "Services"},
		{"prefix", func(r *wire.HostRule) { r.CidrBlocks = []string{"10.0.0.300/8"} }, `CidrBlocks.0 "10.0.0.300/8"`},
		{"unmasked prefix", func(r *wire.HostRule) { r.CidrBlocks = []string{"10.0.0.1/8"} }, `CidrBlocks.0 "10.0.0.1/8"`},
		{"no peer", func(r *wire.HostRule) { r.CidrBlocks = nil }, "CidrBlocks"},
		{"both peers", func(r *wire.HostRule) { r.AddressSetId = "sg-00000002" }, `AddressSetId "sg-00000002"`},
		{"missing set", func(r *wire.HostRule) { r.CidrBlocks, r.AddressSetId = nil, "sg-00000009" }, `AddressSetId "sg-00000009"`},
		{"bad set", func(r *wire.HostRule) { r.CidrBlocks, r.AddressSetId = nil, "sg-00000003" }, `Addresses.0 "nope"`},
		{"group id", func(r *wire.HostRule) { r.SecurityGroupId = "sg-1" }, `SecurityGroupId "sg-1"`},
		{"no index", func(r *wire.HostRule) { r.PolicyIndex = nil }, "PolicyIndex"},
		{"policy", func(r *wire.HostRule) { r.Policy = "ACCEPT TCP" }, `Policy "ACCEPT TCP"`},
		{"policy action", func(r *wire.HostRule) { r.Policy = "DROP TCP 22 10.0.0.0/8" }, `Policy "DROP TCP 22 10.0.0.0/8"`},
		{"platform rule", func(r *wire.HostRule) { *r = wire.HostRule{Layer: "PLATFORM", Platform: "NOPE", Action: "ACCEPT"} }, `Platform "NOPE"`},
		{"platform with group", func(r *wire.HostRule) { r.Layer, r.Platform = "PLATFORM", "PLATFORM_ADDRESS" }, `Layer "PLATFORM"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := good
			bad.Services = append([]wire.HostService(nil), good.Services...)
			tt.edit(&bad)
			w := wire.HostState{
				Revision:    3,
				AddressSets: []wire.HostAddressSet{{Id: "sg-00000002", Addresses: []string{}}, {Id: "sg-00000003", Addresses: []string{"nope"}}},
				Instances: []wire.HostInstance{
					{InstanceId: "ins-00000001", Ingress: []wire.HostRule{good}},
					{InstanceId: "ins-00000002", Ingress: []wire.HostRule{good}, Egress: []wire.HostRule{good, bad}},
				},
			}
			s, err := Decode(w)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("Decode: %v, want an *Error", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "instance ins-00000002 EGRESS rule 1") || !strings.Contains(msg, tt.naming) {
				t.Errorf("Decode: %q, want it to name ins-00000002 EGRESS rule 1 and %s", msg, tt.naming)
			}
			if len(s.Instances) != 1 || s.Instances[0].ID != "ins-00000001" {
				t.Errorf("Decode kept %d instances, want only ins-00000001", len(s.Instances))
			}
		})
	}
	t.Run("instance listed twice", func(t *testing.T) {
		w := wire.HostState{Instances: []wire.HostInstance{{InstanceId: "ins-00000001"}, {InstanceId: "ins-00000001"}}}
		if _, err := Decode(w); err == nil || !strings.Contains(err.Error(), "ins-00000001") {
			t.Errorf("Decode: %v, want an error naming ins-00000001", err)
		}
	})
	t.Run("negative revision", func(t *testing.T) {
		if _, err := Decode(wire.HostState{Revision: -1}); err == nil {
			t.Error("Decode accepted revision -1")
		}
	})
}

// TestMerge: a partial answer replaces, adds and removes instances, and
// carries the address sets the merged instances use.
func TestMerge(t *testing.T) {
	rule := func(set string) []wire.HostRule {
		return []wire.HostRule{{Layer: wire.LayerSecurityGroup, Action: "ACCEPT", AddressSetId: set}}
	}
	base := wire.HostState{Revision: 4, HostId: "host-aaaaaaaa",
		Instances:    []wire.HostInstance{{InstanceId: "ins-aaaaaaaa"}, {InstanceId: "ins-bbbbbbbb", Ingress: rule("sg-xxxxxxxx")}, {InstanceId: "ins-dddddddd", Egress: rule("sg-zzzzzzzz")}},
		AddressSets:  []wire.HostAddressSet{{Id: "sg-xxxxxxxx", Addresses: []string{"10.0.0.1/32"}}, {Id: "sg-zzzzzzzz", Addresses: []string{"10.0.0.3/32"}}},
		Unresolvable: []wire.HostProblem{{InstanceId: "ins-cccccccc", Message: "broken"}},
	}
	partial := wire.HostState{Revision: 9, HostId: "host-aaaaaaaa", Expires: "2026-01-01T00:00:00Z",
		Instances:   []wire.HostInstance{{InstanceId: "ins-bbbbbbbb", Ingress: rule("sg-yyyyyyyy")}, {InstanceId: "ins-cccccccc"}},
		AddressSets: []wire.HostAddressSet{{Id: "sg-yyyyyyyy", Addresses: []string{"10.0.0.2/32"}}},
	}
	got, err := Merge(base, partial, []string{"ins-aaaaaaaa"})
	if err != nil {
		t.Fatal(err)
	}
	var ids, sets []string
	for _, in := range got.Instances {
		ids = append(ids, in.InstanceId)
	}
	for _, s := range got.AddressSets {
		sets = append(sets, s.Id)
	}
	if want := []string{"ins-dddddddd", "ins-bbbbbbbb", "ins-cccccccc"}; !slices.Equal(ids, want) {
		t.Errorf("merged instances %v, want %v", ids, want)
	}
	if want := []string{"sg-yyyyyyyy", "sg-zzzzzzzz"}; !slices.Equal(sets, want) {
		t.Errorf("merged address sets %v, want %v (the unused sg-xxxxxxxx dropped)", sets, want)
	}
	if got.Revision != 9 || got.Expires != partial.Expires || len(got.Unresolvable) != 0 {
		t.Errorf("merged revision %d, expires %q, unresolvable %v; want partial's, none unresolvable", got.Revision, got.Expires, got.Unresolvable)
	}

	for _, tt := range []struct {
		name    string
		partial wire.HostState
		removed []string
	}{
		{"another host", wire.HostState{HostId: "host-bbbbbbbb"}, nil},
		{"an instance both changed and removed", wire.HostState{HostId: "host-aaaaaaaa", Instances: []wire.HostInstance{{InstanceId: "ins-aaaaaaaa"}}}, []string{"ins-aaaaaaaa"}},
		{"an instance resolved and not", wire.HostState{HostId: "host-aaaaaaaa", Instances: []wire.HostInstance{{InstanceId: "ins-aaaaaaaa"}}, Unresolvable: []wire.HostProblem{{InstanceId: "ins-aaaaaaaa"}}}, nil},
		{"a set in neither state", wire.HostState{HostId: "host-aaaaaaaa", Instances: []wire.HostInstance{{InstanceId: "ins-aaaaaaaa", Ingress: rule("sg-wwwwwwww")}}}, nil},
	} {
		if _, err := Merge(base, tt.partial, tt.removed); err == nil {
			t.Errorf("Merge with %s: no error", tt.name)
		}
	}
}

// TestDecodeKeeping: decoding a merged state again keeps the instances a
// partial answer did not change (their decoded lists shared) and decodes
// the others, alike to decoding it whole.
func TestDecodeKeeping(t *testing.T) {
	for seed := range uint64(20) {
		u := universe{rng: rand.New(rand.NewPCG(seed, 11))}
		s := u.state(t)
		held, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		prev, err := Decode(held)
		if err != nil {
			t.Fatal(err)
		}
		// Instance 1 changes (other lists over the same sets), instance 2
		// goes.
		changed := s.Instances[1]
		changed.Ingress, changed.Egress = s.Instances[2].Ingress, s.Instances[0].Egress
		part, err := Encode(State{Revision: 43, HostID: s.HostID, Instances: []Instance{changed}})
		if err != nil {
			t.Fatal(err)
		}
		merged, err := Merge(held, part, []string{s.Instances[2].ID})
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeKeeping(merged, held, prev)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := Decode(merged)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Encode(got)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(whole)
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("seed %d: DecodeKeeping differs from Decode:\n%s\n%s", seed, ja, jb)
		}
		kept := func(in Instance, from *Instance) bool {
			return len(in.Ingress.Entries) > 0 && &in.Ingress.Entries[0] == &from.Ingress.Entries[0]
		}
		for _, in := range got.Instances {
			switch in.ID {
			case s.Instances[0].ID:
				if len(in.Ingress.Entries) > 0 && !kept(in, &prev.Instances[0]) {
					t.Errorf("seed %d: the unchanged instance was decoded again", seed)
				}
			case s.Instances[1].ID:
				if len(in.Ingress.Entries) > 0 && kept(in, &prev.Instances[1]) {
					t.Errorf("seed %d: the changed instance was kept", seed)
				}
			default:
				t.Errorf("seed %d: instance %s after the merge", seed, in.ID)
			}
		}
	}
}
