package guestfw

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
)

// load parses a sample from testdata by its name: .nft files as nft list
// ruleset, ip6tables.* as ip6tables-save, the rest as iptables-save.
func load(t testing.TB, name string) *Ruleset {
	t.Helper()
	b := mustRead(t, name)
	var rs *Ruleset
	var err error
	switch {
	case strings.HasSuffix(name, ".nft"):
		rs, err = ParseNft(string(b))
	case strings.HasPrefix(name, "ip6tables"):
		rs, err = ParseIp6tablesSave(string(b))
	default:
		rs, err = ParseIptablesSave(string(b))
	}
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return rs
}

// pkt builds a new-connection packet: "in tcp 203.0.113.5 10.0.0.5 22".
func pkt(s string) Packet {
	f := strings.Fields(s)
	p := Packet{Direction: Inbound, New: true}
	if f[0] == "out" {
		p.Direction = Outbound
	}
	p.Protocol = policy.MustParseProtocol(f[1])
	p.Src, p.Dst = netip.MustParseAddr(f[2]), netip.MustParseAddr(f[3])
	for _, opt := range f[4:] {
		switch k, v, _ := strings.Cut(opt, "="); k {
		case "sport":
			p.SrcPort = port(v)
		case "type":
			p.ICMPType, p.HasICMPType = uint8(port(v)), true
		case "est":
			p.New = false
		case "if":
			p.Interface = v
		default:
			p.DstPort = port(k)
		}
	}
	return p
}

func port(s string) uint16 {
	var n uint16
	for _, c := range s {
		n = n*10 + uint16(c-'0')
	}
	return n
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
