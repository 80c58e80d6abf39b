package nft_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/netnstest"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// netns creates a throwaway network namespace, removed when the test ends.
// Without root, ip or nft it skips, unless PALISADE_KERNEL_TESTS=1, when it
// fails; with -short it skips unless PALISADE_KERNEL_TESTS=1.
func netns(t *testing.T) string { return netnsB(t) }

func netnsB(t testing.TB) string {
	t.Helper()
	required := os.Getenv("PALISADE_KERNEL_TESTS") == "1"
	missing := func(why string) {
		if required {
			t.Fatalf("PALISADE_KERNEL_TESTS=1 but %s", why)
		}
		t.Skipf("kernel test: %s (set PALISADE_KERNEL_TESTS=1 to require it)", why)
	}
	if testing.Short() && !required {
		t.Skip("kernel test: skipped with -short (set PALISADE_KERNEL_TESTS=1 to run it)")
	}
	if os.Geteuid() != 0 {
		missing("not running as root")
	}
	for _, bin := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(bin + " is not installed")
		}
	}
	// No packet-rate flood of another test process while packets are timed.
	netnstest.Quiet(t)
	name := fmt.Sprintf("palisade-nft-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return name
}

// nftIn runs nft with args inside namespace ns.
func nftIn(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "nft"}, args...)...).CombinedOutput()
	return string(out), err
}

// load writes script s to a file and loads it with nft -f inside ns,
// returning how long nft took.
func load(t *testing.T, ns string, s *nft.Script) time.Duration {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, err := nftIn(ns, "-f", path); err != nil {
		t.Fatalf("nft -f: %v: %.2000s", err, out)
	}
	return time.Since(start)
}

// interleaved is an ingress list of n policies alternating ACCEPT and
// DROP, over nested and crossing prefixes, port ranges and protocols.
func interleaved(tb testing.TB, n int) rules.List {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	protos := []string{"TCP", "TCP", "TCP", "UDP", "ICMP", "GRE", "ALL"}
	var ps []string
	for i := range n {
		action := []string{"ACCEPT", "DROP"}[i%2]
		proto := protos[rng.IntN(len(protos))]
		ports := "ALL"
		if proto == "TCP" || proto == "UDP" {
			lo := 1 + rng.IntN(4000)
			ports = fmt.Sprintf("%d-%d", lo, lo+rng.IntN(50))
			if rng.IntN(3) == 0 {
				ports = fmt.Sprintf("%d,%d", lo, 8000+rng.IntN(100))
			}
		}
		var peer string
		switch rng.IntN(4) {
		case 0:
			peer = fmt.Sprintf("10.%d.0.0/16", rng.IntN(64))
		case 1:
			peer = fmt.Sprintf("2001:db8:%x::/48", rng.IntN(4096))
			if proto == "ICMP" {
				proto = "ICMPv6"
			}
		default:
			peer = fmt.Sprintf("10.%d.%d.0/24", rng.IntN(64), rng.IntN(256))
		}
		ps = append(ps, fmt.Sprintf("%s %s %s %s", action, proto, ports, peer))
	}
	return list(tb, policy.Ingress, nil, nil, group{"sg-0000big1", ps})
}

