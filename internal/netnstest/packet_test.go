package netnstest

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestInjectedSpoofedPacketsReachTheForwardHook(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2, inet := tp.Instance(1), tp.Instance(2), tp.Internet
	tests := []struct {
		name  string
		from  NS
		p     Packet
		match string // nft match for the counter rule, besides the addresses
	}{
		{"v4 tcp syn", i1.NS, Packet{Src: addr("198.51.100.9"), Dst: i2.Addr4, Proto: ProtoTCP, SrcPort: 1234, DstPort: 22}, "tcp dport 22 tcp flags syn"},
		{"v4 udp", i1.NS, Packet{Src: addr("10.200.0.1"), Dst: i2.Addr4, Proto: ProtoUDP, SrcPort: 5353, DstPort: 53, Payload: []byte("q")}, "udp sport 5353 udp dport 53"},
		{"v4 icmp echo", i1.NS, Packet{Src: addr("192.0.2.77"), Dst: i2.Addr4, Proto: ProtoICMP}, "icmp type echo-request"},
		{"v4 gre", i1.NS, Packet{Src: addr("100.64.0.1"), Dst: i2.Addr4, Proto: ProtoGRE, Payload: make([]byte, 20)}, "meta l4proto gre"},
		{"v4 protocol 253", inet.NS, Packet{Src: addr("8.8.8.8"), Dst: i1.Addr4, Proto: 253, Payload: []byte("any")}, "meta l4proto 253"},
		{"v4 sctp port", inet.NS, Packet{Src: addr("9.9.9.9"), Dst: i1.Addr4, Proto: ProtoSCTP, SrcPort: 7, DstPort: 9999}, "meta l4proto sctp th dport 9999"},
		{"v6 tcp syn", i1.NS, Packet{Src: addr("2001:db8:f::9"), Dst: i2.Addr6, Proto: ProtoTCP, SrcPort: 1234, DstPort: 443}, "tcp dport 443 tcp flags syn"},
		{"v6 udp", inet.NS, Packet{Src: addr("2001:db8:1234::1"), Dst: i2.Addr6, Proto: ProtoUDP, SrcPort: 9, DstPort: 4789}, "udp dport 4789"},
		{"v6 icmpv6 echo", i1.NS, Packet{Src: addr("fd99::5"), Dst: i2.Addr6, Proto: ProtoICMPv6}, "icmpv6 type echo-request"},
		{"v6 gre", i1.NS, Packet{Src: addr("2001:db8:aaaa::1"), Dst: i2.Addr6, Proto: ProtoGRE}, "meta l4proto gre"},
		{"v6 udplite port", inet.NS, Packet{Src: addr("2001:db8:bbbb::1"), Dst: i1.Addr6, Proto: ProtoUDPLite, SrcPort: 1, DstPort: 65535}, "meta l4proto udplite th dport 65535"},
	}
	var rules, inputRules strings.Builder
	for _, tc := range tests {
		fam := "ip"
		if tc.p.Dst.Is6() {
			fam = "ip6"
		}
		rule := fmt.Sprintf("%s saddr %s %s daddr %s %s counter comment %q\n", fam, tc.p.Src, fam, tc.p.Dst, tc.match, tc.name)
		rules.WriteString("\t\t" + rule)
		inputRules.WriteString("\t\t" + rule)
	}
	counted := "table inet t {\n\tchain %s {\n\t\ttype filter hook %s priority filter; policy accept;\n%s\t}\n}\n"
	if err := LoadNft(tp.Host, fmt.Sprintf(counted, "forward", "forward", rules.String())); err != nil {
		t.Fatal(err)
	}
	// The destinations count what they receive, too.
	for _, ns := range []NS{i1.NS, i2.NS} {
		if err := LoadNft(ns, fmt.Sprintf(counted, "input", "input", inputRules.String())); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range tests {
		if err := Inject(tc.from, tc.p); err != nil {
			t.Fatalf("Inject(%s): %v", tc.name, err)
		}
	}
	dstNS := func(a netip.Addr) NS {
		if a == i1.Addr4 || a == i1.Addr6 {
			return i1.NS
		}
		return i2.NS
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitCount(t, tp.Host, "forward", tc.name, 1); got != 1 {
				t.Errorf("host forward counter %q = %d, want 1", tc.name, got)
			}
			if got := waitCount(t, dstNS(tc.p.Dst), "input", tc.name, 1); got != 1 {
				t.Errorf("destination input counter %q = %d, want 1", tc.name, got)
			}
		})
	}
}

