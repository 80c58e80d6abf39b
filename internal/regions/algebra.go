package regions

import (
	"fmt"
	"net/netip"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Accepted returns the regions of r (the regions of l, from Compute) whose
// owner accepts: the packets l admits, each region keeping its owner. It
// fails on a truncated result or an owner that is not an entry of l.
func Accepted(r *Result, l rules.List) (*Result, error) {
	if r.Truncated {
		return nil, fmt.Errorf("accepted space of a truncated result")
	}
	keep := func(s []Region) ([]Region, error) {
		var out []Region
		for _, g := range s {
			if g.Owner < 0 || g.Owner >= len(l.Entries) {
				return nil, fmt.Errorf("region owned by %d, not an entry of a list of %d", g.Owner, len(l.Entries))
			}
			if l.Entries[g.Owner].Action == policy.Accept {
				out = append(out, g)
			}
		}
		return out, nil
	}
	out := &Result{}
	var err error
	for _, p := range []struct {
		dst *[]Region
		src []Region
	}{{&out.V4Ports, r.V4Ports}, {&out.V4NoPorts, r.V4NoPorts}, {&out.V6Ports, r.V6Ports}, {&out.V6NoPorts, r.V6NoPorts}} {
		if *p.dst, err = keep(p.src); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Subtract returns the packets in a and not in b, exactly, as disjoint
// regions per slice, each keeping the owner of the region of a it was cut
// from; regions of one owner that only differ in adjacent port or address
// ranges are merged. The regions of each slice of a and of b must be
// disjoint (as Compute, Accepted and Subtract give them). It fails on a
// truncated operand.
func Subtract(a, b *Result) (*Result, error) {
	if a.Truncated || b.Truncated {
		return nil, fmt.Errorf("subtract a truncated result")
	}
	return &Result{
		V4Ports:   subtractSlice(a.V4Ports, b.V4Ports, true),
		V4NoPorts: subtractSlice(a.V4NoPorts, b.V4NoPorts, false),
		V6Ports:   subtractSlice(a.V6Ports, b.V6Ports, true),
		V6NoPorts: subtractSlice(a.V6NoPorts, b.V6NoPorts, false),
	}, nil
}

// subtractSlice returns as minus bs, regions of one slice.
func subtractSlice(as, bs []Region, ports bool) []Region {
	var out []Region
	pieces := make([]Region, 0, 8)
	next := make([]Region, 0, 8)
	for _, a := range as {
		pieces = append(pieces[:0], a)
		for _, b := range bs {
			next = next[:0]
			for _, p := range pieces {
				next = cutBox(next, p, b, ports)
			}
			pieces, next = next, pieces
			if len(pieces) == 0 {
				break
			}
		}
		out = append(out, pieces...)
	}
	if len(out) == 0 {
		return nil
	}
	out = mergeAddrs(mergePorts(out))
	sortRegions(out)
	return out
}

// cutBox appends to dst the parts of p outside b: p itself when they do
// not overlap, otherwise up to six disjoint boxes (below and above b's
// address range, then, within it, its protocol range, then, within both,
// its port range).
func cutBox(dst []Region, p, b Region, ports bool) []Region {
	if !overlap(p, b) {
		return append(dst, p)
	}
	if p.AddrLo.Less(b.AddrLo) {
		q := p
		q.AddrHi = b.AddrLo.Prev()
		dst = append(dst, q)
	}
	if b.AddrHi.Less(p.AddrHi) {
		q := p
		q.AddrLo = b.AddrHi.Next()
		dst = append(dst, q)
	}
	mid := p
	mid.AddrLo, mid.AddrHi = maxAddrOf(p.AddrLo, b.AddrLo), minAddrOf(p.AddrHi, b.AddrHi)
	if p.ProtoLo < b.ProtoLo {
		if prev, ok := prevProto(b.ProtoLo, ports); ok && prev >= p.ProtoLo {
			q := mid
			q.ProtoHi = prev
			dst = append(dst, q)
		}
	}
	if b.ProtoHi < p.ProtoHi {
		if nxt, ok := nextProto(b.ProtoHi, ports); ok && nxt <= p.ProtoHi {
			q := mid
			q.ProtoLo = nxt
			dst = append(dst, q)
		}
	}
	mid.ProtoLo, mid.ProtoHi = max(p.ProtoLo, b.ProtoLo), min(p.ProtoHi, b.ProtoHi)
	if p.PortLo < b.PortLo {
		q := mid
		q.PortHi = b.PortLo - 1
		dst = append(dst, q)
	}
	if b.PortHi < p.PortHi {
		q := mid
		q.PortLo = b.PortHi + 1
		dst = append(dst, q)
	}
	return dst
}

// overlap reports whether boxes a and b of one slice share a packet.
func overlap(a, b Region) bool {
	return a.ProtoLo <= b.ProtoHi && b.ProtoLo <= a.ProtoHi &&
		a.PortLo <= b.PortHi && b.PortLo <= a.PortHi &&
		a.AddrLo.Compare(b.AddrHi) <= 0 && b.AddrLo.Compare(a.AddrHi) <= 0
}

// prevProto returns the protocol before p in a slice's protocol space (see
// nextProto), and false before the first.
func prevProto(p uint8, ports bool) (uint8, bool) {
	if ports {
		return policy.NumTCP, p == policy.NumUDP
	}
	for p > 0 {
		p--
		if p != policy.NumTCP && p != policy.NumUDP {
			return p, true
		}
	}
	return 0, false
}

func maxAddrOf(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return b
	}
	return a
}

func minAddrOf(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return a
	}
	return b
}