// TestKernelLoad loads into a real kernel the table of a 10,000-policy
// list with interleaved actions, checks with nft get element that the
// kernel's lookup of sample packets lands in the chain of the entry eval
// decides by, applies an incremental change, and loads a run-collapsed
// table.
func TestKernelLoad(t *testing.T) {
	ns := netns(t)
	l := interleaved(t, 10_000)
	cfg := nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{{ID: "ins-0000big1", Interface: "tap-big1", Ingress: l, Egress: rules.List{Direction: policy.Egress}}}}
	rs := compile(t, cfg)
	if rs.Lists[0].Form != nft.FormRegions {
		t.Fatalf("10,000 policies compiled to %v, want regions", rs.Lists[0].Form)
	}
	d := load(t, ns, rs.FullScript())
	t.Logf("10,000 interleaved policies: %d regions, %d operations, nft -f %v", rs.Lists[0].Elements, rs.FullScript().Operations(), d)

	// The kernel's listing of every element — prefixes, ranges of
	// addresses, protocols and ports, both families — reads back.
	start := time.Now()
	hits, err := nft.ReadCounters(context.Background(), nil, runner(ns), rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(rs.Counters) {
		t.Errorf("%d hits for %d counters", len(hits), len(rs.Counters))
	}
	t.Logf("ReadCounters: %d hits in %v", len(hits), time.Since(start))

	// Sample lookups in the kernel's maps.
	ev, err := eval.CompileList(l)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 40 {
		e := &l.Entries[rng.IntN(len(l.Entries))]
		var a netip.Addr
		if e.V4 != nil {
			a = e.V4.Ranges()[0].From()
		} else {
			a = e.V6.Ranges()[0].From()
		}
		s := e.Services[0]
		proto, port := uint8(6), uint16(0)
		if n, ok := s.Protocol.Number(); ok {
			proto = n
		}
		if s.Protocol.HasPorts() {
			port = s.Ports.Ranges()[0].Lo
		}
		dec := ev.Decide(eval.Query{Peer: a, Proto: proto, Port: port})
		m := "sg-0000big1.in.v4"
		if a.Is6() {
			m = "sg-0000big1.in.v6"
		}
		k := fmt.Sprintf("%v . %d", a, proto)
		if proto == 6 || proto == 17 {
			m += "p"
			k += fmt.Sprintf(" . %d", port)
		}
		out, err := nftIn(ns, "--numeric", "get", "element", "inet", nft.Table, m, "{ "+k+" }")
		want := "(none)"
		if dec.Entry >= 0 {
			want = fmt.Sprintf("%s.in.%d %s", dec.GroupID, dec.PolicyIndex, map[policy.Action]string{policy.Accept: "return", policy.Drop: "drop"}[dec.Verdict])
		}
		got := "(none)"
		if err == nil {
			owner, verdict, err := rs.ElementOwner(m, []byte(out))
			if err != nil {
				t.Fatalf("kernel lookup of %s in %s: %v", k, m, err)
			}
			got = owner + " " + verdict
		}
		if got != want {
			t.Errorf("kernel lookup of %s in %s: %s (%v), want %s", k, m, got, strings.TrimSpace(out), want)
		}
	}

	// An incremental change of the elements, in one transaction.
	small := func(peer string) nft.Config {
		m := members{"sg-0000web1": {peer}}
		return nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-00000db1", "tap-db1", m, db, web)}}
	}
	before, after := compile(t, small("10.1.0.5")), compile(t, small("10.1.0.200"))
	load(t, ns, before.FullScript())
	inc, ok := after.IncrementalScript(before)
	if !ok {
		t.Fatal("membership change is not incremental")
	}
	load(t, ns, inc)
	// The reference's members are a set of its own, which the lifted
	// entry's rule looks the peer up in: the change is in that set.
	if out, err := nftIn(ns, "get", "element", "inet", nft.Table, "sg-0000web1.addr4", "{ 10.1.0.200 }"); err != nil {
		t.Errorf("after the incremental apply, 10.1.0.200 is not in the set of sg-0000web1: %v %s", err, out)
	}
	if out, err := nftIn(ns, "get", "element", "inet", nft.Table, "sg-0000web1.addr4", "{ 10.1.0.5 }"); err == nil {
		t.Errorf("after the incremental apply, 10.1.0.5 is still in the set of sg-0000web1: %s", out)
	}
	if out, err := nftIn(ns, "list", "chain", "inet", nft.Table, "ins-00000db1.in.v4p"); err != nil || !strings.Contains(out, "@sg-0000web1.addr4") {
		t.Errorf("chain ins-00000db1.in.v4p does not look sg-0000web1 up: %v %s", err, out)
	}

	// The run-collapsed form of 1,000 interleaved policies.
	cfg.Instances[0].Ingress = interleaved(t, 1000)
	cfg.RegionLimit = 10
	rs = compile(t, cfg)
	if rs.Lists[0].Form != nft.FormCollapsed {
		t.Fatalf("limit 10: form %v, want collapsed", rs.Lists[0].Form)
	}
	d = load(t, ns, rs.FullScript())
	t.Logf("1,000 interleaved policies collapsed: %d elements, nft -f %v", rs.Lists[0].Elements, d)
}

