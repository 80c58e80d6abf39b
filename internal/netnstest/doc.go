// Package netnstest builds throwaway network topologies out of Linux network
// namespaces for integration tests that need real packets through a real
// kernel.
//
// New creates a host namespace that routes between instance namespaces and
// one internet namespace, and removes them all when the test ends:
//
//	tp := netnstest.New(t, netnstest.Options{
//		Instances:        2,
//		HostIfNames:      []string{"tap1", "tap2"},
//		InternetPrefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
//	})
//	srv := netnstest.Listen(t, tp.Instance(1).NS, netip.AddrPortFrom(netip.IPv6Unspecified(), 80))
//	if err := netnstest.LoadNft(tp.Host, ruleset); err != nil { … }
//	got, err := netnstest.DialTCP(tp.Instance(2).NS, netip.AddrPortFrom(tp.Instance(1).Addr4, srv.Port()), time.Second)
//
// Each instance has a veth pair to the host (host side named by the caller,
// instance side "eth0"), 10.1.N.0/24 and fd00:1:N::/64 with the host at .1 and
// ::1 and the instance at .2 and ::2, and default routes via the host. The
// internet namespace sits behind the host's "uplink" on 203.0.113.0/24 and
// 2001:db8:ffff::/64 and may own extra prefixes. The host forwards IPv4 and
// IPv6 and has rp_filter off, so packets with any source address reach its
// forward hook. Namespace names start with a random token carrying the
// process id, which lets New remove what a crashed run left behind.
//
// From the test process, Do runs a function on a thread inside a namespace;
// sockets opened there stay in it. The probes (DialTCP, Connect,
// UDPRoundTrip, Ping), the echo servers (Listen, ListenPacket), the packet
// injector (Inject, Injector: IPv4 and IPv6 packets with arbitrary sources
// and protocols through raw sockets), the packet capture (NewCapture: what
// arrives on an interface, so a test sees which injected packets the host
// forwarded) and the rate measurement (MeasureRate, CompareRates) are built
// on it. Exec, LoadNft, NftJSON, Conntrack and
// IptablesSave run the command-line tools inside a namespace.
//
// It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), a writable /run, and the
// ip (iproute2) and nft (nftables) commands; Conntrack needs conntrack,
// IptablesSave iptables, and the RateIperf3 tool iperf3. It sets sysctls only
// inside the namespaces it creates. Without root, ip or nft a test calling
// New or Require is skipped, unless PALISADE_KERNEL_TESTS=1, in which case it
// fails.
package netnstest
