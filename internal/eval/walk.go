package eval

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/palisade-sg/palisade/internal/policy"
)

// walk is the compact form of an effective list: for each entry, in order,
// the services it matches (protocol, families and destination port range)
// and the addresses of its peers as sorted, merged ranges per family. A
// decision tries the entries in order: a few comparisons for the services,
// then a binary search of the ranges. Building it costs time linear in the
// list and its addresses (plus sorting each address set once); entries
// naming the same reference or service template share its ranges or
// services.
type walk struct {
	steps []step // one per entry
	svcs  []svc
	r4    []range4
	r6    []range6
}

// step is one entry: svcs[s0:s1], r4[a0:a1] and r6[b0:b1].
type step struct {
	s0, s1, a0, a1, b0, b1 uint32
}

// Address families of a service, as bits.
const (
	fam4 uint8 = 1 << iota
	fam6
)

// svc is one service of an entry: a protocol in some families, and the
// destination ports it matches (0-65535 for protocols without ports).
type svc struct {
	proto  Proto
	fam    uint8
	lo, hi uint16
}

type range4 struct{ lo, hi uint32 }

type range6 struct{ lo, hi [2]uint64 }

func less6(a, b [2]uint64) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }

// key is a normalised query in the walk's terms; an invalid peer gives
// the zero key, which callers must not match.
type key struct {
	is6   bool
	a4    uint32
	a6    [2]uint64
	proto uint8
	port  uint16
}

func newKey(q Query) key {
	k := key{is6: q.Peer.Is6(), proto: q.Proto, port: q.Port}
	switch {
	case k.is6:
		k.a6 = split16(q.Peer.As16())
	case q.Peer.Is4():
		a := q.Peer.As4()
		k.a4 = binary.BigEndian.Uint32(a[:])
	}
	return k
}

