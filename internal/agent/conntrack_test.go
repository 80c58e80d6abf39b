package agent

import (
	"net/netip"
	"testing"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

func TestParseConntrack(t *testing.T) {
	out := []byte(`ipv4     2 icmp     1 29 src=10.0.1.2 dst=198.51.100.7 type=8 code=0 id=26437 src=198.51.100.7 dst=10.0.1.2 type=0 code=0 id=26437 mark=0 use=1
ipv4     2 tcp      6 119 ESTABLISHED src=198.51.100.7 dst=10.0.1.2 sport=57406 dport=22 src=10.0.1.2 dst=198.51.100.7 sport=22 dport=57406 [ASSURED] mark=0 use=1
ipv6     10 udp      17 29 src=2001:db8::7 dst=2001:db8:1::2 sport=5353 dport=53 [UNREPLIED] src=2001:db8:1::2 dst=2001:db8::7 sport=53 dport=5353 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.
`)
	flows, err := parseConntrack(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 3 {
		t.Fatalf("%d flows, want 3", len(flows))
	}
	if f := flows[1]; f.Proto != 6 || f.Src != netip.MustParseAddr("198.51.100.7") || f.Dst != netip.MustParseAddr("10.0.1.2") || f.SrcPort != 57406 || f.DstPort != 22 {
		t.Errorf("tcp flow = %+v", f)
	}
	if f := flows[0]; f.Proto != 1 || f.hasPorts {
		t.Errorf("icmp flow = %+v", f)
	}
	if f := flows[2]; f.family != "ipv6" || f.DstPort != 53 {
		t.Errorf("udp6 flow = %+v", f)
	}
	if _, err := parseConntrack([]byte("ipv4 2 tcp 6 1 src=10.0.0.300 dst=10.0.0.1\n")); err == nil {
		t.Error("a bad address parsed")
	}
}

// TestFlushable cuts exactly the flows of the instances asked whose legs
// the lists no longer admit.
func TestFlushable(t *testing.T) {
	entry := func(d policy.Direction, i int, s string) rules.Entry {
		p, err := policy.ParsePolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		e, err := rules.PolicyEntry(d, "sg-00000001", i, &p, nil, rules.Addresses{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	a := hoststate.Instance{ID: "ins-0000000a", PrivateIPs: []string{"10.0.1.2"},
		Ingress: rules.List{Direction: policy.Ingress, Entries: []rules.Entry{entry(policy.Ingress, 0, "ACCEPT TCP 80 0.0.0.0/0")}},
		Egress:  rules.List{Direction: policy.Egress, Entries: []rules.Entry{entry(policy.Egress, 0, "ACCEPT ALL ALL 0.0.0.0/0")}}}
	b := hoststate.Instance{ID: "ins-0000000b", PrivateIPs: []string{"10.0.2.2"},
		Ingress: rules.List{Direction: policy.Ingress},
		Egress:  rules.List{Direction: policy.Egress}}
	ip := netip.MustParseAddr
	flows := []Flow{
		{Proto: 6, Src: ip("198.51.100.7"), Dst: ip("10.0.1.2"), SrcPort: 40000, DstPort: 22, hasPorts: true}, // a's ingress: 22 no longer admitted
		{Proto: 6, Src: ip("198.51.100.7"), Dst: ip("10.0.1.2"), SrcPort: 40001, DstPort: 80, hasPorts: true}, // admitted
		{Proto: 1, Src: ip("10.0.1.2"), Dst: ip("198.51.100.7")},                                              // a's egress: admitted
		{Proto: 6, Src: ip("198.51.100.7"), Dst: ip("10.0.2.2"), SrcPort: 40002, DstPort: 22, hasPorts: true}, // b: not asked
	}
	cut, err := flushable(flows, []hoststate.Instance{a, b}, map[string]bool{a.ID: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) != 1 || cut[0].DstPort != 22 || cut[0].Dst != ip("10.0.1.2") {
		t.Errorf("cut %+v, want only the flow to 10.0.1.2:22", cut)
	}
	cut, err = flushable(flows, []hoststate.Instance{a, b}, map[string]bool{a.ID: true, b.ID: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) != 2 {
		t.Errorf("with both asked, cut %+v, want the two flows to port 22", cut)
	}
}
