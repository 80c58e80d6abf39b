package eval

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// walk is the compact form of an effective list: for each entry, in order,
// the services it matches (protocol, families and destination port range)
// and the addresses of its peers as the sorted, merged ranges of its
// netipx.IPSet per family. A decision tries the entries in order: a few
// comparisons for the services, then a binary search of the ranges.
// Building it costs time linear in the list and its addresses; entries
// sharing an address set or a services slice (one reference, one service
// template) share its ranges or services.
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

// walkBuilder builds a walk, sharing the ranges of each address set and the
// services of each services slice among the entries that hold them (the
// entries of one reference or one service template).
type walkBuilder struct {
	w    walk
	sets map[*netipx.IPSet][2]uint32 // address set → its ranges in r4 or r6
	svcs map[servicesKey][2]uint32   // services slice → s0, s1
	// copies are the ranges of another walk copied (see copyStep).
	copies map[copiedKey][2]uint32
}

// servicesKey names a services slice: its first element and length.
type servicesKey struct {
	first *rules.Service
	n     int
}

// buildWalk builds the walk of a list's entries. It fails on an address set
// holding the other family, naming every such entry.
func buildWalk(entries []rules.Entry) (walk, error) {
	b := walkBuilder{w: walk{steps: make([]step, len(entries)), svcs: make([]svc, 0, len(entries)+4)}}
	var errs []error
	for i := range entries {
		errs = b.add(i, &entries[i], errs)
	}
	return b.w, errors.Join(errs...)
}

// add builds step i, of entry en, appending to errs why it cannot.
func (b *walkBuilder) add(i int, en *rules.Entry, errs []error) []error {
	st := &b.w.steps[i]
	st.s0, st.s1 = b.services(en.Services)
	var ok4, ok6 bool
	shared := en.Source.Kind != rules.SourceCIDR // a reference's sets may recur
	st.a0, st.a1, ok4 = b.set(en, false, shared)
	st.b0, st.b1, ok6 = b.set(en, true, shared)
	if !ok4 {
		errs = append(errs, fmt.Errorf("entry %d: IPv6 addresses in its IPv4 set", i))
	}
	if !ok6 {
		errs = append(errs, fmt.Errorf("entry %d: IPv4 addresses in its IPv6 set", i))
	}
	return errs
}

// copyStep makes step i a copy of step j of walk from, its services and
// ranges copied once per range of from that several steps read.
func (b *walkBuilder) copyStep(i int, from *walk, j int) {
	st := &from.steps[j]
	w := &b.w
	s0, s1 := copied(b, &w.svcs, from.svcs, st.s0, st.s1, 0)
	a0, a1 := copied(b, &w.r4, from.r4, st.a0, st.a1, 1)
	c0, c1 := copied(b, &w.r6, from.r6, st.b0, st.b1, 2)
	w.steps[i] = step{s0: s0, s1: s1, a0: a0, a1: a1, b0: c0, b1: c1}
}

// copiedKey is a range of one of a walk's arrays: kind 0 services, 1 IPv4
// ranges, 2 IPv6 ranges.
type copiedKey struct {
	kind   uint8
	lo, hi uint32
}

// copied appends src[lo:hi] to *dst and returns where it is, a range of
// more than one element appended once.
func copied[T any](b *walkBuilder, dst *[]T, src []T, lo, hi uint32, kind uint8) (uint32, uint32) {
	n := uint32(len(*dst))
	if lo == hi {
		return n, n
	}
	k := copiedKey{kind, lo, hi}
	if hi-lo > 1 {
		if r, ok := b.copies[k]; ok {
			return r[0], r[1]
		}
	}
	*dst = append(*dst, src[lo:hi]...)
	if hi-lo > 1 {
		if b.copies == nil {
			b.copies = make(map[copiedKey][2]uint32)
		}
		b.copies[k] = [2]uint32{n, uint32(len(*dst))}
	}
	return n, uint32(len(*dst))
}

// services returns the services of an entry, added once per slice shared
// by several entries.
func (b *walkBuilder) services(ss []rules.Service) (uint32, uint32) {
	if len(ss) == 0 {
		n := uint32(len(b.w.svcs))
		return n, n
	}
	k := servicesKey{&ss[0], len(ss)}
	if r, ok := b.svcs[k]; ok {
		return r[0], r[1]
	}
	s0 := uint32(len(b.w.svcs))
	for _, s := range ss {
		b.service(s.Protocol, s.Ports)
	}
	s1 := uint32(len(b.w.svcs))
	if len(ss) > 1 {
		if b.svcs == nil {
			b.svcs = make(map[servicesKey][2]uint32)
		}
		b.svcs[k] = [2]uint32{s0, s1}
	}
	return s0, s1
}

// service appends one protocol's services: one per port range.
func (b *walkBuilder) service(p policy.Protocol, ports policy.PortSet) {
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
		return
	}
	b.w.svcs = append(b.w.svcs, s)
}

// set returns the ranges of an entry's address set of one family: netipx
// keeps them sorted and merged. A shared set's ranges are added once and
// reused. It reports false, adding nothing, when the set holds an address
// of the other family.
func (b *walkBuilder) set(en *rules.Entry, is6, shared bool) (uint32, uint32, bool) {
	w := &b.w
	n4, n6 := uint32(len(w.r4)), uint32(len(w.r6))
	s := en.V4
	if is6 {
		s = en.V6
	}
	if s == nil {
		if is6 {
			return n6, n6, true
		}
		return n4, n4, true
	}
	if r, ok := b.sets[s]; ok && shared {
		return r[0], r[1], true
	}
	rs := en.AddressRanges(is6)
	if len(rs) > 0 && (rs[0].From().Is6() != is6 || rs[len(rs)-1].To().Is6() != is6) {
		if is6 {
			return n6, n6, false
		}
		return n4, n4, false
	}
	var lo, hi uint32
	if is6 {
		lo = n6
		for _, r := range rs {
			w.r6 = append(w.r6, range6{split16(r.From().As16()), split16(r.To().As16())})
		}
		hi = uint32(len(w.r6))
	} else {
		lo = n4
		for _, r := range rs {
			f, t := r.From().As4(), r.To().As4()
			w.r4 = append(w.r4, range4{binary.BigEndian.Uint32(f[:]), binary.BigEndian.Uint32(t[:])})
		}
		hi = uint32(len(w.r4))
	}
	if shared {
		if b.sets == nil {
			b.sets = make(map[*netipx.IPSet][2]uint32)
		}
		b.sets[s] = [2]uint32{lo, hi}
	}
	return lo, hi, true
}
