package agent_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/netnstest"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/wire"
)

// randomPolicies returns n random policies over the internet prefixes:
// ACCEPT and DROP interleaved, several protocols, ports and prefix lengths.
func randomPolicies(rng *rand.Rand, n int) []wire.SecurityGroupPolicyInput {
	out := make([]wire.SecurityGroupPolicyInput, 0, n)
	seen := map[string]bool{} // the API refuses duplicate policies
	for len(out) < n {
		action := []string{"ACCEPT", "DROP"}[rng.IntN(2)]
		v6 := rng.IntN(3) == 0
		var peer string
		if v6 {
			bits := []int{0, 64, 96, 112, 120, 128}[rng.IntN(6)]
			a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x0f, 14: byte(rng.IntN(4)), 15: byte(rng.IntN(256))})
			peer = netip.PrefixFrom(a, bits).Masked().String()
		} else {
			bits := []int{0, 24, 25, 26, 28, 30, 32}[rng.IntN(7)]
			peer = netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(rng.IntN(256))}), bits).Masked().String()
		}
		var proto, port string
		switch rng.IntN(6) {
		case 0, 1:
			proto = "TCP"
		case 2:
			proto = "UDP"
		case 3:
			proto = "ALL"
		case 4:
			proto = "ICMP"
			if v6 {
				proto = "ICMPv6"
			}
		case 5:
			proto = "GRE"
		}
		if proto == "TCP" || proto == "UDP" {
			switch rng.IntN(4) {
			case 0:
				port = "ALL"
			case 1:
				lo := 20 + rng.IntN(60)
				port = fmt.Sprintf("%d-%d", lo, lo+rng.IntN(40))
			case 2:
				port = fmt.Sprintf("%d,%d", 20+rng.IntN(80), 20+rng.IntN(80))
			default:
				port = fmt.Sprint(20 + rng.IntN(80))
			}
		} else if proto == "ALL" {
			port = "ALL"
		}
		if key := proto + " " + port + " " + peer; !seen[key] {
			seen[key] = true
			out = append(out, pol(proto, port, peer, action))
		}
	}
	return out
}

