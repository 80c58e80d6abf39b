package nft

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// The rules a list's chains hold, as Compile writes them.
var (
	dispatchRule = regexp.MustCompile(`^meta nfproto (ipv4|ipv6) meta l4proto (!= 6 meta l4proto != 17|\d+) goto (\S+)$`)
	lookupRule   = regexp.MustCompile(`^ip6? [sd]addr \. meta l4proto( \. th dport)? (vmap @(\S+)|@(\S+) goto (\S+))$`)
	liftedRule   = regexp.MustCompile(`^(?:meta l4proto (\d+) )?(?:th dport (\d+)(?:-(\d+))? )?ip6? [sd]addr @(\S+) counter name "([^"]+)" (return|drop)$`)
	counterRule  = regexp.MustCompile(`^counter name "([^"]+)" (return|drop)$`)
)

// decide runs a packet of instance id's list of direction dir — peer
// address, protocol and destination port — through the compiled chains,
// as the kernel would, and returns the hit that counts it and its verdict.
func (rs *Ruleset) decide(id string, dir policy.Direction, peer netip.Addr, proto uint8, port uint16) (hit, verdict string, err error) {
	chains := map[string]*chain{}
	for i := range rs.chains {
		chains[rs.chains[i].name] = &rs.chains[i]
	}
	sets := map[string]*elemSet{}
	for i := range rs.sets {
		sets[rs.sets[i].name] = &rs.sets[i]
	}
	for i := range rs.maps {
		sets[rs.maps[i].name] = &rs.maps[i]
	}
	name := ""
	for _, li := range rs.Lists {
		if li.Instance == id && li.Direction == dir {
			name = li.Chain
		}
	}
	tcpudp := proto == 6 || proto == 17
	for hops := 0; hops < 10; hops++ {
		c := chains[name]
		if c == nil {
			return "", "", fmt.Errorf("no chain %q", name)
		}
		next := ""
	rules:
		for _, r := range c.rules {
			switch m := []*regexp.Regexp{dispatchRule, lookupRule, liftedRule, counterRule}; {
			case r == "ct state invalid drop":
			case m[0].MatchString(r):
				sm := m[0].FindStringSubmatch(r)
				if (sm[1] == "ipv6") != peer.Is6() {
					continue
				}
				if sm[2] == "!= 6 meta l4proto != 17" && !tcpudp || sm[2] == strconv.Itoa(int(proto)) {
					next = sm[3]
					break rules
				}
			case m[1].MatchString(r):
				sm := m[1].FindStringSubmatch(r)
				set := sets[sm[3]+sm[4]]
				if set == nil {
					return "", "", fmt.Errorf("rule %q: no such set or map", r)
				}
				e, err := lookup(set, peer, proto, port, sm[1] != "")
				if err != nil {
					return "", "", err
				}
				if e == nil {
					continue
				}
				if sm[3] != "" {
					return e.owner, e.value, nil
				}
				next = sm[5]
				break rules
			case m[2].MatchString(r):
				sm := m[2].FindStringSubmatch(r)
				if sm[1] != "" && sm[1] != strconv.Itoa(int(proto)) {
					continue
				}
				if sm[2] != "" {
					lo, _ := strconv.Atoi(sm[2])
					hi := lo
					if sm[3] != "" {
						hi, _ = strconv.Atoi(sm[3])
					}
					if int(port) < lo || int(port) > hi {
						continue
					}
				}
				set := sets[sm[4]]
				if set == nil {
					return "", "", fmt.Errorf("rule %q: no such set", r)
				}
				e, err := lookup(set, peer, 0, 0, false)
				if err != nil {
					return "", "", err
				}
				if e != nil {
					return sm[5], sm[6], nil
				}
			case m[3].MatchString(r):
				sm := m[3].FindStringSubmatch(r)
				return sm[1], sm[2], nil
			default:
				return "", "", fmt.Errorf("chain %s: unknown rule %q", c.name, r)
			}
		}
		if next == "" {
			return "", "", fmt.Errorf("chain %s ends without a verdict", c.name)
		}
		name = next
	}
	return "", "", fmt.Errorf("too many hops")
}

