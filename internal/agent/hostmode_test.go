package agent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/netnstest"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// hostFleet is a topology with the agent of one host and its one
// instance, instance namespace 1, and a peer, instance namespace 2,
// registered on another host that runs no agent. The Palisade server
// listens in the topology's routing namespace, on instance 1's gateway.
//
// In host mode (newHostFleet) instance namespace 1 is the host: the
// instance registered on it has the namespace's own addresses and no
// interface, and the agent runs in it, filtering its own input and output.
// In hypervisor mode (newAgentFleet) the agent runs in the routing
// namespace and filters what it forwards to and from instance 1's
// interface.
type hostFleet struct {
	tb       testing.TB
	mode     string
	tp       *netnstest.Topology
	st       store.Store
	admin    *client.Client
	hostID   string
	hostKey  [2]string
	endpoint string
	server   netip.AddrPort
	stateDir string
	self     string // the host's instance id
	peer     string // instance namespace 2's instance id
	agent    *exec.Cmd
	agentW   *strings.Builder
}

func newHostFleet(tb testing.TB) *hostFleet {
	tb.Helper()
	return newAgentFleet(tb, "host")
}

// newAgentFleet builds a hostFleet whose agent runs in mode (host or
// hypervisor).
func newAgentFleet(tb testing.TB, mode string) *hostFleet {
	tb.Helper()
	tp := netnstest.New(tb, netnstest.Options{Instances: 2, HostIfNames: []string{"tap1", "tap2"}, InternetPrefixes: []netip.Prefix{internet4, internet6}})
	netnstest.Quiet(tb)
	f := &hostFleet{tb: tb, mode: mode, tp: tp, stateDir: tb.TempDir()}
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "palisade.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	f.st = st
	svc := service.New(st, service.Options{})
	var ln net.Listener
	if err := netnstest.Do(tp.Host, func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(tp.Instance(1).Gateway4, 0).String())
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: api.NewHandler(api.Options{Service: svc}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	tb.Cleanup(func() { srv.Close() })
	f.server = netip.MustParseAddrPort(ln.Addr().String())
	f.endpoint = "http://" + f.server.String()

	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "alice")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := svc.CreateHost(ctx, "srv-1")
	if err != nil {
		tb.Fatal(err)
	}
	other, err := svc.CreateHost(ctx, "srv-2")
	if err != nil {
		tb.Fatal(err)
	}
	f.hostID, f.hostKey = h.HostID, [2]string{h.SecretID, h.SecretKey}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: f.dialRouter}}
	f.admin = client.New(f.endpoint, a.SecretID, a.SecretKey, "ap-guangzhou").WithHTTPClient(hc)
	platform := client.New(f.endpoint, p.SecretID, p.SecretKey, "ap-guangzhou").WithHTTPClient(hc)
	register := func(name, host string, in netnstest.Instance, iface string) string {
		spec := wire.InstanceSpec{
			InstanceName: wire.NewString(name), OsType: wire.NewString("linux"), Zone: wire.NewString("ap-guangzhou-3"),
			PrivateIpAddresses: wire.Strings(in.Addr4.String()), Ipv6Addresses: wire.Strings(in.Addr6.String()),
			HostId: wire.NewString(host),
		}
		if iface != "" {
			spec.Interface = wire.NewString(iface)
		}
		resp, err := platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{
			AccountId: wire.NewString(a.AccountID), Instances: []wire.InstanceSpec{spec},
		})
		if err != nil {
			tb.Fatalf("RegisterInstances %s: %v", name, err)
		}
		return resp.InstanceIdSet[0]
	}
	iface := ""
	if mode == "hypervisor" {
		iface = tp.Instance(1).HostIf
	}
	f.self = register("srv-1", f.hostID, tp.Instance(1), iface)
	f.peer = register("peer", other.HostID, tp.Instance(2), "")
	return f
}

// dialRouter dials inside the routing namespace, where the server listens.
func (f *hostFleet) dialRouter(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialIn(ctx, f.tp.Host, network, addr)
}

// ns is the namespace the agent runs in and filters.
func (f *hostFleet) ns() netnstest.NS {
	if f.mode == "hypervisor" {
		return f.tp.Host
	}
	return f.tp.Instance(1).NS
}