// BenchmarkKernelFleet times a full apply, compilation and nft -f into a
// real kernel, of a hypervisor of 100 instances with 5 groups of 100
// policies each.
func BenchmarkKernelFleet(b *testing.B) {
	ns := netnsB(b)
	cfg := fleet(b)
	path := filepath.Join(b.TempDir(), "fleet.nft")
	var compiled, loaded time.Duration
	var rs *nft.Ruleset
	var ops, elements int
	for b.Loop() {
		start := time.Now()
		var err error
		if rs, err = nft.Compile(cfg); err != nil {
			b.Fatal(err)
		}
		script := rs.FullScript()
		ops, elements = script.Operations(), script.Elements()
		if err := os.WriteFile(path, []byte(script.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if out, err := nftIn(ns, "-f", path); err != nil {
			b.Fatalf("nft -f: %v: %.2000s", err, out)
		}
		compiled += mid.Sub(start)
		loaded += time.Since(mid)
	}
	b.StopTimer()
	start := time.Now()
	hits, err := nft.ReadCounters(context.Background(), nil, runner(ns), rs)
	if err != nil {
		b.Fatal(err)
	}
	read := time.Since(start)
	b.ReportMetric(float64(elements), "elements")
	b.ReportMetric(float64(ops), "operations")
	b.ReportMetric(float64(len(hits)), "hits")
	b.ReportMetric(float64(compiled.Milliseconds())/float64(b.N), "compile-ms/op")
	b.ReportMetric(float64(loaded.Milliseconds())/float64(b.N), "nft-ms/op")
	b.ReportMetric(float64(read.Milliseconds()), "read-counters-ms")
}

// BenchmarkKernelInterleaved times a full apply, compilation and nft -f
// into a real kernel, of one instance whose ingress is 10,000 policies of
// interleaved actions (TestKernelLoad's list).
func BenchmarkKernelInterleaved(b *testing.B) {
	ns := netnsB(b)
	cfg := nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{{ID: "ins-0000big1", Interface: "tap-big1",
		Ingress: interleaved(b, 10_000), Egress: rules.List{Direction: policy.Egress}}}}
	path := filepath.Join(b.TempDir(), "big.nft")
	var compiled, loaded time.Duration
	var elements int
	for b.Loop() {
		start := time.Now()
		rs, err := nft.Compile(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(rs.FullScript().String()), 0o600); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if out, err := nftIn(ns, "-f", path); err != nil {
			b.Fatalf("nft -f: %v: %.2000s", err, out)
		}
		compiled += mid.Sub(start)
		loaded += time.Since(mid)
		elements = rs.Lists[0].Elements
	}
	b.ReportMetric(float64(elements), "elements")
	b.ReportMetric(float64(compiled.Milliseconds())/float64(b.N), "compile-ms/op")
	b.ReportMetric(float64(loaded.Milliseconds())/float64(b.N), "nft-ms/op")
}

// BenchmarkKernelFleetMembership times the incremental apply of a
// membership change on the fleet, loaded in a real kernel: one instance
// joins, then leaves, a group that 5 groups of every instance refer to.
// It reports the operations of each transaction and nft's time.
func BenchmarkKernelFleetMembership(b *testing.B) {
	ns := netnsB(b)
	states := [2]*nft.Ruleset{}
	for i := range states {
		var err error
		if states[i], err = nft.Compile(fleetMembers(b, i == 1)); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "fleet.nft")
	nftFile := func(s *nft.Script) time.Duration {
		if err := os.WriteFile(path, []byte(s.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if out, err := nftIn(ns, "-f", path); err != nil {
			b.Fatalf("nft -f: %v: %.2000s", err, out)
		}
		return time.Since(start)
	}
	nftFile(states[0].FullScript())
	var compiled, loaded time.Duration
	var ops, elements, restarted int
	cur := 0
	for b.Loop() {
		next := 1 - cur
		start := time.Now()
		script, ok := states[next].IncrementalScript(states[cur])
		if !ok {
			b.Fatal("membership change is not incremental")
		}
		_ = script.String()
		ops, elements = script.Operations(), script.Elements()
		restarted = len(states[next].Restarted(states[cur], true))
		compiled += time.Since(start)
		loaded += nftFile(script)
		cur = next
	}
	b.ReportMetric(float64(ops), "operations")
	b.ReportMetric(float64(elements), "elements")
	b.ReportMetric(float64(restarted), "restarted-hits")
	b.ReportMetric(float64(compiled.Microseconds())/1000/float64(b.N), "diff-ms/op")
	b.ReportMetric(float64(loaded.Microseconds())/1000/float64(b.N), "nft-ms/op")
}

// runner runs nft in namespace ns.
func runner(ns string) nft.Runner {
	return func(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, "nft"}, args...)...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("nft %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// setup runs each command of cmds, a namespace and its command, inside
// that namespace.
func setup(t *testing.T, cmds ...[]string) {
	t.Helper()
	for _, c := range cmds {
		run(t, "ip", append([]string{"netns", "exec"}, c...)...)
	}
}

// listen runs nc listening on each port inside ns until the test ends.
func listen(t *testing.T, ns string, ports ...string) {
	t.Helper()
	for _, port := range ports {
		l := exec.Command("ip", "netns", "exec", ns, "nc", "-l", "-k", port)
		if err := l.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Process.Kill(); _ = l.Wait() })
	}
	// Wait until each listens: on a loaded machine nc takes a while, and
	// a probe sent before would be refused.
	for _, port := range ports {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			out, err := exec.Command("ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :"+port).Output()
			if err == nil && len(strings.TrimSpace(string(out))) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nothing listens on port %s in %s: %v", port, ns, err)
			}
		}
	}
}

