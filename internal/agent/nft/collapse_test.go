package nft

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// TestCollapseMatchesEval checks the run-collapsed form: the first run
// holding a packet has the action eval decides, and a packet no entry
// matches is in no run. Tiny limits force runs to be cut.
func TestCollapseMatchesEval(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	peers := []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "0.0.0.0/0", "192.0.2.0/24", "2001:db8::/32", "::/0", "2001:db8:1::/48"}
	ports := []string{"ALL", "22", "80,443", "1-1024", "1000-2000"}
	protos := []string{"TCP", "UDP", "ICMP", "GRE", "ALL"}
	addrs := []string{"10.1.2.3", "10.1.3.3", "10.2.0.1", "192.0.2.9", "8.8.8.8", "2001:db8::1", "2001:db8:1::1", "2001:db9::1"}
	for n := range 300 {
		var l rules.List
		l.Direction = policy.Ingress
		for i := range 1 + rng.IntN(10) {
			proto, peer := protos[rng.IntN(len(protos))], peers[rng.IntN(len(peers))]
			if proto == "ICMP" && netip.MustParsePrefix(peer).Addr().Is6() {
				proto = "ICMPv6"
			}
			port := "ALL"
			if proto == "TCP" || proto == "UDP" {
				port = ports[rng.IntN(len(ports))]
			}
			p, err := policy.ParsePolicy(fmt.Sprintf("%s %s %s %s", []string{"ACCEPT", "DROP"}[rng.IntN(2)], proto, port, peer))
			if err != nil {
				t.Fatal(err)
			}
			e, err := rules.PolicyEntry(policy.Ingress, "sg-00000001", i, &p, nil, rules.Addresses{})
			if err != nil {
				t.Fatal(err)
			}
			l.Entries = append(l.Entries, e)
		}
		runs, err := collapse(l.Entries, 1+n%3)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := eval.CompileList(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			for _, proto := range []uint8{1, 6, 17, 47, 58, 99} {
				for _, port := range []uint16{0, 22, 80, 443, 1500, 3000} {
					d := ev.Decide(eval.Query{Peer: netip.MustParseAddr(a), Proto: proto, Port: port})
					got := policy.Action(0)
					for _, r := range runs {
						if r.union.Lookup(netip.MustParseAddr(a), proto, port) == 0 {
							got = l.Entries[r.first].Action
							break
						}
					}
					want := d.Verdict
					if d.Entry < 0 {
						want = 0
					}
					if got != want {
						t.Fatalf("list %d, %s %d %d: runs give %v, eval %v", n, a, proto, port, got, d)
					}
				}
			}
		}
	}
}
