package agent_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/cli"
	"github.com/palisade-sg/palisade/internal/netnstest"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// envRunCLI makes the test binary run the palisade command line instead of
// the tests: the agent process of the kernel tests is this binary, run in
// the host namespace.
const envRunCLI = "PALISADE_TEST_RUN_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envRunCLI) == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fleet is a routed host namespace with three instance namespaces and an
// internet namespace, a Palisade server listening inside the host
// namespace, and the agent as a real process in it.
type fleet struct {
	t        *testing.T
	tp       *netnstest.Topology
	st       store.Store
	svc      *service.Service
	admin    *client.Client
	platform *client.Client
	account  string
	hostID   string
	hostKey  [2]string // SecretId, SecretKey
	endpoint string
	stateDir string
	ins      [3]string // instance ids, for namespaces 1-3

	srvMu  sync.Mutex
	srv    *http.Server
	ln     net.Listener
	agent  *exec.Cmd
	agentW *strings.Builder
}

var (
	internet4 = netip.MustParsePrefix("198.51.100.0/24")
	internet6 = netip.MustParsePrefix("2001:db8:f::/64")
)

func newFleet(t *testing.T) *fleet {
	t.Helper()
	tp := netnstest.New(t, netnstest.Options{Instances: 3, HostIfNames: []string{"tap1", "tap2", "tap3"},
		InternetPrefixes: []netip.Prefix{internet4, internet6}})
	netnstest.Quiet(t)
	f := &fleet{t: t, tp: tp, stateDir: t.TempDir()}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.svc = service.New(st, service.Options{})
	f.startServer("127.0.0.1:0")
	t.Cleanup(f.stopServer)
	ctx := context.Background()
	a, err := f.svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.svc.CreateHost(ctx, "hv-1")
	if err != nil {
		t.Fatal(err)
	}
	f.account, f.hostID, f.hostKey = a.AccountID, h.HostID, [2]string{h.SecretID, h.SecretKey}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: f.dialHost}}
	f.admin = client.New(f.endpoint, a.SecretID, a.SecretKey, "ap-guangzhou").WithHTTPClient(hc)
	f.platform = client.New(f.endpoint, p.SecretID, p.SecretKey, "ap-guangzhou").WithHTTPClient(hc)
	for i := range f.ins {
		in := tp.Instance(i + 1)
		reg := must[*wire.RegisterInstancesResponse](t, "RegisterInstances")(f.platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{
			AccountId: wire.NewString(f.account),
			Instances: []wire.InstanceSpec{{
				InstanceName: wire.NewString(fmt.Sprintf("vm%d", i+1)), OsType: wire.NewString("linux"), Zone: wire.NewString("ap-guangzhou-3"),
				PrivateIpAddresses: wire.Strings(in.Addr4.String()), Ipv6Addresses: wire.Strings(in.Addr6.String()),
				HostId: wire.NewString(f.hostID), Interface: wire.NewString(in.HostIf),
			}},
		}))
		f.ins[i] = reg.InstanceIdSet[0]
	}
	return f
}

// hostClient is a client with the host's credential.
func (f *fleet) hostClient() *client.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: f.dialHost}}
	return client.New(f.endpoint, f.hostKey[0], f.hostKey[1], "").WithHTTPClient(hc)
}

// dialHost dials inside the host namespace, where the server listens.
func (f *fleet) dialHost(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialIn(ctx, f.tp.Host, network, addr)
}