// from runs a command inside ns, reporting whether it succeeded.
func from(ns string, args ...string) error {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).Run()
}

// readHits reads the hits of the table of ns, by name.
func readHits(t *testing.T, ns string, rs *nft.Ruleset) map[string]uint64 {
	t.Helper()
	hits, err := nft.ReadCounters(context.Background(), nil, runner(ns), rs)
	if err != nil {
		t.Fatal(err)
	}
	packets := map[string]uint64{}
	for _, h := range hits {
		packets[h.Counter] = h.Packets
	}
	return packets
}

// TestKernelTraffic sends real packets to a host-mode table: a namespace
// "client" talks over a veth pair to a namespace "host" whose table admits
// TCP 8080 from the members of a group, the client among them, and drops
// TCP 8081; ping meets the final DROP. The hits read back, sums of the
// maps' element counters and the lifted entry's named counter, are
// attributed to the entries that decided. Then a member leaves the group:
// the incremental apply changes the group's set, and every hit goes on
// counting.
func TestKernelTraffic(t *testing.T) {
	client, host := netns(t), netns(t)
	ifc, ifh := fmt.Sprintf("pc%d", os.Getpid()%100000), fmt.Sprintf("ph%d", os.Getpid()%100000)
	run(t, "ip", "link", "add", ifc, "netns", client, "type", "veth", "peer", "name", ifh, "netns", host)
	setup(t,
		[]string{client, "ip", "addr", "add", "192.0.2.1/24", "dev", ifc}, []string{client, "ip", "link", "set", ifc, "up"}, []string{client, "ip", "link", "set", "lo", "up"},
		[]string{host, "ip", "addr", "add", "192.0.2.2/24", "dev", ifh}, []string{host, "ip", "link", "set", ifh, "up"}, []string{host, "ip", "link", "set", "lo", "up"})
	g := group{"sg-0000host", []string{"ACCEPT TCP 8080 sg-00000cli", "DROP TCP 8081 0.0.0.0/0"}}
	cfg := func(m members) nft.Config {
		return nft.Config{Mode: nft.Host, Instances: []nft.Instance{{
			ID:      "ins-00host01",
			Ingress: list(t, policy.Ingress, nil, m, g),
			Egress:  list(t, policy.Egress, nil, m),
		}}}
	}
	rs := compile(t, cfg(members{"sg-00000cli": {"192.0.2.1", "192.0.2.50"}}))
	load(t, host, rs.FullScript())
	listen(t, host, "8080", "8081")
	if err := from(client, "nc", "-z", "-w", "3", "192.0.2.2", "8080"); err != nil {
		t.Errorf("TCP 8080 from the client: %v, want it admitted", err)
	}
	if err := from(client, "nc", "-z", "-w", "1", "192.0.2.2", "8081"); err == nil {
		t.Error("TCP 8081 connected, want it dropped")
	}
	if err := from(client, "ping", "-c", "1", "-W", "1", "192.0.2.2"); err == nil {
		t.Error("ping answered, want it dropped by the final DROP")
	}
	const accept, drop, def = "sg-0000host.in.0", "sg-0000host.in.1", "ins-00host01.in.default"
	before := readHits(t, host, rs)
	for _, name := range []string{accept, drop, def} {
		if before[name] == 0 {
			t.Errorf("hit %s counted no packet; hits: %v", name, before)
		}
	}

	// 192.0.2.50 leaves the group: the accepting entry loses an element.
	rs2 := compile(t, cfg(members{"sg-00000cli": {"192.0.2.1"}}))
	inc, ok := rs2.IncrementalScript(rs)
	if !ok {
		t.Fatal("membership change is not incremental")
	}
	load(t, host, inc)
	// The accepting entry is lifted (its peer is a reference): the change
	// is in the reference's set, and no hit restarts.
	if got := rs2.Restarted(rs, true); len(got) != 0 {
		t.Errorf("restarted %v, want none", got)
	}
	after := readHits(t, host, rs2)
	for _, name := range []string{accept, drop, def} {
		if after[name] < before[name] {
			t.Errorf("hit %s went down from %d to %d across an incremental apply that did not touch it", name, before[name], after[name])
		}
	}
	if err := from(client, "nc", "-z", "-w", "3", "192.0.2.2", "8080"); err != nil {
		t.Errorf("TCP 8080 from the client after the change: %v, want it admitted", err)
	}
	if n := readHits(t, host, rs2)[accept]; n == 0 {
		t.Errorf("hit %s counted nothing after the change", accept)
	}
}