// serverPath is the egress policy that lets the agent reach the server:
// in host mode the agent's own connections pass its table too.
func (f *hostFleet) serverPath() wire.SecurityGroupPolicyInput {
	return pol("TCP", strconv.Itoa(int(f.server.Port())), f.server.Addr().String()+"/32", "ACCEPT")
}

func (f *hostFleet) startAgent() {
	f.tb.Helper()
	self, err := os.Executable()
	if err != nil {
		f.tb.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", string(f.ns()), self, "agent",
		"--endpoint", f.endpoint, "--secret-id", f.hostKey[0], "--secret-key", f.hostKey[1],
		"--mode", f.mode, "--state-dir", f.stateDir,
		"--drift-interval", "200ms", "--report-interval", "200ms", "--watch-wait", "10s")
	cmd.Env = append(os.Environ(), envRunCLI+"=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		f.tb.Fatal(err)
	}
	f.agent, f.agentW = cmd, &out
	f.tb.Cleanup(func() {
		if out := f.stopAgent(); f.tb.Failed() {
			f.tb.Logf("agent output:\n%s", out)
		}
	})
}

// stopAgent ends the agent process, if it runs, and returns its output.
// The output is read only here, once the process is gone.
func (f *hostFleet) stopAgent() string {
	if f.agent != nil {
		f.agent.Process.Kill()
		f.agent.Wait() //nolint:errcheck // killed
		f.agent = nil
	}
	if f.agentW == nil {
		return ""
	}
	return f.agentW.String()
}

// applied waits until the agent reports a revision at least the store's.
func (f *hostFleet) applied() {
	f.tb.Helper()
	var rev int64
	if err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		rev, err = tx.Revision(context.Background())
		return err
	}); err != nil {
		f.tb.Fatal(err)
	}
	t0 := time.Now()
	for {
		var s store.HostStatus
		err := f.st.View(context.Background(), func(tx store.Tx) error {
			var err error
			s, err = tx.GetHostStatus(context.Background(), f.hostID)
			return err
		})
		if err == nil && s.AppliedRevision >= rev {
			return
		}
		if time.Since(t0) > 10*time.Second {
			f.tb.Fatalf("the agent did not report revision %d within 10s (status %+v, %v); agent output:\n%s", rev, s, err, f.stopAgent())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *hostFleet) group(name string, ingress, egress []wire.SecurityGroupPolicyInput) string {
	f.tb.Helper()
	return createGroup(f.tb, f.admin, name, ingress, egress)
}

// bind appends groups, in order, to an instance's bindings.
func (f *hostFleet) bind(instance string, groups ...string) {
	f.tb.Helper()
	bindGroups(f.tb, f.admin, instance, groups...)
}

func (f *hostFleet) unbind(instance, group string) {
	f.tb.Helper()
	if _, err := f.admin.DisassociateSecurityGroups(context.Background(), &wire.DisassociateSecurityGroupsRequest{
		SecurityGroupIds: wire.Strings(group), InstanceIds: wire.Strings(instance),
	}); err != nil {
		f.tb.Fatalf("DisassociateSecurityGroups %s %s: %v", instance, group, err)
	}
}

func (f *hostFleet) replace(group string, ingress, egress []wire.SecurityGroupPolicyInput) {
	f.tb.Helper()
	setPolicies(f.tb, f.admin, group, ingress, egress)
}

// groupCounter returns the packets of the agent's counter of one policy
// of the host's list in a direction ("in" or "out").
func (f *hostFleet) groupCounter(tb testing.TB, dir, group string, index int) uint64 {
	tb.Helper()
	mode := nft.Host
	if f.mode == "hypervisor" {
		mode = nft.Hypervisor
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: f.dialRouter}}
	rs := compileHost(tb, client.New(f.endpoint, f.hostKey[0], f.hostKey[1], "").WithHTTPClient(hc), mode)
	hits := hitsIn(tb, f.ns(), rs)
	key := fmt.Sprintf("%s.%s.%d", group, dir, index)
	n, ok := hits[key]
	if !ok {
		tb.Fatalf("no hit %q in the table", key)
	}
	return n
}

// iptablesRule is `iptables -w -A CHAIN SPEC… -m comment --comment NAME`.
type iptablesRule struct {
	chain, name string
	spec        []string
}

func iptables(tb testing.TB, ns netnstest.NS, rs ...iptablesRule) {
	tb.Helper()
	for _, r := range rs {
		argv := append(append([]string{"iptables", "-w", "-A", r.chain}, r.spec...), "-m", "comment", "--comment", r.name)
		if out, err := netnstest.Exec(ns, argv...); err != nil {
			tb.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
		}
	}
}