// matches reports whether entry i matches k.
func (w *walk) matches(i int, k key) bool {
	st := &w.steps[i]
	fam := fam4
	if k.is6 {
		fam = fam6
	}
	ok := false
	for _, s := range w.svcs[st.s0:st.s1] {
		if s.fam&fam != 0 && s.proto.Matches(k.proto) && s.lo <= k.port && k.port <= s.hi {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	if k.is6 {
		return contains6(w.r6[st.b0:st.b1], k.a6)
	}
	return contains4(w.r4[st.a0:st.a1], k.a4)
}

// contains4 reports whether a lies in one of the sorted, disjoint ranges.
func contains4(rs []range4, a uint32) bool {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rs[m].lo <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && a <= rs[lo-1].hi
}

func contains6(rs []range6, a [2]uint64) bool {
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !less6(a, rs[m].lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && !less6(rs[lo-1].hi, a)
}

// walkBuilder builds a walk, sharing the ranges of each reference and the
// services of each service template among the entries that name them.
type walkBuilder struct {
	w     walk
	addrs map[string][4]uint32 // reference id → a0, a1, b0, b1
	svcs  map[string][2]uint32 // service template id → s0, s1
}

func buildWalk(in EffectiveInput, origins []origin) walk {
	b := walkBuilder{w: walk{steps: make([]step, len(origins)), svcs: make([]svc, 0, len(origins)+4)}}
	for i := range origins {
		o := &origins[i]
		st := &b.w.steps[i]
		switch o.group {
		case platformPort25:
			st.s0, st.s1 = b.service(policy.TCP, policy.Ports(policy.PortRange{Lo: 25, Hi: 25}))
			st.a0, st.a1, st.b0, st.b1 = b.prefixes(everywhere(false), everywhere(true))
		case platformAddress:
			st.s0, st.s1 = b.service(policy.AnyProtocol, policy.AllPorts())
			st.a0, st.a1, st.b0, st.b1 = b.prefixes(o.prefix)
		default:
			p := &o.policy
			if p.ServiceID != "" {
				st.s0, st.s1 = b.template(p.ServiceID, in.Services[p.ServiceID])
			} else {
				st.s0, st.s1 = b.service(p.Protocol, p.Ports)
			}
			if p.Peer.IsReference() {
				st.a0, st.a1, st.b0, st.b1 = b.reference(p.Peer.ID, in.Addresses[p.Peer.ID])
			} else {
				st.a0, st.a1, st.b0, st.b1 = b.prefixes(p.Peer.Prefix)
			}
		}
	}
	return b.w
}

// template returns the services of a service template, added once.
func (b *walkBuilder) template(id string, services []Service) (uint32, uint32) {
	if r, ok := b.svcs[id]; ok {
		return r[0], r[1]
	}
	s0 := uint32(len(b.w.svcs))
	for _, s := range services {
		b.service(s.Protocol, s.Ports)
	}
	s1 := uint32(len(b.w.svcs))
	if b.svcs == nil {
		b.svcs = make(map[string][2]uint32)
	}
	b.svcs[id] = [2]uint32{s0, s1}
	return s0, s1
}

// service appends one protocol's services: one per port range.
func (b *walkBuilder) service(p policy.Protocol, ports policy.PortSet) (uint32, uint32) {
	s0 := uint32(len(b.w.svcs))
	v4, v6 := p.Families()
	s := svc{proto: AnyProto, lo: 0, hi: 65535}
	if v4 {
		s.fam |= fam4
	}
	if v6 {
		s.fam |= fam6
	}
	if n, ok := p.Number(); ok {
		s.proto = Proto(n)
	}
	if p.HasPorts() && !ports.All() {
		for _, r := range ports.Ranges() {
			s.lo, s.hi = r.Lo, r.Hi
			b.w.svcs = append(b.w.svcs, s)
		}
	} else {
		b.w.svcs = append(b.w.svcs, s)
	}
	return s0, uint32(len(b.w.svcs))
}

// reference returns the ranges of a referenced address set, added once.
func (b *walkBuilder) reference(id string, ps []netip.Prefix) (uint32, uint32, uint32, uint32) {
	if r, ok := b.addrs[id]; ok {
		return r[0], r[1], r[2], r[3]
	}
	a0, a1, b0, b1 := b.prefixes(ps...)
	if b.addrs == nil {
		b.addrs = make(map[string][4]uint32)
	}
	b.addrs[id] = [4]uint32{a0, a1, b0, b1}
	return a0, a1, b0, b1
}

// prefixes appends the ranges of a set of prefixes, sorted and merged per
// family; invalid prefixes are skipped.
func (b *walkBuilder) prefixes(ps ...netip.Prefix) (a0, a1, b0, b1 uint32) {
	w := &b.w
	a0, b0 = uint32(len(w.r4)), uint32(len(w.r6))
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		p = p.Masked()
		if p.Addr().Is4() {
			a := p.Addr().As4()
			lo := binary.BigEndian.Uint32(a[:])
			w.r4 = append(w.r4, range4{lo, lo | ^uint32(0)>>p.Bits()})
		} else {
			lo := split16(p.Addr().As16())
			m := masks6(uint8(p.Bits()))
			w.r6 = append(w.r6, range6{lo, [2]uint64{lo[0] | ^m[0], lo[1] | ^m[1]}})
		}
	}
	w.r4 = append(w.r4[:a0], merge4(w.r4[a0:])...)
	w.r6 = append(w.r6[:b0], merge6(w.r6[b0:])...)
	return a0, uint32(len(w.r4)), b0, uint32(len(w.r6))
}

// merge4 sorts rs and merges overlapping and adjacent ranges, in place.
func merge4(rs []range4) []range4 {
	if len(rs) < 2 {
		return rs
	}
	slices.SortFunc(rs, func(x, y range4) int { return cmp.Compare(x.lo, y.lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last.hi == ^uint32(0) || r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

func merge6(rs []range6) []range6 {
	if len(rs) < 2 {
		return rs
	}
	slices.SortFunc(rs, func(x, y range6) int {
		if less6(x.lo, y.lo) {
			return -1
		}
		if less6(y.lo, x.lo) {
			return 1
		}
		return 0
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if next, ok := inc6(last.hi); !ok || !less6(next, r.lo) {
			if less6(last.hi, r.hi) {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// inc6 returns a+1, and false if a is the last address.
func inc6(a [2]uint64) ([2]uint64, bool) {
	if a[1] != ^uint64(0) {
		return [2]uint64{a[0], a[1] + 1}, true
	}
	if a[0] != ^uint64(0) {
		return [2]uint64{a[0] + 1, 0}, true
	}
	return a, false
}