// waitCount polls the packets of the rule commented name in chain inet t
// chain of ns until they reach want or a second passes.
func waitCount(t *testing.T, ns NS, chain, name string, want uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		rs, err := NftJSON(ns)
		if err != nil {
			t.Fatal(err)
		}
		ch := rs.Chain("inet", "t", chain)
		if ch == nil {
			t.Fatalf("no chain inet t %s in %s", chain, ns)
		}
		var got uint64
		for _, r := range ch.Rules {
			if r.Comment == name {
				got = r.Packets()
			}
		}
		if got >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPacketMarshal(t *testing.T) {
	tests := []struct {
		name   string
		p      Packet
		length int
		proto  uint8
	}{
		{"v4 tcp", Packet{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Proto: ProtoTCP, DstPort: 80}, 40, ProtoTCP},
		{"v4 udp payload", Packet{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Proto: ProtoUDP, DstPort: 53, Payload: []byte("abc")}, 31, ProtoUDP},
		{"v4 icmp", Packet{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Proto: ProtoICMP}, 28, ProtoICMP},
		{"v6 tcp", Packet{Src: addr("fd00::1"), Dst: addr("fd00::2"), Proto: ProtoTCP, DstPort: 80}, 60, ProtoTCP},
		{"v6 icmpv6", Packet{Src: addr("fd00::1"), Dst: addr("fd00::2"), Proto: ProtoICMPv6}, 48, ProtoICMPv6},
		{"v6 raw protocol", Packet{Src: addr("fd00::1"), Dst: addr("fd00::2"), Proto: 200, Payload: []byte{1, 2}}, 42, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tc.length {
				t.Fatalf("Marshal() length = %d, want %d", len(b), tc.length)
			}
			var l4 []byte
			var pseudo uint32
			if tc.p.Dst.Is4() {
				if got := checksum(b[:20], 0); got != 0 {
					t.Errorf("ipv4 header checksum does not verify: %#x", got)
				}
				if b[9] != tc.proto || int(binary.BigEndian.Uint16(b[2:])) != tc.length {
					t.Errorf("ipv4 header proto %d length %d", b[9], binary.BigEndian.Uint16(b[2:]))
				}
				l4 = b[20:]
				for i := 12; i < 20; i += 2 {
					pseudo += uint32(binary.BigEndian.Uint16(b[i:]))
				}
			} else {
				if b[6] != tc.proto || int(binary.BigEndian.Uint16(b[4:])) != tc.length-40 {
					t.Errorf("ipv6 header next header %d payload length %d", b[6], binary.BigEndian.Uint16(b[4:]))
				}
				l4 = b[40:]
				for i := 8; i < 40; i += 2 {
					pseudo += uint32(binary.BigEndian.Uint16(b[i:]))
				}
			}
			pseudo += uint32(tc.proto) + uint32(len(l4))
			switch tc.proto {
			case ProtoTCP, ProtoUDP, ProtoICMPv6:
				if got := checksum(l4, pseudo); got != 0 {
					t.Errorf("transport checksum does not verify: %#x", got)
				}
				if tc.proto != ProtoICMPv6 && binary.BigEndian.Uint16(l4[2:]) != tc.p.DstPort {
					t.Errorf("destination port %d, want %d", binary.BigEndian.Uint16(l4[2:]), tc.p.DstPort)
				}
			case ProtoICMP:
				if got := checksum(l4, 0); got != 0 || l4[0] != icmp4Echo {
					t.Errorf("icmp type %d checksum %#x", l4[0], got)
				}
			}
		})
	}
	for _, bad := range []Packet{
		{Dst: addr("10.0.0.2"), Proto: ProtoUDP},
		{Src: addr("fd00::1"), Dst: addr("10.0.0.2"), Proto: ProtoUDP},
		{Src: addr("fd00::1"), Dst: addr("fd00::2"), Proto: ProtoICMP},
		{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Proto: ProtoICMPv6},
	} {
		if _, err := bad.Marshal(); err == nil {
			t.Errorf("Marshal(%+v) succeeded, want an error", bad)
		}
	}
}