// TestKernelForward sends real packets between two instances of one
// hypervisor, namespaces a and b routed through namespace hv: a's egress
// admits TCP 8080 and 8081 — its elements' verdict is return, which ends
// a's list and not the packet's path — and b's ingress admits 8080 from a
// and drops 8081. So 8080 passes and 8081, admitted by a, is dropped by
// b.
func TestKernelForward(t *testing.T) {
	hv, a, b := netns(t), netns(t), netns(t)
	tag := os.Getpid() % 100000
	ta, tb := fmt.Sprintf("fa%d", tag), fmt.Sprintf("fb%d", tag)
	run(t, "ip", "link", "add", "eth0", "netns", a, "type", "veth", "peer", "name", ta, "netns", hv)
	run(t, "ip", "link", "add", "eth0", "netns", b, "type", "veth", "peer", "name", tb, "netns", hv)
	setup(t,
		[]string{hv, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
		[]string{hv, "ip", "addr", "add", "10.200.1.1/24", "dev", ta}, []string{hv, "ip", "link", "set", ta, "up"},
		[]string{hv, "ip", "addr", "add", "10.200.2.1/24", "dev", tb}, []string{hv, "ip", "link", "set", tb, "up"},
		[]string{a, "ip", "addr", "add", "10.200.1.2/24", "dev", "eth0"}, []string{a, "ip", "link", "set", "eth0", "up"},
		[]string{a, "ip", "route", "add", "default", "via", "10.200.1.1"},
		[]string{b, "ip", "addr", "add", "10.200.2.2/24", "dev", "eth0"}, []string{b, "ip", "link", "set", "eth0", "up"},
		[]string{b, "ip", "link", "set", "lo", "up"}, []string{b, "ip", "route", "add", "default", "via", "10.200.2.1"})
	cfg := nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{
		{ID: "ins-0000000a", Interface: ta,
			Ingress: list(t, policy.Ingress, nil, nil),
			Egress:  list(t, policy.Egress, nil, nil, group{"sg-0000000a", []string{"ACCEPT TCP 8080,8081 0.0.0.0/0"}})},
		{ID: "ins-0000000b", Interface: tb,
			Ingress: list(t, policy.Ingress, nil, nil, group{"sg-0000000b", []string{"ACCEPT TCP 8080 10.200.1.2", "DROP TCP 8081 0.0.0.0/0"}}),
			Egress:  list(t, policy.Egress, nil, nil)},
	}}
	rs := compile(t, cfg)
	load(t, hv, rs.FullScript())
	listen(t, b, "8080", "8081")
	if err := from(a, "nc", "-z", "-w", "3", "10.200.2.2", "8080"); err != nil {
		t.Errorf("TCP 8080 from a to b: %v, want it admitted by both", err)
	}
	if err := from(a, "nc", "-z", "-w", "1", "10.200.2.2", "8081"); err == nil {
		t.Error("TCP 8081 from a to b connected, want it dropped by b's ingress")
	}
	hits := readHits(t, hv, rs)
	for name, least := range map[string]uint64{
		"sg-0000000a.out.0": 2, // both connections' first packets
		"sg-0000000b.in.0":  1,
		"sg-0000000b.in.1":  1,
	} {
		if hits[name] < least {
			t.Errorf("hit %s: %d packets, want at least %d; hits: %v", name, hits[name], least, hits)
		}
	}
}