// dialIn dials inside namespace ns.
func dialIn(ctx context.Context, ns netnstest.NS, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := netnstest.Do(ns, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

func (f *fleet) startServer(addr string) {
	f.t.Helper()
	var ln net.Listener
	if err := netnstest.Do(f.tp.Host, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	srv := &http.Server{Handler: api.NewHandler(api.Options{Service: f.svc}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	f.srvMu.Lock()
	f.srv, f.ln = srv, ln
	f.srvMu.Unlock()
	f.endpoint = "http://" + ln.Addr().String()
}

func (f *fleet) stopServer() {
	f.srvMu.Lock()
	defer f.srvMu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// startAgent runs the agent process in the host namespace.
func (f *fleet) startAgent() {
	f.t.Helper()
	self, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", string(f.tp.Host), self, "agent",
		"--endpoint", f.endpoint, "--secret-id", f.hostKey[0], "--secret-key", f.hostKey[1],
		"--mode", "hypervisor", "--state-dir", f.stateDir,
		"--drift-interval", "200ms", "--report-interval", "200ms", "--watch-wait", "10s")
	cmd.Env = append(os.Environ(), envRunCLI+"=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.agent, f.agentW = cmd, &out
	f.t.Cleanup(func() { f.stopAgent() })
}

func (f *fleet) stopAgent() {
	if f.agent == nil {
		return
	}
	f.agent.Process.Kill()
	f.agent.Wait() //nolint:errcheck // killed
	if f.t.Failed() {
		f.t.Logf("agent output:\n%s", f.agentW.String())
	}
	f.agent = nil
}

// applied waits until the agent reports a revision at least the store's.
func (f *fleet) applied() time.Duration {
	f.t.Helper()
	rev := revision(f.t, f.st)
	t0 := time.Now()
	for {
		var s store.HostStatus
		err := f.st.View(context.Background(), func(tx store.Tx) error {
			var err error
			s, err = tx.GetHostStatus(context.Background(), f.hostID)
			return err
		})
		if err == nil && s.AppliedRevision >= rev {
			return time.Since(t0)
		}
		if time.Since(t0) > 5*time.Second {
			out := ""
			if f.agentW != nil {
				out = f.agentW.String()
			}
			f.t.Fatalf("the agent did not report revision %d within 5s (status %+v, %v); agent output:\n%s", rev, s, err, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reports waits until the server has received n reports from the agent
// after the call. Reports are sent one after another, so every report but
// the first of them carries counters read after the call (an apply's
// report may repeat the last totals, hence n of at least three for a
// fresh periodic read).
func (f *fleet) reports(n int) {
	f.t.Helper()
	since := time.Now()
	seen := 0
	for t0 := time.Now(); seen < n; time.Sleep(5 * time.Millisecond) {
		var s store.HostStatus
		err := f.st.View(context.Background(), func(tx store.Tx) error {
			var err error
			s, err = tx.GetHostStatus(context.Background(), f.hostID)
			return err
		})
		if err == nil && s.Reported.After(since) {
			seen++
			since = s.Reported
		}
		if time.Since(t0) > 10*time.Second {
			f.t.Fatalf("the agent sent %d of %d reports within 10s", seen, n)
		}
	}
}

func (f *fleet) group(name string, ingress, egress []wire.SecurityGroupPolicyInput) string {
	f.t.Helper()
	return createGroup(f.t, f.admin, name, ingress, egress)
}

// bind appends groups, in order, to an instance's bindings.
func (f *fleet) bind(instance int, groups ...string) {
	f.t.Helper()
	bindGroups(f.t, f.admin, f.ins[instance-1], groups...)
}

func (f *fleet) replace(group string, ingress, egress []wire.SecurityGroupPolicyInput) {
	f.t.Helper()
	setPolicies(f.t, f.admin, group, ingress, egress)
}

// createGroup creates a group with policies through admin.
func createGroup(tb testing.TB, admin *client.Client, name string, ingress, egress []wire.SecurityGroupPolicyInput) string {
	tb.Helper()
	g, err := admin.CreateSecurityGroupWithPolicies(context.Background(), &wire.CreateSecurityGroupWithPoliciesRequest{
		GroupName: wire.NewString(name), GroupDescription: wire.NewString(""),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: ingress, Egress: egress},
	})
	if err != nil {
		tb.Fatalf("CreateSecurityGroupWithPolicies %s: %v", name, err)
	}
	return g.SecurityGroup.SecurityGroupId
}

// bindGroups appends groups, in order, to an instance's bindings (one per
// call, as the cloud takes them).
func bindGroups(tb testing.TB, admin *client.Client, instance string, groups ...string) {
	tb.Helper()
	for _, g := range groups {
		if _, err := admin.AssociateSecurityGroups(context.Background(), &wire.AssociateSecurityGroupsRequest{
			SecurityGroupIds: wire.Strings(g), InstanceIds: wire.Strings(instance),
		}); err != nil {
			tb.Fatalf("AssociateSecurityGroups %s %s: %v", instance, g, err)
		}
	}
}

// setPolicies replaces a group's policies of the directions given.
func setPolicies(tb testing.TB, admin *client.Client, group string, ingress, egress []wire.SecurityGroupPolicyInput) {
	tb.Helper()
	if _, err := admin.ModifySecurityGroupPolicies(context.Background(), &wire.ModifySecurityGroupPoliciesRequest{
		SecurityGroupId: wire.NewString(group), SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: ingress, Egress: egress},
	}); err != nil {
		tb.Fatalf("ModifySecurityGroupPolicies %s: %v", group, err)
	}
}

func pol(proto, port, peer, action string) wire.SecurityGroupPolicyInput {
	p := wire.SecurityGroupPolicyInput{Protocol: wire.NewString(proto), Action: wire.NewString(action)}
	if port != "" {
		p.Port = wire.NewString(port)
	}
	switch {
	case strings.HasPrefix(peer, "sg-"):
		p.SecurityGroupId = wire.NewString(peer)
	case strings.HasPrefix(peer, "ipm"):
		p.AddressTemplate = &wire.AddressTemplateSpecificationInput{AddressId: wire.NewString(peer)}
	case strings.Contains(peer, ":"):
		p.Ipv6CidrBlock = wire.NewString(peer)
	default:
		p.CidrBlock = wire.NewString(peer)
	}
	return p
}

// probe is one connection attempt and the result it must have.
type probe struct {
	name string
	from netnstest.NS
	src  netip.Addr // "" for the namespace's own address
	kind string     // tcp, udp, ping
	dst  netip.AddrPort
	want netnstest.Result
}

func (f *fleet) check(ps ...probe) {
	f.t.Helper()
	for _, p := range ps {
		var got netnstest.Result
		var err error
		var src netip.AddrPort
		if p.src.IsValid() {
			src = netip.AddrPortFrom(p.src, 0)
		}
		timeout := 400 * time.Millisecond
		switch p.kind {
		case "tcp":
			got, err = netnstest.DialTCPFrom(p.from, src, p.dst, timeout)
		case "udp":
			got, err = netnstest.UDPRoundTripFrom(p.from, src, p.dst, []byte("palisade"), timeout)
		case "ping":
			got, err = netnstest.PingFrom(p.from, p.src, p.dst.Addr(), timeout)
		}
		if err != nil {
			f.t.Errorf("%s: %v", p.name, err)
			continue
		}
		if got != p.want {
			f.t.Errorf("%s: %s %s → %s: %v, want %v", p.name, p.kind, p.from, p.dst, got, p.want)
		}
	}
}

func dial(ns netnstest.NS, src netip.Addr, dst netip.AddrPort) netnstest.Result {
	var s netip.AddrPort
	if src.IsValid() {
		s = netip.AddrPortFrom(src, 0)
	}
	r, err := netnstest.DialTCPFrom(ns, s, dst, 300*time.Millisecond)
	if err != nil {
		return netnstest.ResultInvalid
	}
	return r
}

// TestKernelEnforcement runs the agent in a real host namespace routing
// between instance namespaces and an internet namespace, and checks what
// real packets do.
func TestKernelEnforcement(t *testing.T) {
	f := newFleet(t)
	ins1, ins2, ins3 := f.tp.Instance(1), f.tp.Instance(2), f.tp.Instance(3)
	inet := f.tp.Internet.NS
	ip := netip.MustParseAddr
	for _, in := range []netnstest.Instance{ins1, ins2, ins3} {
		for _, a := range []netip.Addr{in.Addr4, in.Addr6} {
			netnstest.Listen(t, in.NS, netip.AddrPortFrom(a, 22))
			netnstest.Listen(t, in.NS, netip.AddrPortFrom(a, 80))
			netnstest.Listen(t, in.NS, netip.AddrPortFrom(a, 5000))
			netnstest.ListenPacket(t, in.NS, netip.AddrPortFrom(a, 53))
		}
	}
	for _, a := range []string{"198.51.100.10", "198.51.100.200", "2001:db8:f::10"} {
		netnstest.Listen(t, inet, netip.AddrPortFrom(ip(a), 25))
		netnstest.Listen(t, inet, netip.AddrPortFrom(ip(a), 443))
	}
	f.startAgent()
	f.applied()

	// Default deny both ways: no group binds instance 1.
	f.check(
		probe{"inbound with no group", inet, ip("198.51.100.10"), "tcp", netip.AddrPortFrom(ins1.Addr4, 22), netnstest.TimedOut},
		probe{"outbound with no group", ins1.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ip("198.51.100.10"), 443), netnstest.TimedOut},
		probe{"inbound v6 with no group", inet, ip("2001:db8:f::10"), "tcp", netip.AddrPortFrom(ins1.Addr6, 22), netnstest.TimedOut},
		probe{"ping with no group", inet, ip("198.51.100.10"), "ping", netip.AddrPortFrom(ins1.Addr4, 0), netnstest.TimedOut},
	)

	// Ordered first match across groups: the first group drops SSH from
	// the lower half of the internet prefix, the second admits SSH and web
	// from anywhere, ping, DNS over UDP, and everything outbound.
	deny := f.group("deny-half", []wire.SecurityGroupPolicyInput{pol("TCP", "22", "198.51.100.0/25", "DROP")}, nil)
	allow := f.group("allow", []wire.SecurityGroupPolicyInput{
		pol("TCP", "22,80", "0.0.0.0/0", "ACCEPT"), pol("TCP", "22", "::/0", "ACCEPT"),
		pol("ICMP", "", "0.0.0.0/0", "ACCEPT"), pol("ICMPv6", "", "::/0", "ACCEPT"), pol("UDP", "53", "198.51.100.0/24", "ACCEPT"),
	}, []wire.SecurityGroupPolicyInput{pol("ALL", "ALL", "0.0.0.0/0", "ACCEPT"), pol("ALL", "ALL", "::/0", "ACCEPT")})
	f.bind(1, deny, allow)
	f.applied()
	f.check(
		probe{"SSH from the dropped half", inet, ip("198.51.100.10"), "tcp", netip.AddrPortFrom(ins1.Addr4, 22), netnstest.TimedOut},
		probe{"SSH from the other half", inet, ip("198.51.100.200"), "tcp", netip.AddrPortFrom(ins1.Addr4, 22), netnstest.Reached},
		probe{"web from the dropped half (not SSH)", inet, ip("198.51.100.10"), "tcp", netip.AddrPortFrom(ins1.Addr4, 80), netnstest.Reached},
		probe{"a port no policy admits", inet, ip("198.51.100.200"), "tcp", netip.AddrPortFrom(ins1.Addr4, 5000), netnstest.TimedOut},
		probe{"SSH over IPv6", inet, ip("2001:db8:f::10"), "tcp", netip.AddrPortFrom(ins1.Addr6, 22), netnstest.Reached},
		probe{"web over IPv6 (only SSH admitted)", inet, ip("2001:db8:f::10"), "tcp", netip.AddrPortFrom(ins1.Addr6, 80), netnstest.TimedOut},
		probe{"ping", inet, ip("198.51.100.10"), "ping", netip.AddrPortFrom(ins1.Addr4, 0), netnstest.Reached},
		probe{"ping over IPv6", inet, ip("2001:db8:f::10"), "ping", netip.AddrPortFrom(ins1.Addr6, 0), netnstest.Reached},
		probe{"DNS over UDP", inet, ip("198.51.100.10"), "udp", netip.AddrPortFrom(ins1.Addr4, 53), netnstest.Reached},
		probe{"outbound HTTPS: the reply passes (stateful)", ins1.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ip("198.51.100.10"), 443), netnstest.Reached},
		probe{"outbound HTTPS over IPv6", ins1.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ip("2001:db8:f::10"), 443), netnstest.Reached},
		// Outbound TCP 25 is blocked for a new account, whatever the group says.
		probe{"outbound SMTP, blocked by the platform", ins1.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ip("198.51.100.10"), 25), netnstest.TimedOut},
	)

	// Per-policy counters, summed by the server from the agent's reports,
	// count the packets sent: each DNS query is a new flow, classified once.
	dnsCount := func() int64 {
		var n int64
		if err := f.st.View(context.Background(), func(tx store.Tx) error {
			cs, err := tx.GroupCounters(context.Background(), allow)
			for _, c := range cs {
				if c.InstanceID == f.ins[0] && c.Direction == policy.Ingress && c.PolicyIndex == 4 {
					n += c.Packets
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.reports(3) // the probes' own queries are counted before the baseline
	before := dnsCount()
	const queries = 7
	for range queries {
		if r, err := netnstest.UDPRoundTripFrom(inet, netip.AddrPortFrom(ip("198.51.100.10"), 0), netip.AddrPortFrom(ins1.Addr4, 53), []byte("q"), time.Second); err != nil || r != netnstest.Reached {
			t.Fatalf("DNS query: %v %v", r, err)
		}
	}
	eventually(t, 3*time.Second, "the counter of the DNS policy", func() bool { return dnsCount() >= before+queries })
	f.reports(3) // nothing more arrives later
	if got := dnsCount(); got != before+queries {
		t.Errorf("the DNS policy counted %d packets, want %d", got-before, queries)
	}

	// The account lifts the block: SMTP passes.
	must[*wire.UnblockPort25Response](t, "UnblockPort25")(f.admin.UnblockPort25(context.Background(), &wire.UnblockPort25Request{}))
	f.applied()
	f.check(probe{"outbound SMTP once unblocked", ins1.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ip("198.51.100.10"), 25), netnstest.Reached})

	// A group reference follows membership: instance 2 admits port 5000
	// from the members of "clients", which instance 1 is in.
	clients := f.group("clients", nil, []wire.SecurityGroupPolicyInput{pol("ALL", "ALL", "0.0.0.0/0", "ACCEPT")})
	server := f.group("server", []wire.SecurityGroupPolicyInput{pol("TCP", "5000", clients, "ACCEPT")}, nil)
	f.bind(1, clients)
	f.bind(2, server)
	f.bind(3, f.group("open-egress", nil, []wire.SecurityGroupPolicyInput{pol("ALL", "ALL", "0.0.0.0/0", "ACCEPT")}))
	f.applied()
	f.check(
		probe{"a member of the referenced group", ins1.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ins2.Addr4, 5000), netnstest.Reached},
		probe{"not a member", ins3.NS, netip.Addr{}, "tcp", netip.AddrPortFrom(ins2.Addr4, 5000), netnstest.TimedOut},
	)
	f.bind(3, clients)
	took := eventually(t, time.Second, "a new member reaches the server", func() bool {
		return dial(ins3.NS, netip.Addr{}, netip.AddrPortFrom(ins2.Addr4, 5000)) == netnstest.Reached
	})
	t.Logf("membership change enforced %v after the write's acknowledgement", took)

	// A template: instance 2 admits DNS from an address template; editing
	// the template changes the rule without touching it.
	tmpl := must[*wire.CreateAddressTemplateResponse](t, "CreateAddressTemplate")(f.admin.CreateAddressTemplate(context.Background(), &wire.CreateAddressTemplateRequest{
		AddressTemplateName: wire.NewString("resolvers"), Addresses: wire.Strings("198.51.100.10"),
	})).AddressTemplate.AddressTemplateId
	f.replace(server, []wire.SecurityGroupPolicyInput{pol("TCP", "5000", clients, "ACCEPT"), pol("UDP", "53", tmpl, "ACCEPT")}, nil)
	f.applied()
	f.check(
		probe{"DNS from the template's address", inet, ip("198.51.100.10"), "udp", netip.AddrPortFrom(ins2.Addr4, 53), netnstest.Reached},
		probe{"DNS from another address", inet, ip("198.51.100.200"), "udp", netip.AddrPortFrom(ins2.Addr4, 53), netnstest.TimedOut},
	)
	must[*wire.ModifyAddressTemplateAttributeResponse](t, "ModifyAddressTemplateAttribute")(f.admin.ModifyAddressTemplateAttribute(context.Background(), &wire.ModifyAddressTemplateAttributeRequest{
		AddressTemplateId: wire.NewString(tmpl), Addresses: wire.Strings("198.51.100.200"),
	}))
	f.applied()
	f.check(
		probe{"DNS from the template's new address", inet, ip("198.51.100.200"), "udp", netip.AddrPortFrom(ins2.Addr4, 53), netnstest.Reached},
		probe{"DNS from its old address", inet, ip("198.51.100.10"), "udp", netip.AddrPortFrom(ins2.Addr4, 53), netnstest.TimedOut},
	)

	// A rule change is enforced within a second of its acknowledgement,
	// and an established connection outlives the rule that admitted it.
	conn, err := netnstest.ConnectFrom(inet, netip.AddrPortFrom(ip("198.51.100.200"), 0), netip.AddrPortFrom(ins1.Addr4, 80), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f.replace(allow, []wire.SecurityGroupPolicyInput{pol("TCP", "22", "0.0.0.0/0", "ACCEPT")}, []wire.SecurityGroupPolicyInput{pol("ALL", "ALL", "0.0.0.0/0", "ACCEPT")})
	took = eventually(t, time.Second, "web closed", func() bool {
		return dial(inet, ip("198.51.100.200"), netip.AddrPortFrom(ins1.Addr4, 80)) == netnstest.TimedOut
	})
	t.Logf("rule removal enforced within %v of the write's acknowledgement", took)
	if r, err := conn.RoundTrip([]byte("still there"), time.Second); err != nil || r != netnstest.Reached {
		t.Errorf("an established connection after its rule was removed: %v %v, want reached", r, err)
	}

	// FlushConnections: a write removing SSH cuts the established SSH
	// connection (and any other of the instance its rules no longer
	// admit), while a connection to instance 2, which the write does not
	// touch, lives on.
	ssh, err := netnstest.ConnectFrom(inet, netip.AddrPortFrom(ip("198.51.100.200"), 0), netip.AddrPortFrom(ins1.Addr4, 22), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer ssh.Close()
	kept, err := netnstest.ConnectFrom(ins3.NS, netip.AddrPort{}, netip.AddrPortFrom(ins2.Addr4, 5000), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	must[*wire.ModifySecurityGroupPoliciesResponse](t, "ModifySecurityGroupPolicies")(f.admin.ModifySecurityGroupPolicies(context.Background(), &wire.ModifySecurityGroupPoliciesRequest{
		SecurityGroupId: wire.NewString(allow),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{pol("TCP", "443", "0.0.0.0/0", "ACCEPT")},
			Egress: []wire.SecurityGroupPolicyInput{pol("ALL", "ALL", "0.0.0.0/0", "ACCEPT")}},
		FlushConnections: wire.NewBool(true),
	}))
	f.applied()
	if r, _ := ssh.RoundTrip([]byte("cut?"), 500*time.Millisecond); r == netnstest.Reached {
		t.Error("FlushConnections: the SSH connection its write no longer admits still passes")
	}
	if r, err := kept.RoundTrip([]byte("kept?"), time.Second); err != nil || r != netnstest.Reached {
		t.Errorf("FlushConnections cut a connection of another instance that its rules still admit: %v %v", r, err)
	}
	// Put SSH back for what follows.
	f.replace(allow, []wire.SecurityGroupPolicyInput{pol("TCP", "22", "0.0.0.0/0", "ACCEPT")}, []wire.SecurityGroupPolicyInput{pol("ALL", "ALL", "0.0.0.0/0", "ACCEPT")})
	f.applied()

	// Drift: the table deleted behind the agent comes back within 2 s.
	if out, err := netnstest.Exec(f.tp.Host, "nft", "delete", "table", "inet", "palisade"); err != nil {
		t.Fatalf("nft delete table: %v: %s", err, out)
	}
	took = eventually(t, 2*time.Second, "the table restored", func() bool {
		return dial(inet, ip("198.51.100.10"), netip.AddrPortFrom(ins1.Addr4, 5000)) == netnstest.TimedOut &&
			dial(inet, ip("198.51.100.200"), netip.AddrPortFrom(ins1.Addr4, 22)) == netnstest.Reached
	})
	t.Logf("drift repaired in %v", took)

	// Fail static: the server goes away, the rules stay.
	f.stopServer()
	time.Sleep(500 * time.Millisecond)
	f.check(
		probe{"fail static: SSH still admitted", inet, ip("198.51.100.200"), "tcp", netip.AddrPortFrom(ins1.Addr4, 22), netnstest.Reached},
		probe{"fail static: web still closed", inet, ip("198.51.100.200"), "tcp", netip.AddrPortFrom(ins1.Addr4, 80), netnstest.TimedOut},
	)

	// Restart from the cache: the agent and the table are gone and the
	// server is still down; the new agent restores the rules.
	f.stopAgent()
	if out, err := netnstest.Exec(f.tp.Host, "nft", "delete", "table", "inet", "palisade"); err != nil {
		t.Fatalf("nft delete table: %v: %s", err, out)
	}
	f.check(probe{"no table: everything passes", inet, ip("198.51.100.200"), "tcp", netip.AddrPortFrom(ins1.Addr4, 80), netnstest.Reached})
	f.startAgent()
	eventually(t, 3*time.Second, "rules restored from the state directory with the server down", func() bool {
		return dial(inet, ip("198.51.100.200"), netip.AddrPortFrom(ins1.Addr4, 80)) == netnstest.TimedOut
	})
	f.check(probe{"restored: SSH admitted", inet, ip("198.51.100.200"), "tcp", netip.AddrPortFrom(ins1.Addr4, 22), netnstest.Reached})
}