// saveCounter reads one line of `iptables-save -c`: "[packets:bytes] -A …".
var saveCounter = regexp.MustCompile(`^\[([0-9]+):([0-9]+)\] -A (\S+) .*--comment "?([^" ]+)"?`)

// iptablesCounters returns the packets of every commented IPv4 rule of
// ns, by comment. A rule line it cannot read is an error.
func iptablesCounters(tb testing.TB, ns netnstest.NS) map[string]uint64 {
	tb.Helper()
	out, err := netnstest.Exec(ns, "iptables-save", "-c")
	if err != nil {
		tb.Fatalf("iptables-save -c: %v: %s", err, out)
	}
	got := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "[") || !strings.Contains(line, " -A ") {
			continue
		}
		m := saveCounter.FindStringSubmatch(line)
		if m == nil {
			if strings.Contains(line, "--comment") {
				tb.Fatalf("iptables-save -c: cannot read %q", line)
			}
			continue
		}
		n, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			tb.Fatalf("iptables-save -c: %q: %v", line, err)
		}
		got[m[4]] = n
	}
	return got
}

type hookPrio struct {
	hook string
	prio int
}

// basePriorities returns the hook and priority of every base chain of ns,
// by "family table chain".
func basePriorities(tb testing.TB, ns netnstest.NS) map[string]hookPrio {
	tb.Helper()
	out, err := netnstest.Exec(ns, "nft", "-j", "list", "chains")
	if err != nil {
		tb.Fatalf("nft -j list chains: %v: %s", err, out)
	}
	var doc struct {
		Nftables []struct {
			Chain *struct {
				Family, Table, Name, Hook string
				Prio                      *int
			} `json:"chain"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		tb.Fatalf("nft -j list chains: %v", err)
	}
	got := map[string]hookPrio{}
	for _, o := range doc.Nftables {
		if c := o.Chain; c != nil && c.Hook != "" {
			if c.Prio == nil {
				tb.Fatalf("base chain %s %s %s without a priority", c.Family, c.Table, c.Name)
			}
			got[c.Family+" "+c.Table+" "+c.Name] = hookPrio{c.Hook, *c.Prio}
		}
	}
	return got
}

// TestKernelHostModeIptables runs the agent in host mode inside a namespace
// that also has iptables (nf_tables backend) rules with counters, and checks
// the order of SPEC §7 and the FAQ with counted packets: inbound, security
// group → iptables → process; outbound, process → iptables → security
// group.
func TestKernelHostModeIptables(t *testing.T) {
	f := newHostFleet(t)
	ins := f.tp.Instance(1)
	inet := f.tp.Internet.NS
	ip := netip.MustParseAddr
	for _, port := range []uint16{22, 80, 5000} {
		netnstest.Listen(t, ins.NS, netip.AddrPortFrom(ins.Addr4, port))
	}
	sshd := netnstest.Listen(t, ins.NS, netip.AddrPortFrom(ins.Addr4, 2222))
	for _, a := range []string{"198.51.100.20", "198.51.100.21", "198.51.100.30"} {
		netnstest.ListenPacket(t, inet, netip.AddrPortFrom(ip(a), 53))
	}

	// The agent's own path to the server first, then the host's group.
	path := f.group("agent-path", nil, []wire.SecurityGroupPolicyInput{f.serverPath()})
	app := f.group("app", []wire.SecurityGroupPolicyInput{
		pol("TCP", "5000", "198.51.100.0/24", "DROP"), // 0
		pol("TCP", "80", "0.0.0.0/0", "ACCEPT"),       // 1
		pol("TCP", "2222", "0.0.0.0/0", "ACCEPT"),     // 2
	}, []wire.SecurityGroupPolicyInput{
		pol("UDP", "53", "198.51.100.20", "ACCEPT"), // 0: iptables drops it
		pol("UDP", "53", "198.51.100.21", "ACCEPT"), // 1: nothing drops it
		pol("UDP", "53", "198.51.100.30", "DROP"),   // 2: iptables counts it, the group drops it
	})
	f.bind(f.self, path, app)
	f.startAgent()
	f.applied()

	const probeSrc = "198.51.100.77"
	iptables(t, ins.NS,
		iptablesRule{"INPUT", "from-probe", []string{"-s", probeSrc}},
		iptablesRule{"INPUT", "drop-web", []string{"-p", "tcp", "--dport", "80", "-j", "DROP"}},
		iptablesRule{"OUTPUT", "drop-dns-20", []string{"-p", "udp", "-d", "198.51.100.20", "--dport", "53", "-j", "DROP"}},
		iptablesRule{"OUTPUT", "count-dns-30", []string{"-p", "udp", "-d", "198.51.100.30", "--dport", "53"}},
	)
	if got := iptablesCounters(t, ins.NS); len(got) != 4 {
		t.Fatalf("iptables counters %v, want the 4 rules added", got)
	}
	// The order the packets below show, as the kernel holds it: the
	// group's input chain before iptables' INPUT, its output chain after
	// iptables' OUTPUT, at the same hooks.
	prio := basePriorities(t, ins.NS)
	for _, c := range []struct {
		first, then string
	}{
		{"inet palisade input", "ip filter INPUT"},
		{"ip filter OUTPUT", "inet palisade output"},
	} {
		a, aok := prio[c.first]
		b, bok := prio[c.then]
		if !aok || !bok || a.hook != b.hook || a.prio >= b.prio {
			t.Errorf("base chains %s %+v and %s %+v: want the same hook, the first at a lower priority (all: %v)", c.first, a, c.then, b, prio)
		}
	}

	injector, err := netnstest.NewInjector(inet)
	if err != nil {
		t.Fatal(err)
	}
	defer injector.Close()
	const n = 5
	syns := func(t *testing.T, port uint16, firstSrcPort uint16) {
		t.Helper()
		for i := range uint16(n) {
			if err := injector.Send(netnstest.Packet{Src: ip(probeSrc), Dst: ins.Addr4, Proto: netnstest.ProtoTCP,
				SrcPort: firstSrcPort + i, DstPort: port}); err != nil {
				t.Fatal(err)
			}
		}
	}
	settle := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		eventually(t, 3*time.Second, what, cond)
		time.Sleep(100 * time.Millisecond) // nothing more arrives
	}

	t.Run("inbound dropped by the group never reaches iptables", func(t *testing.T) {
		syns(t, 5000, 40000)
		settle(t, "the group's DROP counts the SYNs", func() bool { return f.groupCounter(t, "in", app, 0) >= n })
		if got := f.groupCounter(t, "in", app, 0); got != n {
			t.Errorf("the group's DROP policy counted %d packets, want %d", got, n)
		}
		if got := iptablesCounters(t, ins.NS)["from-probe"]; got != 0 {
			t.Errorf("iptables INPUT counted %d packets the group dropped, want 0", got)
		}
	})

	t.Run("inbound admitted by the group and dropped by iptables is counted by both", func(t *testing.T) {
		syns(t, 80, 41000)
		settle(t, "iptables drops the SYNs", func() bool { return iptablesCounters(t, ins.NS)["drop-web"] >= n })
		ipt := iptablesCounters(t, ins.NS)
		if got := f.groupCounter(t, "in", app, 1); got != n {
			t.Errorf("the group's ACCEPT policy counted %d packets, want %d", got, n)
		}
		if ipt["drop-web"] != n || ipt["from-probe"] != n {
			t.Errorf("iptables INPUT counted %d (drop rule) and %d (probe source) packets, want %d", ipt["drop-web"], ipt["from-probe"], n)
		}
		// A real connection the group admits, iptables drops: the
		// process never sees it.
		f.check(t, probe{"web: group admits, iptables drops", inet, ip("198.51.100.78"), "tcp", netip.AddrPortFrom(ins.Addr4, 80), netnstest.TimedOut})
	})

	t.Run("inbound admitted by both reaches the process", func(t *testing.T) {
		// The echo server answering proves the process read the bytes.
		c, err := netnstest.ConnectFrom(inet, netip.AddrPortFrom(ip("198.51.100.78"), 0), netip.AddrPortFrom(ins.Addr4, 2222), time.Second)
		if err != nil {
			t.Fatalf("group and iptables admit: %v", err)
		}
		defer c.Close()
		if r, err := c.RoundTrip([]byte("hello"), time.Second); err != nil || r != netnstest.Reached {
			t.Fatalf("group and iptables admit: echo %v %v, want reached", r, err)
		}
		if peers := sshd.Peers(); len(peers) != 1 || peers[0].Addr() != ip("198.51.100.78") {
			t.Errorf("the process accepted %v, want one connection from 198.51.100.78", peers)
		}
		if got := f.groupCounter(t, "in", app, 2); got != 1 {
			t.Errorf("the group counted %d packets of one connection, want 1 (its SYN; the rest is established)", got)
		}
	})

	udp := func(t *testing.T, dst string) netnstest.Result {
		t.Helper()
		r, err := netnstest.UDPRoundTripFrom(ins.NS, netip.AddrPort{}, netip.AddrPortFrom(ip(dst), 53), []byte("q"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("outbound dropped by iptables never reaches the group", func(t *testing.T) {
		for range n {
			if r := udp(t, "198.51.100.20"); r != netnstest.Unreachable {
				t.Errorf("DNS to 198.51.100.20 (iptables OUTPUT drops it): %v, want unreachable (refused by the sending kernel)", r)
			}
		}
		if got := iptablesCounters(t, ins.NS)["drop-dns-20"]; got != n {
			t.Errorf("iptables OUTPUT dropped %d packets, want %d", got, n)
		}
		if got := f.groupCounter(t, "out", app, 0); got != 0 {
			t.Errorf("the group's ACCEPT policy counted %d packets iptables dropped before it, want 0", got)
		}
		// The same policy shape for an address iptables leaves alone
		// counts every query, and the answers come back.
		for range n {
			if r := udp(t, "198.51.100.21"); r != netnstest.Reached {
				t.Errorf("DNS to 198.51.100.21 (nothing drops it): %v, want reached", r)
			}
		}
		if got := f.groupCounter(t, "out", app, 1); got != n {
			t.Errorf("the group's ACCEPT policy counted %d packets, want %d", got, n)
		}
	})

	t.Run("outbound admitted by iptables and dropped by the group is counted by both", func(t *testing.T) {
		for range n {
			if r := udp(t, "198.51.100.30"); r != netnstest.Unreachable {
				t.Errorf("DNS to 198.51.100.30 (the group drops it): %v, want unreachable (refused by the sending kernel)", r)
			}
		}
		if got := iptablesCounters(t, ins.NS)["count-dns-30"]; got != n {
			t.Errorf("iptables OUTPUT counted %d packets, want %d", got, n)
		}
		if got := f.groupCounter(t, "out", app, 2); got != n {
			t.Errorf("the group's DROP policy counted %d packets, want %d", got, n)
		}
	})

	// The agent's table is unaffected by iptables' table beside it: no
	// drift repair loop, and the agent still follows the server.
	f.replace(app, []wire.SecurityGroupPolicyInput{pol("TCP", "2222", "0.0.0.0/0", "ACCEPT"), pol("TCP", "22", "0.0.0.0/0", "ACCEPT")}, nil)
	f.applied()
	f.check(t, probe{"a port opened after iptables was set up", inet, ip("198.51.100.78"), "tcp", netip.AddrPortFrom(ins.Addr4, 22), netnstest.Reached})
	if out := f.stopAgent(); strings.Contains(out, "differs from the one applied") {
		t.Errorf("the agent repaired drift with only iptables' table beside its own:\n%s", out)
	}
}

// check runs probes, as fleet.check does, reporting to tb.
func (f *hostFleet) check(tb testing.TB, ps ...probe) {
	tb.Helper()
	for _, p := range ps {
		var src netip.AddrPort
		if p.src.IsValid() {
			src = netip.AddrPortFrom(p.src, 0)
		}
		// Long enough for a loaded machine when the probe must pass; what
		// must time out is given less.
		timeout := time.Second
		if p.want == netnstest.TimedOut {
			timeout = 400 * time.Millisecond
		}
		var got netnstest.Result
		var err error
		switch p.kind {
		case "tcp":
			got, err = netnstest.DialTCPFrom(p.from, src, p.dst, timeout)
		case "udp":
			got, err = netnstest.UDPRoundTripFrom(p.from, src, p.dst, []byte("palisade"), timeout)
		default:
			err = fmt.Errorf("unknown probe kind %q", p.kind)
		}
		if err != nil {
			tb.Errorf("%s: %v", p.name, err)
			continue
		}
		if got != p.want {
			tb.Errorf("%s: %s %s → %s: %v, want %v", p.name, p.kind, p.from, p.dst, got, p.want)
		}
	}
}