// lookup returns the element of set that holds the packet, nil if none;
// a set of addresses alone is looked up by the address.
func lookup(set *elemSet, peer netip.Addr, proto uint8, port uint16, ports bool) (*elem, error) {
	var found *elem
	for i := range set.elems {
		e := &set.elems[i]
		in := true
		for j, part := range e.key {
			lo, hi, err := spanOf(part)
			if err != nil {
				return nil, err
			}
			switch j {
			case 0:
				a, b := netip.MustParseAddr(lo), netip.MustParseAddr(hi)
				in = in && a.BitLen() == peer.BitLen() && a.Compare(peer) <= 0 && peer.Compare(b) <= 0
			case 1:
				l, _ := strconv.Atoi(lo)
				h, _ := strconv.Atoi(hi)
				in = in && l <= int(proto) && int(proto) <= h
			case 2:
				l, _ := strconv.Atoi(lo)
				h, _ := strconv.Atoi(hi)
				in = in && l <= int(port) && int(port) <= h
			}
		}
		if len(e.key) == 3 != ports && len(e.key) > 1 {
			return nil, fmt.Errorf("set %s: element %v of the wrong shape", set.name, e.key)
		}
		if in {
			if found != nil {
				return nil, fmt.Errorf("set %s: elements %v and %v overlap", set.name, found.key, e.key)
			}
			found = e
		}
	}
	return found, nil
}

func spanOf(part string) (lo, hi string, err error) {
	k, err := canonKey([]string{part})
	if err != nil {
		return "", "", err
	}
	lo, hi, _ = strings.Cut(k, "-")
	if strings.Count(k, "-") != 1 {
		return "", "", fmt.Errorf("part %q", part)
	}
	return lo, hi, nil
}

