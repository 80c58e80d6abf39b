package nft_test

import (
	"context"
	"encoding/json"
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

	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/eval"
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

// load writes tx to a file and loads it with nft -f inside ns, returning
// how long nft took.
func load(t *testing.T, ns string, tx *knftables.Transaction) time.Duration {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(path, []byte(tx.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, err := nftIn(ns, "-f", path); err != nil {
		t.Fatalf("nft -f: %v: %.2000s", err, out)
	}
	return time.Since(start)
}

func newTx() *knftables.Transaction {
	return knftables.NewFake(knftables.InetFamily, nft.Table).NewTransaction()
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
	tx := newTx()
	rs.Full(tx)
	d := load(t, ns, tx)
	t.Logf("10,000 interleaved policies: %d regions, %d operations, nft -f %v", rs.Lists[0].Elements, tx.NumOperations(), d)

	// Sample lookups in the kernel's maps.
	ev, err := eval.CompileList(l)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	goto_ := regexp.MustCompile(`goto (\S+)`)
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
		m := "ins-0000big1.in.v4"
		if a.Is6() {
			m = "ins-0000big1.in.v6"
		}
		k := fmt.Sprintf("%v . %d", a, proto)
		if proto == 6 || proto == 17 {
			m += "p"
			k += fmt.Sprintf(" . %d", port)
		}
		out, err := nftIn(ns, "get", "element", "inet", nft.Table, m, "{ "+k+" }")
		want := "(none)"
		if dec.Entry >= 0 {
			want = fmt.Sprintf("ins-0000big1.in.%s.%d", dec.GroupID, dec.PolicyIndex)
		}
		got := "(none)"
		if err == nil {
			if sm := goto_.FindStringSubmatch(out); sm != nil {
				got = sm[1]
			}
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
	tx = newTx()
	before.Full(tx)
	load(t, ns, tx)
	tx = newTx()
	if !after.Incremental(before, tx) {
		t.Fatal("membership change is not incremental")
	}
	load(t, ns, tx)
	out, err := nftIn(ns, "get", "element", "inet", nft.Table, "ins-00000db1.in.v4p", "{ 10.1.0.200 . 6 . 5432 }")
	if err != nil || !strings.Contains(out, "goto ins-00000db1.in.sg-00000db1.0") {
		t.Errorf("after the incremental apply, 10.1.0.200 TCP 5432: %v %s, want sg-00000db1 policy 0", err, out)
	}

	// The run-collapsed form of 1,000 interleaved policies.
	cfg.Instances[0].Ingress = interleaved(t, 1000)
	cfg.RegionLimit = 10
	rs = compile(t, cfg)
	if rs.Lists[0].Form != nft.FormCollapsed {
		t.Fatalf("limit 10: form %v, want collapsed", rs.Lists[0].Form)
	}
	tx = newTx()
	rs.Full(tx)
	d = load(t, ns, tx)
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
	var ops int
	for b.Loop() {
		start := time.Now()
		var err error
		if rs, err = nft.Compile(cfg); err != nil {
			b.Fatal(err)
		}
		tx := newTx()
		rs.Full(tx)
		ops = tx.NumOperations()
		if err := os.WriteFile(path, []byte(tx.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if out, err := nftIn(ns, "-f", path); err != nil {
			b.Fatalf("nft -f: %v: %.2000s", err, out)
		}
		compiled += mid.Sub(start)
		loaded += time.Since(mid)
	}
	n := 0
	for _, li := range rs.Lists {
		n += li.Elements
	}
	b.ReportMetric(float64(n), "elements")
	b.ReportMetric(float64(ops), "operations")
	b.ReportMetric(float64(compiled.Milliseconds())/float64(b.N), "compile-ms/op")
	b.ReportMetric(float64(loaded.Milliseconds())/float64(b.N), "nft-ms/op")
}

// nsCounters is a knftables.Interface whose ListCounters reads the
// counters of the table in namespace ns with nft --json (the rest is a
// fake, unused).
type nsCounters struct {
	*knftables.Fake
	ns string
}

func (n nsCounters) ListCounters(context.Context) ([]*knftables.Counter, error) {
	out, err := nftIn(n.ns, "--json", "list", "counters", "table", "inet", nft.Table)
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	var doc struct {
		Nftables []struct {
			Counter *struct {
				Name           string
				Packets, Bytes uint64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, err
	}
	var cs []*knftables.Counter
	for _, o := range doc.Nftables {
		if c := o.Counter; c != nil {
			cs = append(cs, &knftables.Counter{Name: c.Name, Packets: knftables.PtrTo(c.Packets), Bytes: knftables.PtrTo(c.Bytes)})
		}
	}
	return cs, nil
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// TestKernelTraffic sends real packets to a host-mode table: a namespace
// "client" talks over a veth pair to a namespace "host" whose table admits
// TCP 8080 from the client and drops TCP 8081; ping meets the final DROP.
// The counters read back are attributed to the entries that decided.
func TestKernelTraffic(t *testing.T) {
	client, host := netns(t), netns(t)
	ifc, ifh := fmt.Sprintf("pc%d", os.Getpid()%100000), fmt.Sprintf("ph%d", os.Getpid()%100000)
	run(t, "ip", "link", "add", ifc, "netns", client, "type", "veth", "peer", "name", ifh, "netns", host)
	for _, c := range [][]string{
		{client, "ip", "addr", "add", "192.0.2.1/24", "dev", ifc}, {client, "ip", "link", "set", ifc, "up"}, {client, "ip", "link", "set", "lo", "up"},
		{host, "ip", "addr", "add", "192.0.2.2/24", "dev", ifh}, {host, "ip", "link", "set", ifh, "up"}, {host, "ip", "link", "set", "lo", "up"},
	} {
		run(t, "ip", append([]string{"netns", "exec"}, c...)...)
	}
	g := group{"sg-0000host", []string{"ACCEPT TCP 8080 192.0.2.1", "DROP TCP 8081 0.0.0.0/0"}}
	cfg := nft.Config{Mode: nft.Host, Instances: []nft.Instance{{
		ID:      "ins-00host01",
		Ingress: list(t, policy.Ingress, nil, nil, g),
		Egress:  list(t, policy.Egress, nil, nil),
	}}}
	rs := compile(t, cfg)
	tx := newTx()
	rs.Full(tx)
	load(t, host, tx)

	for _, port := range []string{"8080", "8081"} {
		l := exec.Command("ip", "netns", "exec", host, "nc", "-l", "-k", port)
		if err := l.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Process.Kill(); _ = l.Wait() })
	}
	time.Sleep(300 * time.Millisecond)
	try := func(args ...string) error {
		return exec.Command("ip", append([]string{"netns", "exec", client}, args...)...).Run()
	}
	if err := try("nc", "-z", "-w", "3", "192.0.2.2", "8080"); err != nil {
		t.Errorf("TCP 8080 from the client: %v, want it admitted", err)
	}
	if err := try("nc", "-z", "-w", "1", "192.0.2.2", "8081"); err == nil {
		t.Error("TCP 8081 connected, want it dropped")
	}
	if err := try("ping", "-c", "1", "-W", "1", "192.0.2.2"); err == nil {
		t.Error("ping answered, want it dropped by the final DROP")
	}

	hits, err := nft.ReadCounters(context.Background(), nsCounters{knftables.NewFake(knftables.InetFamily, nft.Table), host}, rs)
	if err != nil {
		t.Fatal(err)
	}
	packets := map[string]uint64{}
	for _, h := range hits {
		packets[h.Counter] = h.Packets
	}
	for _, name := range []string{"ins-00host01.in.sg-0000host.0", "ins-00host01.in.sg-0000host.1", "ins-00host01.in.default"} {
		if packets[name] == 0 {
			t.Errorf("counter %s counted no packet; counters: %v", name, packets)
		}
	}
}
