package regions

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// u128 is an address of either family as a number: IPv4 in the low 32
// bits.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	switch {
	case a.hi < b.hi || a.hi == b.hi && a.lo < b.lo:
		return -1
	case a == b:
		return 0
	}
	return 1
}

func (a u128) next() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

func (a u128) prev() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func fromAddr(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) addr(is6 bool) netip.Addr {
	if !is6 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(a.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return netip.AddrFrom16(b)
}

func maxAddr(is6 bool) u128 {
	if is6 {
		return u128{^uint64(0), ^uint64(0)}
	}
	return u128{0, 1<<32 - 1}
}

// leafRange is a run of elementary address intervals, first to last.
type leafRange struct{ l, r int32 }

// family holds one family's entries cut along the elementary intervals
// of the address dimension: the intervals between consecutive boundaries
// of the entries' address ranges.
type family struct {
	entries []rules.Entry
	is6     bool
	union   bool
	bounds  []u128        // leaf i is bounds[i] to bounds[i+1]-1 (the last, to the family's last address)
	leaves  [][]leafRange // each entry's addresses, as leaves; nil when it has none of the family
}

func newFamily(entries []rules.Entry, is6, union bool) *family {
	f := &family{entries: entries, is6: is6, union: union, leaves: make([][]leafRange, len(entries))}
	top := maxAddr(is6)
	type span struct{ lo, hi u128 }
	spans := make([][]span, len(entries))
	f.bounds = append(f.bounds, u128{})
	for i := range entries {
		set := entries[i].V4
		if is6 {
			set = entries[i].V6
		}
		if set == nil {
			continue
		}
		for _, r := range set.Ranges() {
			s := span{fromAddr(r.From()), fromAddr(r.To())}
			spans[i] = append(spans[i], s)
			f.bounds = append(f.bounds, s.lo)
			if s.hi != top {
				f.bounds = append(f.bounds, s.hi.next())
			}
		}
	}
	slices.SortFunc(f.bounds, u128.cmp)
	f.bounds = slices.Compact(f.bounds)
	leaf := func(a u128) int32 {
		i, _ := slices.BinarySearchFunc(f.bounds, a, u128.cmp)
		return int32(i)
	}
	for i, ss := range spans {
		for _, s := range ss {
			hi := int32(len(f.bounds) - 1)
			if s.hi != top {
				hi = leaf(s.hi.next()) - 1
			}
			f.leaves[i] = append(f.leaves[i], leafRange{leaf(s.lo), hi})
		}
	}
	return f
}

// class is one protocol interval of a slice whose protocols all match the
// same entries the same way, and the boxes found for it.
type class struct {
	lo, hi uint8
	named  bool // a protocol some entry names, not those none does
	boxes  []box
}

// box is a region in leaves and ports, before it is given its protocols
// and addresses.
type box struct {
	plo, phi uint16
	l, r     int32
	owner    int32
}

// rect is one rectangle of an entry in a class: a port range times a run of
// leaves.
type rect struct {
	plo, phi uint16
	lr       leafRange
	prio     int32
}

// portRanges returns the destination ports at which entry e matches
// protocol proto in f's family, merged, or nil. In the slices without
// ports, a match is the single port 0.
func (f *family) portRanges(e *rules.Entry, proto uint8, ports bool) []policy.PortRange {
	every := policy.PortRange{Lo: 0, Hi: 65535}
	if !ports {
		every = policy.PortRange{}
	}
	var out []policy.PortRange
	for _, s := range e.Services {
		v4, v6 := s.Protocol.Families()
		if f.is6 && !v6 || !f.is6 && !v4 {
			continue
		}
		n, named := s.Protocol.Number()
		switch {
		case !named: // ALL
			return []policy.PortRange{every}
		case n != proto:
		case !ports || s.Ports.All():
			return []policy.PortRange{every}
		default:
			out = append(out, s.Ports.Ranges()...)
		}
	}
	slices.SortFunc(out, func(a, b policy.PortRange) int { return int(a.Lo) - int(b.Lo) })
	merged := out[:0]
	for _, r := range out {
		if k := len(merged); k > 0 && uint32(r.Lo) <= uint32(merged[k-1].Hi)+1 {
			merged[k-1].Hi = max(merged[k-1].Hi, r.Hi)
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// rects returns the rectangles of every entry for protocol proto; for the
// slices without ports and proto < 0, of the entries matching every
// protocol (the class of the protocols no entry names).
func (f *family) rects(proto int, ports bool) []rect {
	var out []rect
	for i := range f.entries {
		if len(f.leaves[i]) == 0 {
			continue
		}
		e := &f.entries[i]
		var prs []policy.PortRange
		if proto < 0 {
			for _, s := range e.Services {
				if v4, v6 := s.Protocol.Families(); s.Protocol == policy.AnyProtocol && (f.is6 && v6 || !f.is6 && v4) {
					prs = []policy.PortRange{{}}
				}
			}
		} else {
			prs = f.portRanges(e, uint8(proto), ports)
		}
		for _, pr := range prs {
			for _, lr := range f.leaves[i] {
				out = append(out, rect{plo: pr.Lo, phi: pr.Hi, lr: lr, prio: int32(i)})
			}
		}
	}
	return out
}

// named returns the protocols without ports some entry names in f's family.
func (f *family) named() []uint8 {
	var out []uint8
	for i := range f.entries {
		if len(f.leaves[i]) == 0 {
			continue
		}
		for _, s := range f.entries[i].Services {
			v4, v6 := s.Protocol.Families()
			if n, ok := s.Protocol.Number(); ok && !s.Protocol.HasPorts() && (f.is6 && v6 || !f.is6 && v4) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// regions returns the regions of both slices of the family, or false when
// they exceed limit.
func (f *family) regions(limit int) (ports, noPorts []Region, ok bool) {
	if limit < 0 {
		return nil, nil, false
	}
	sw := newSweeper(len(f.bounds), f.union)
	var cls []class
	for _, p := range []uint8{policy.NumTCP, policy.NumUDP} {
		bs, ok := sw.run(f.rects(int(p), true), 65535, limit)
		if !ok {
			return nil, nil, false
		}
		cls = append(cls, class{lo: p, hi: p, boxes: bs})
	}
	ports, ok = f.merge(cls, true, limit)
	if !ok {
		return nil, nil, false
	}
	limit -= len(ports)

	named := f.named()
	var rest []box
	restDone := false
	cls = cls[:0]
	for p := 0; p < 256; p++ {
		switch {
		case p == int(policy.NumTCP) || p == int(policy.NumUDP):
			continue
		case slices.Contains(named, uint8(p)):
			bs, ok := sw.run(f.rects(p, false), 0, limit)
			if !ok {
				return nil, nil, false
			}
			cls = append(cls, class{lo: uint8(p), hi: uint8(p), named: true, boxes: bs})
			continue
		}
		if k := len(cls); k > 0 && !cls[k-1].named {
			cls[k-1].hi = uint8(p) // one class for consecutive protocols no entry names
			continue
		}
		if !restDone {
			bs, ok := sw.run(f.rects(-1, false), 0, limit)
			if !ok {
				return nil, nil, false
			}
			rest, restDone = bs, true
		}
		cls = append(cls, class{lo: uint8(p), hi: uint8(p), boxes: rest})
	}
	noPorts, ok = f.merge(cls, false, limit)
	return ports, noPorts, ok
}

// merge turns the boxes of consecutive classes into regions, one region
// for a box found in consecutive classes, then merges regions adjacent in
// addresses with the same protocols, ports and owner. It reports false
// when there are more than limit regions.
func (f *family) merge(cls []class, ports bool, limit int) ([]Region, bool) {
	var out []Region
	last := map[box]int{}
	for ci, c := range cls {
		next := make(map[box]int, len(c.boxes))
		for _, b := range c.boxes {
			if i, ok := last[b]; ok && ci > 0 {
				if n, ok := nextProto(out[i].ProtoHi, ports); ok && n == c.lo {
					out[i].ProtoHi = c.hi
					next[b] = i
					continue
				}
			}
			out = append(out, Region{
				ProtoLo: c.lo, ProtoHi: c.hi, PortLo: b.plo, PortHi: b.phi,
				AddrLo: f.bounds[b.l].addr(f.is6), AddrHi: f.leafEnd(b.r).addr(f.is6),
				Owner: int(b.owner),
			})
			next[b] = len(out) - 1
		}
		last = next
	}
	// Merge neighbours in the address dimension, then in the port
	// dimension (which the address merges can make possible).
	merged := mergeAddrs(out)
	merged = mergePorts(merged)
	if len(merged) > limit {
		return nil, false
	}
	sortRegions(merged)
	return merged, true
}

// leafEnd returns the last address of leaf i.
func (f *family) leafEnd(i int32) u128 {
	if int(i)+1 < len(f.bounds) {
		return f.bounds[i+1].prev()
	}
	return maxAddr(f.is6)
}

// mergeAddrs merges regions that differ only in adjacent address ranges.
func mergeAddrs(rs []Region) []Region {
	slices.SortFunc(rs, func(a, b Region) int {
		switch {
		case a.ProtoLo != b.ProtoLo:
			return int(a.ProtoLo) - int(b.ProtoLo)
		case a.ProtoHi != b.ProtoHi:
			return int(a.ProtoHi) - int(b.ProtoHi)
		case a.PortLo != b.PortLo:
			return int(a.PortLo) - int(b.PortLo)
		case a.PortHi != b.PortHi:
			return int(a.PortHi) - int(b.PortHi)
		case a.Owner != b.Owner:
			return a.Owner - b.Owner
		}
		return a.AddrLo.Compare(b.AddrLo)
	})
	out := rs[:0]
	for _, r := range rs {
		if k := len(out); k > 0 {
			m := &out[k-1]
			if m.ProtoLo == r.ProtoLo && m.ProtoHi == r.ProtoHi && m.PortLo == r.PortLo && m.PortHi == r.PortHi &&
				m.Owner == r.Owner && m.AddrHi.Next() == r.AddrLo {
				m.AddrHi = r.AddrHi
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// mergePorts merges regions that differ only in adjacent port ranges.
func mergePorts(rs []Region) []Region {
	slices.SortFunc(rs, func(a, b Region) int {
		switch {
		case a.ProtoLo != b.ProtoLo:
			return int(a.ProtoLo) - int(b.ProtoLo)
		case a.ProtoHi != b.ProtoHi:
			return int(a.ProtoHi) - int(b.ProtoHi)
		case a.AddrLo != b.AddrLo:
			return a.AddrLo.Compare(b.AddrLo)
		case a.AddrHi != b.AddrHi:
			return a.AddrHi.Compare(b.AddrHi)
		case a.Owner != b.Owner:
			return a.Owner - b.Owner
		}
		return int(a.PortLo) - int(b.PortLo)
	})
	out := rs[:0]
	for _, r := range rs {
		if k := len(out); k > 0 {
			m := &out[k-1]
			if m.ProtoLo == r.ProtoLo && m.ProtoHi == r.ProtoHi && m.AddrLo == r.AddrLo && m.AddrHi == r.AddrHi &&
				m.Owner == r.Owner && uint32(m.PortHi)+1 == uint32(r.PortLo) {
				m.PortHi = r.PortHi
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