// TestCompiledMatchesEval compiles random hosts — instances bound to
// random orders of groups of random policies, literal and referring to
// groups of random members, some lists shared, some lifted, some with a
// platform segment, some collapsed by a tiny region limit — and runs
// packets through the compiled chains: the hit that counts a packet is
// the entry eval decides by, with its verdict, or the list's final DROP.
func TestCompiledMatchesEval(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	peers := []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "0.0.0.0/0", "192.0.2.0/24", "2001:db8::/32", "::/0", "sg-0000ref1", "sg-0000ref2", "sg-0000ref1"}
	ports := []string{"ALL", "22", "80,443", "1-1024", "1000-2000", "22,3000-3010"}
	protos := []string{"TCP", "TCP", "UDP", "ICMP", "GRE", "ALL"}
	addrs := []string{"10.1.2.3", "10.1.3.3", "10.2.0.1", "192.0.2.9", "8.8.8.8", "2001:db8::1", "2001:db8:1::1", "2001:db9::1"}
	var kept Compiler
	for n := range 120 {
		members := map[string]*netipx.IPSet{}
		for _, ref := range []string{"sg-0000ref1", "sg-0000ref2"} {
			var b netipx.IPSetBuilder
			for _, a := range addrs {
				if rng.IntN(3) == 0 {
					b.Add(netip.MustParseAddr(a))
				}
			}
			members[ref], _ = b.IPSet()
		}
		groups := make([][]string, 4)
		for g := range groups {
			for range 1 + rng.IntN(6) {
				proto, peer := protos[rng.IntN(len(protos))], peers[rng.IntN(len(peers))]
				if proto == "ICMP" && strings.Contains(peer, ":") {
					proto = "ICMPv6"
				}
				port := "ALL"
				if proto == "TCP" || proto == "UDP" {
					port = ports[rng.IntN(len(ports))]
				}
				groups[g] = append(groups[g], fmt.Sprintf("%s %s %s %s", []string{"ACCEPT", "DROP"}[rng.IntN(2)], proto, port, peer))
			}
		}
		platform, err := rules.Platform(policy.Egress, n%2 == 0, []netip.Prefix{netip.MustParsePrefix("10.1.2.0/28")})
		if err != nil {
			t.Fatal(err)
		}
		list := func(dir policy.Direction, order []int) rules.List {
			l := rules.List{Direction: dir}
			if dir == policy.Egress && n%3 != 0 {
				l.Entries = append(l.Entries, platform...)
			}
			for _, g := range order {
				gid := fmt.Sprintf("sg-0000000%d", g)
				for i, s := range groups[g] {
					p, err := policy.ParsePolicy(s)
					if err != nil {
						t.Fatal(err)
					}
					var a rules.Addresses
					if p.Peer.IsReference() {
						var b netipx.IPSetBuilder
						b.AddSet(members[p.Peer.ID])
						if a, err = rules.Split(rules.PeerSource(p.Peer), &b); err != nil {
							t.Fatal(err)
						}
					}
					e, err := rules.PolicyEntry(dir, gid, i, &p, nil, a)
					if err != nil {
						t.Fatal(err)
					}
					l.Entries = append(l.Entries, e)
				}
			}
			return l
		}
		cfg := Config{Mode: Hypervisor}
		if n%4 == 3 {
			cfg.RegionLimit = 1 + rng.IntN(3)
		}
		for i := range 4 {
			order := rng.Perm(4)[:1+rng.IntN(3)]
			if i == 3 {
				order = []int{0, 1} // the same as some, now and then
			}
			cfg.Instances = append(cfg.Instances, Instance{ID: fmt.Sprintf("ins-0000000%d", i), Interface: fmt.Sprintf("tap%d", i),
				Ingress: list(policy.Ingress, order), Egress: list(policy.Egress, order)})
		}
		rs, err := Compile(cfg)
		if err != nil {
			t.Fatalf("host %d: %v", n, err)
		}
		// A compiler that compiled the hosts before (its caches by content
		// and, the second time, by identity) makes the same ruleset.
		for range 2 {
			again, err := kept.Compile(cfg)
			if err != nil {
				t.Fatalf("host %d, compiled again: %v", n, err)
			}
			if got, want := again.FullScript().String(), rs.FullScript().String(); got != want {
				t.Fatalf("host %d: compiled after the others\n%s\nwant, compiled alone:\n%s", n, got, want)
			}
			if !reflect.DeepEqual(again.Counters, rs.Counters) || !reflect.DeepEqual(again.Lists, rs.Lists) {
				t.Fatalf("host %d: counters or lists differ when compiled after the others", n)
			}
		}
		for _, in := range cfg.Instances {
			for _, l := range []rules.List{in.Ingress, in.Egress} {
				ev, err := eval.CompileList(l)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range addrs {
					for _, proto := range []uint8{1, 6, 17, 47, 58, 99} {
						for _, port := range []uint16{0, 22, 25, 80, 443, 1500, 3005} {
							if proto != 6 && proto != 17 && port != 0 {
								continue
							}
							peer := netip.MustParseAddr(a)
							d := ev.Decide(eval.Query{Peer: peer, Proto: proto, Port: port})
							hit, verdict, err := rs.decide(in.ID, l.Direction, peer, proto, port)
							if err != nil {
								t.Fatalf("host %d, %s %v %s %d %d: %v", n, in.ID, l.Direction, a, proto, port, err)
							}
							at, ok := rs.Counters[hit]
							if !ok {
								t.Fatalf("host %d: hit %s is not the ruleset's", n, hit)
							}
							wantVerdict := map[policy.Action]string{policy.Accept: "return", policy.Drop: "drop"}[d.Verdict]
							var good bool
							if d.Entry < 0 {
								good = len(at.Origins) == 1 && at.Origins[0].Layer == rules.LayerDefault && verdict == "drop"
							} else {
								good = slices.Contains(at.Origins, l.Entries[d.Entry].Origin) && (at.Run || len(at.Origins) == 1) && verdict == wantVerdict
							}
							if at.Instance != in.ID && !slices.Contains(at.Shared, in.ID) {
								good = false
							}
							if !good {
								t.Fatalf("host %d, %s %v %s proto %d port %d: compiled %s %s (%+v), eval %+v", n, in.ID, l.Direction, a, proto, port,
									hit, verdict, at, d)
							}
						}
					}
				}
			}
		}
	}
}