// TestKernelIncrementalStructural loads into a real kernel the hosts of
// TestIncrementalStructural, each change as its incremental script: the
// kernel takes each in one transaction, and its table then lists as the
// new state's loaded in full into a fresh namespace.
func TestKernelIncrementalStructural(t *testing.T) {
	ns := netns(t)
	states := structuralStates(t)
	prev := compile(t, states[0])
	load(t, ns, prev.FullScript())
	counters := regexp.MustCompile(`counter packets \d+ bytes \d+`)
	listing := func(ns string) string {
		out, err := nftIn(ns, "list", "table", "inet", nft.Table)
		if err != nil {
			t.Fatalf("nft list table: %v: %s", err, out)
		}
		return sortedLines(counters.ReplaceAllString(out, ""))
	}
	for i, cfg := range states[1:] {
		rs := compile(t, cfg)
		s, ok := rs.IncrementalScript(prev)
		if !ok {
			t.Fatalf("change %d is not incremental", i+1)
		}
		load(t, ns, s)
		fresh := netns(t)
		load(t, fresh, rs.FullScript())
		if got, want := listing(ns), listing(fresh); got != want {
			t.Errorf("change %d: the kernel's table after the incremental script is\n%s\nwant, as loaded in full:\n%s", i+1, got, want)
		}
		prev = rs
	}
}
