package classbench

import (
	"math/rand/v2"
	"net/netip"

	"github.com/palisade-sg/palisade/internal/eval"
)

// Packets returns n packet headers generated deterministically from seed:
// even-numbered packets lie inside the box of a rule chosen uniformly at
// random (every field drawn uniformly within the rule's field, a wildcard
// protocol drawn from 0-255), odd-numbered ones are uniformly random headers
// of the family of a randomly chosen rule. With no rules it returns uniformly
// random IPv4 headers.
func Packets(rules []eval.Rule, n int, seed uint64) []eval.Packet {
	rng := rand.New(rand.NewPCG(seed, 0x70616c6973616465))
	pkts := make([]eval.Packet, n)
	for i := range pkts {
		var r *eval.Rule
		if len(rules) > 0 {
			r = &rules[rng.IntN(len(rules))]
		}
		if i%2 == 0 && r != nil {
			pkts[i] = InBox(rng, r)
			continue
		}
		v6 := r != nil && r.Src.Addr().Is6()
		pkts[i] = eval.Packet{
			Src:     randomAddr(rng, v6),
			Dst:     randomAddr(rng, v6),
			SrcPort: uint16(rng.Uint32()),
			DstPort: uint16(rng.Uint32()),
			Proto:   uint8(rng.Uint32()),
		}
	}
	return pkts
}

// InBox returns a random packet matching every field of r.
func InBox(rng *rand.Rand, r *eval.Rule) eval.Packet {
	p := eval.Packet{
		Src:     inPrefix(rng, r.Src),
		Dst:     inPrefix(rng, r.Dst),
		SrcPort: inRange(rng, r.SrcPorts),
		DstPort: inRange(rng, r.DstPorts),
		Proto:   uint8(rng.Uint32()),
	}
	if r.Proto != eval.AnyProto {
		p.Proto = uint8(r.Proto)
	}
	return p
}

func randomAddr(rng *rand.Rand, v6 bool) netip.Addr {
	if v6 {
		return inPrefix(rng, netip.PrefixFrom(netip.IPv6Unspecified(), 0))
	}
	return inPrefix(rng, netip.PrefixFrom(netip.IPv4Unspecified(), 0))
}

// inPrefix returns an address of p, uniformly at random.
func inPrefix(rng *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().AsSlice()
	for i := range a {
		bit := i * 8
		switch keep := p.Bits() - bit; {
		case keep >= 8:
		case keep <= 0:
			a[i] = byte(rng.Uint32())
		default:
			m := byte(0xff) << (8 - keep)
			a[i] = a[i]&m | byte(rng.Uint32())&^m
		}
	}
	addr, _ := netip.AddrFromSlice(a)
	return addr
}

func inRange(rng *rand.Rand, r eval.PortRange) uint16 {
	return r.Lo + uint16(rng.Uint32N(uint32(r.Hi-r.Lo)+1))
}