// TestKernelDifferential sends real packets through the kernel for random
// policy lists and checks, for each, that the kernel's verdict is
// SimulateTraffic's and that the counter that moved is that of the policy
// SimulateTraffic names.
func TestKernelDifferential(t *testing.T) {
	f := newFleet(t)
	ins1 := f.tp.Instance(1)
	inet := f.tp.Internet.NS
	rng := rand.New(rand.NewPCG(8, 10))
	groups := []string{
		f.group("first", randomPolicies(rng, 8), randomPolicies(rng, 8)),
		f.group("second", randomPolicies(rng, 8), randomPolicies(rng, 8)),
	}
	f.bind(1, groups...)
	f.startAgent()
	fromInternet, err := netnstest.NewInjector(inet)
	if err != nil {
		t.Fatal(err)
	}
	defer fromInternet.Close()
	fromInstance, err := netnstest.NewInjector(ins1.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer fromInstance.Close()
	host := f.hostClient()

	lists, perList := 24, 45
	if testing.Short() {
		lists = 4
	}
	cases := 0
	for l := range lists {
		if l > 0 {
			g := groups[rng.IntN(len(groups))]
			f.replace(g, randomPolicies(rng, 4+rng.IntN(12)), randomPolicies(rng, 4+rng.IntN(12)))
		}
		f.applied()
		// The counters' attribution, from the same compiler the agent uses.
		rs := compileHost(t, host, nft.Hypervisor)
		counters := readCounters(t, f, rs)
		for range perList {
			c := randomCase(rng, ins1)
			if c.pkt.Proto == 1 || c.pkt.Proto == 58 {
				// An echo flow seen before would pass as established.
				netnstest.Exec(f.tp.Host, "conntrack", "-F") //nolint:errcheck // nothing to flush is fine
			}
			inj := fromInternet
			if c.dir == "EGRESS" {
				inj = fromInstance
			}
			if err := inj.Send(c.pkt); err != nil {
				t.Fatalf("inject %+v: %v", c.pkt, err)
			}
			var moved []string
			deadline := time.Now().Add(time.Second)
			for len(moved) == 0 && time.Now().Before(deadline) {
				after := readCounters(t, f, rs)
				for name, n := range after {
					if n != counters[name] {
						moved = append(moved, name)
					}
				}
				counters = after
			}
			req := &wire.SimulateTrafficRequest{InstanceId: wire.NewString(f.ins[0]), Direction: wire.NewString(c.dir),
				Protocol: wire.NewString(c.proto), Address: wire.NewString(c.peer.String())}
			if c.proto == "TCP" || c.proto == "UDP" {
				req.Port = wire.NewInt(int64(c.pkt.DstPort))
			}
			sim := must[*wire.SimulateTrafficResponse](t, "SimulateTraffic")(f.admin.SimulateTraffic(context.Background(), req))
			cases++
			if len(moved) != 1 {
				t.Errorf("list %d, %s %s %s port %d: counters moved %v, want exactly one", l, c.dir, c.proto, c.peer, c.pkt.DstPort, moved)
				continue
			}
			a, ok := rs.Counters[moved[0]]
			if !ok {
				t.Errorf("counter %s moved, which the ruleset does not know", moved[0])
				continue
			}
			if a.Instance != f.ins[0] && !slices.Contains(a.Shared, f.ins[0]) || a.Direction.String() != c.dir || len(a.Origins) != 1 {
				t.Errorf("counter %s (%+v) moved for a %s packet of %s", moved[0], a, c.dir, f.ins[0])
				continue
			}
			o := a.Origins[0]
			got := o.Layer.String()
			want := sim.Layer
			if o.Layer == rules.LayerSecurityGroup {
				got += fmt.Sprintf(" %s policy %d", o.GroupID, o.PolicyIndex)
			}
			if sim.PolicyIndex != nil {
				want += fmt.Sprintf(" %s policy %d", sim.SecurityGroupId, *sim.PolicyIndex)
			}
			if got != want {
				t.Errorf("list %d, %s %s %s port %d: the kernel counted %s (%s), SimulateTraffic says %s by %s", l, c.dir, c.proto, c.peer, c.pkt.DstPort, moved[0], got, sim.Verdict, want)
			}
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("%d cases through the kernel", cases)
}

// kcase is one packet of the differential test.
type kcase struct {
	dir, proto string
	peer       netip.Addr
	pkt        netnstest.Packet
}

func randomCase(rng *rand.Rand, ins netnstest.Instance) kcase {
	var c kcase
	v6 := rng.IntN(3) == 0
	if v6 {
		c.peer = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x0f, 14: byte(rng.IntN(4)), 15: byte(rng.IntN(256))})
	} else {
		c.peer = netip.AddrFrom4([4]byte{198, 51, 100, byte(rng.IntN(256))})
	}
	local := ins.Addr4
	if v6 {
		local = ins.Addr6
	}
	switch rng.IntN(5) {
	case 0, 1:
		c.proto, c.pkt.Proto = "TCP", 6
	case 2:
		c.proto, c.pkt.Proto = "UDP", 17
	case 3:
		c.proto, c.pkt.Proto = "ICMP", 1
		if v6 {
			c.proto, c.pkt.Proto = "ICMPv6", 58
		}
	case 4:
		c.proto, c.pkt.Proto = "GRE", 47
	}
	c.pkt.SrcPort = uint16(10000 + rng.IntN(50000))
	c.pkt.DstPort = uint16(15 + rng.IntN(100))
	if rng.IntN(8) == 0 {
		c.pkt.DstPort = 25
	}
	c.dir = []string{"INGRESS", "EGRESS"}[rng.IntN(2)]
	if c.dir == "INGRESS" {
		c.pkt.Src, c.pkt.Dst = c.peer, local
	} else {
		c.pkt.Src, c.pkt.Dst = local, c.peer
	}
	c.pkt.Payload = []byte{byte(rng.IntN(256)), byte(rng.IntN(256))}
	return c
}

// readCounters returns every hit of the host's palisade table, by name,
// read as the agent reads them.
func readCounters(t *testing.T, f *fleet, rs *nft.Ruleset) map[string]uint64 {
	t.Helper()
	return hitsIn(t, f.tp.Host, rs)
}

// hitsIn returns every hit of the palisade table of namespace ns, which
// holds rs, by name, read as the agent reads them (per-element counters
// summed per entry, and the named counters).
func hitsIn(tb testing.TB, ns netnstest.NS, rs *nft.Ruleset) map[string]uint64 {
	tb.Helper()
	run := func(ctx context.Context, _ []byte, args ...string) ([]byte, error) {
		return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", string(ns), "nft"}, args...)...).Output()
	}
	hits, err := nft.ReadCounters(context.Background(), nil, run, rs)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]uint64{}
	for _, h := range hits {
		out[h.Counter] = h.Packets
	}
	return out
}

// compileHost compiles the desired state the server gives host client c,
// as the agent does.
func compileHost(tb testing.TB, c *client.Client, mode nft.Mode) *nft.Ruleset {
	tb.Helper()
	st, err := c.DescribeHostState(context.Background(), &wire.DescribeHostStateRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := hoststate.Decode(st.HostState)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := nft.Config{Mode: mode}
	for _, in := range dec.Instances {
		cfg.Instances = append(cfg.Instances, nft.Instance{ID: in.ID, Interface: in.Interface, Ingress: in.Ingress, Egress: in.Egress})
	}
	rs, err := nft.Compile(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}
