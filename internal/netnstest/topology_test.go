package netnstest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

const probeTimeout = 2 * time.Second

// newTopology is the topology most tests use: two instances and an internet
// namespace owning 198.51.100.0/24 and 2001:db8:f::/64.
func newTopology(t *testing.T) *Topology {
	t.Helper()
	return New(t, Options{
		Instances:        2,
		InternetPrefixes: []netip.Prefix{pfx("198.51.100.0/24"), pfx("2001:db8:f::/64")},
	})
}

func TestTopologyForwardsWithoutRuleset(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2, inet := tp.Instance(1), tp.Instance(2), tp.Internet
	tcp := Listen(t, i2.NS, netip.AddrPortFrom(netip.IPv6Unspecified(), 0))
	udp := ListenPacket(t, i2.NS, netip.AddrPortFrom(netip.IPv6Unspecified(), 0))
	tests := []struct {
		name string
		from NS
		src  netip.Addr // zero: the kernel's choice
		dst  netip.Addr
	}{
		{"instance to instance v4", i1.NS, netip.Addr{}, i2.Addr4},
		{"instance to instance v6", i1.NS, netip.Addr{}, i2.Addr6},
		{"internet to instance v4", inet.NS, netip.Addr{}, i2.Addr4},
		{"internet to instance v6", inet.NS, netip.Addr{}, i2.Addr6},
		{"internet peer address v4", inet.NS, addr("198.51.100.77"), i2.Addr4},
		{"internet peer address v6", inet.NS, addr("2001:db8:f::77"), i2.Addr6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var src netip.AddrPort
			if tc.src.IsValid() {
				src = netip.AddrPortFrom(tc.src, 0)
			}
			if got, err := DialTCPFrom(tc.from, src, netip.AddrPortFrom(tc.dst, tcp.Port()), probeTimeout); err != nil || got != Reached {
				t.Errorf("DialTCP(%v) = %v, %v; want reached", tc.dst, got, err)
			}
			if got, err := UDPRoundTripFrom(tc.from, src, netip.AddrPortFrom(tc.dst, udp.Port()), []byte("hello"), probeTimeout); err != nil || got != Reached {
				t.Errorf("UDPRoundTrip(%v) = %v, %v; want reached", tc.dst, got, err)
			}
			if got, err := PingFrom(tc.from, tc.src, tc.dst, probeTimeout); err != nil || got != Reached {
				t.Errorf("Ping(%v) = %v, %v; want reached", tc.dst, got, err)
			}
		})
	}
	if !peerSeen(tcp.Peers(), addr("198.51.100.77")) || !peerSeen(udp.Peers(), addr("2001:db8:f::77")) {
		t.Errorf("servers did not see the internet peer addresses: tcp %v, udp %v", tcp.Peers(), udp.Peers())
	}
}

func peerSeen(peers []netip.AddrPort, a netip.Addr) bool {
	for _, p := range peers {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

func TestProbesReportRefusedAndTimedOut(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	closed := netip.AddrPortFrom(i2.Addr4, 9) // nothing listens
	if got, err := DialTCP(i1.NS, closed, probeTimeout); err != nil || got != Refused {
		t.Errorf("DialTCP(%v) = %v, %v; want refused", closed, got, err)
	}
	if got, err := UDPRoundTrip(i1.NS, closed, []byte("x"), probeTimeout); err != nil || got != Refused {
		t.Errorf("UDPRoundTrip(%v) = %v, %v; want refused", closed, got, err)
	}
	// An address routed nowhere from the internet namespace's view is
	// answered by nobody: the host routes 198.51.100.0/24 to the internet
	// namespace, whose local route accepts it, so use an unrouted one.
	nowhere := addr("192.0.2.9")
	if got, err := Ping(i1.NS, nowhere, 300*time.Millisecond); err != nil || got != Unreachable {
		t.Errorf("Ping(%v) = %v, %v; want unreachable (host has no route)", nowhere, got, err)
	}
}

func TestNewReplacesLeftoverOfCrashedRun(t *testing.T) {
	Require(t)
	t.Parallel()
	prefix := fmt.Sprintf("ntfixed%d", os.Getpid())
	// A crashed run with the same prefix left its host namespace, with an
	// interface of the name New is about to create.
	left := NS(prefix + "-host")
	if err := runIP("netns", "add", string(left)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = removeNS(left) })
	if err := runIP("-n", string(left), "link", "add", "tap1.100", "type", "veth", "peer", "name", "old"); err != nil {
		t.Fatal(err)
	}
	tp := New(t, Options{Prefix: prefix, HostIfNames: []string{"tap1.100"}})
	if got, err := Ping(tp.Instance(1).NS, tp.Internet.Addr4, probeTimeout); err != nil || got != Reached {
		t.Errorf("Ping through the rebuilt topology = %v, %v; want reached", got, err)
	}
}

func TestSweepRemovesNamespacesOfDeadRuns(t *testing.T) {
	Require(t)
	// Pid 1 runs; no pid is above the kernel's maximum of 4194304.
	dead, live := NS("nt999999999x00beef-host"), NS("nt1x00beef-host")
	for _, ns := range []NS{dead, live} {
		if err := runIP("netns", "add", string(ns)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = removeNS(ns) })
	}
	sweepStale(0)
	if _, err := os.Stat(dead.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace %s of a dead process survived the sweep (stat: %v)", dead, err)
	}
	if _, err := os.Stat(live.Path()); err != nil {
		t.Errorf("namespace %s of a live process was swept: %v", live, err)
	}
}

func TestOptionsRejectBadInput(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"too many instances", Options{Instances: MaxInstances + 1}},
		{"negative instances", Options{Instances: -1}},
		{"name count", Options{Instances: 2, HostIfNames: []string{"tap1"}}},
		{"long interface name", Options{HostIfNames: []string{"averyverylongname"}}},
		{"slash in interface name", Options{HostIfNames: []string{"a/b"}}},
		{"duplicate interface name", Options{Instances: 2, HostIfNames: []string{"a", "a"}}},
		{"uplink clash", Options{HostIfNames: []string{"uplink"}}},
		{"bad prefix", Options{Prefix: "Has/Slash"}},
		{"host bits", Options{InternetPrefixes: []netip.Prefix{pfx("198.51.100.1/24")}}},
		{"overlap", Options{InternetPrefixes: []netip.Prefix{pfx("10.1.0.0/16")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tp, err := plan(tc.o); err == nil {
				t.Errorf("plan(%+v) = %+v, want an error", tc.o, tp)
			}
		})
	}
	tp, err := plan(Options{Instances: 3, HostIfNames: []string{"vm-a", "vm-b", "vm-c"}})
	if err != nil {
		t.Fatal(err)
	}
	if in := tp.Instance(3); in.HostIf != "vm-c" || in.Addr4 != addr("10.1.3.2") || in.Gateway6 != addr("fd00:1:3::1") {
		t.Errorf("instance 3 = %+v", in)
	}
}
