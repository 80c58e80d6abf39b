package eval

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// tuple is the field lengths a hash table is keyed on: source and destination
// prefix lengths, source and destination port prefix lengths (0-16), and the
// protocol length (0 or 8).
type tuple struct {
	sl, dl, spl, dpl, pl uint8
}

// within reports whether every length of t is at most that of u, so that a
// rule with tuple u can be stored in a table keyed on t.
func (t tuple) within(u tuple) bool {
	return t.sl <= u.sl && t.dl <= u.dl && t.spl <= u.spl && t.dpl <= u.dpl && t.pl <= u.pl
}

func (t tuple) bits() int {
	return int(t.sl) + int(t.dl) + int(t.spl) + int(t.dpl) + int(t.pl)
}

// brule is a rule normalised for building: addresses are 128-bit, with an
// IPv4 address in the top 32 bits.
type brule struct {
	idx      int32
	src, dst [2]uint64
	sl, dl   uint8
	sp, dp   PortRange
	pr       Proto
	tup      tuple
}

// bkey is the hash key of a rule or packet in a table.
type bkey struct {
	src, dst [2]uint64
	ports    uint32
	pr       uint8
}

func portMask(l uint8) uint16 { return ^uint16(0) << (16 - l) }

func (r *brule) key(t tuple) bkey {
	k := bkey{
		src:   mask6(r.src, t.sl),
		dst:   mask6(r.dst, t.dl),
		ports: uint32(r.sp.Lo&portMask(t.spl))<<16 | uint32(r.dp.Lo&portMask(t.dpl)),
	}
	if t.pl > 0 {
		k.pr = uint8(r.pr)
	}
	return k
}

// portLen is the length of the shortest port prefix covering the range: all
// ports in it share their top portLen bits.
func portLen(r PortRange) uint8 { return uint8(bits.LeadingZeros16(r.Lo ^ r.Hi)) }

// Tuning of table construction, chosen on the ClassBench sets.
const (
	// collisionLimit is the number of rules with one key a table accepts
	// before a further such rule must go to another table.
	collisionLimit = 8
	// addrStep rounds the prefix lengths of a new table down to a multiple
	// of it, so that rules of neighbouring lengths share tables; lengths
	// below 8 are rounded down to a multiple of shortStep instead.
	addrStep  = 8
	shortStep = 4
	// classShare: a protocol has its own filter class if at least
	// 1/classShare of the rules name it.
	classShare = 64
	// The filter's budget: filterPerRule bytes per rule, at least
	// filterMin.
	filterPerRule = 16
	filterMin     = 4096
)

// relax returns the tuple of a new table created for a rule with tuple t:
// shorter lengths let more rules share the table. A port range other than a
// single port is not part of a new table's key.
func relax(t tuple) tuple {
	r := t
	r.sl, r.dl = relaxLen(r.sl), relaxLen(r.dl)
	if r.spl < 16 {
		r.spl = 0
	}
	if r.dpl < 16 {
		r.dpl = 0
	}
	return r
}

func relaxLen(l uint8) uint8 {
	if l >= 8 {
		return l - l%addrStep
	}
	return l - l%shortStep
}

type btable struct {
	tup    tuple
	rules  []*brule
	counts map[bkey]int
}

// Compile validates the rules and builds a Classifier. Rule i has priority i:
// the lower the index, the higher the priority. Every problem found is
// reported at once.
func Compile(rules []Rule) (*Classifier, error) {
	if len(rules) > offMask {
		return nil, fmt.Errorf("too many rules: %d", len(rules))
	}
	var errs []error
	for i := range rules {
		if err := rules[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Classifier{
		n:       len(rules),
		decider: make([]int32, len(rules)),
		action:  make([]Action, len(rules)),
	}
	brs := make([]brule, len(rules))
	var v4, v6 []*brule
	for i := range rules {
		r := &rules[i]
		c.decider[i], c.action[i] = r.Decider, r.Action
		b := &brs[i]
		*b = brule{idx: int32(i), sl: uint8(r.Src.Bits()), dl: uint8(r.Dst.Bits()), sp: r.SrcPorts, dp: r.DstPorts, pr: r.Proto}
		if r.Src.Addr().Is4() {
			s, d := r.Src.Masked().Addr().As4(), r.Dst.Masked().Addr().As4()
			b.src[0] = uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32
			b.dst[0] = uint64(d[0])<<56 | uint64(d[1])<<48 | uint64(d[2])<<40 | uint64(d[3])<<32
			v4 = append(v4, b)
		} else {
			b.src = split16(r.Src.Masked().Addr().As16())
			b.dst = split16(r.Dst.Masked().Addr().As16())
			v6 = append(v6, b)
		}
		b.tup = tuple{sl: b.sl, dl: b.dl, spl: portLen(b.sp), dpl: portLen(b.dp)}
		if b.pr != AnyProto {
			b.tup.pl = 8
		}
	}
	p4, p6 := partition(v4), partition(v6)
	c.t4, c.off4, c.e4 = emit4(p4)
	c.t6, c.off6, c.e6 = emit6(p6)
	c.f4 = newFilter(p4, 32, max(filterMin, len(v4)*filterPerRule), classShare)
	c.f6 = newFilter(p6, 64, max(filterMin, len(v6)*filterPerRule), classShare)
	return c, nil
}

// partition assigns each rule, in priority order, to a table: the most
// specific existing table whose tuple fits the rule and whose slot for the
// rule is not full, or else a new table with a relaxed tuple.
func partition(rules []*brule) []*btable {
	var tables []*btable
	byTuple := make(map[tuple]*btable)
	add := func(t *btable, r *brule, k bkey) {
		t.rules = append(t.rules, r)
		t.counts[k]++
	}
	for _, r := range rules {
		var (
			best    *btable
			bestKey bkey
		)
		for _, t := range tables {
			if !t.tup.within(r.tup) || (best != nil && t.tup.bits() <= best.tup.bits()) {
				continue
			}
			k := r.key(t.tup)
			if t.counts[k] >= collisionLimit {
				continue
			}
			best, bestKey = t, k
		}
		if best == nil {
			tup := relax(r.tup)
			if byTuple[tup] != nil {
				tup = r.tup
			}
			best = byTuple[tup]
			if best == nil {
				best = &btable{tup: tup, counts: make(map[bkey]int)}
				tables = append(tables, best)
				byTuple[tup] = best
			}
			bestKey = r.key(tup)
		}
		add(best, r, bestKey)
	}
	// Probe order: best priority first. Rules were added in priority order,
	// so each table's rules are sorted and its first is its best.
	slices.SortStableFunc(tables, func(a, b *btable) int { return int(a.rules[0].idx - b.rules[0].idx) })
	return tables
}

// slotsFor returns the slot count (a power of two) and hash shift for a
// table of n distinct keys, keeping the load factor at most one half.
func slotsFor(n int) (int, uint8) {
	lg := bits.Len(uint(2*n - 1))
	return 1 << lg, uint8(64 - lg)
}

func emit4(tables []*btable) ([]table4, []uint32, []entry4) {
	var (
		ts   = make([]table4, 0, len(tables))
		off  []uint32
		ents []entry4
		n    int
	)
	for _, bt := range tables {
		n += len(bt.rules)
	}
	ents = make([]entry4, 0, n)
	for _, bt := range tables {
		slots, shift := slotsFor(len(bt.counts))
		tu := bt.tup
		t := table4{
			addrMask: mask4(tu.sl)<<32 | mask4(tu.dl),
			restMask: (uint64(portMask(tu.spl))<<16 | uint64(portMask(tu.dpl))) << 8,
			minIdx:   bt.rules[0].idx,
			base:     uint32(len(off)),
			shift:    shift,
		}
		if tu.pl > 0 {
			t.restMask |= 0xff
		}
		hash := func(r *brule) uint64 {
			k := r.key(tu)
			return mix(k.src[0]&^(1<<32-1)|k.dst[0]>>32, uint64(k.ports)<<8|uint64(k.pr))
		}
		offs, order := layout(bt.rules, slots, shift, hash, uint32(len(ents)))
		off = append(off, offs...)
		for _, r := range order {
			ents = append(ents, newEntry4(r))
		}
		ts = append(ts, t)
	}
	off = append(off, uint32(len(ents)))
	return ts, off, ents
}

// layout places a table's rules in its slots: it returns the offset of each
// slot's first rule (start being the table's first) with the slot's
// fingerprint, and the rules in slot order. A counting sort by slot, stable
// so that each slot stays in priority order. A slot whose rules share one
// key carries that key's fingerprint; a slot of several keys carries 0.
func layout(rules []*brule, slots int, shift uint8, hash func(*brule) uint64, start uint32) ([]uint32, []*brule) {
	count := make([]uint32, slots+1)
	fps := make([]uint32, slots)
	hs := make([]uint64, len(rules))
	for i, r := range rules {
		h := hash(r)
		hs[i] = h
		s := h >> shift
		count[s+1]++
		switch fp := fingerprint(h); {
		case count[s+1] == 1:
			fps[s] = fp
		case fps[s] != fp:
			fps[s] = 0
		}
	}
	for i := range slots {
		count[i+1] += count[i]
	}
	off := make([]uint32, slots)
	for i := range slots {
		off[i] = (start + count[i]) | fps[i]<<offBits
	}
	order := make([]*brule, len(rules))
	for i, r := range rules {
		s := hs[i] >> shift
		order[count[s]] = r
		count[s]++
	}
	return off, order
}

// Slot offsets hold the offset of the slot's first entry in
// their low offBits bits and a fingerprint of the slot's key above.
const (
	offBits = 24
	offMask = 1<<offBits - 1
)

// fingerprint returns 8 bits of a key's hash, never 0, independent of the
// top bits that choose the slot.
func fingerprint(h uint64) uint32 { return uint32(h)&0xff | 1 }

// mask4 returns the mask of an IPv4 prefix of length l, in the low 32 bits.
func mask4(l uint8) uint64 { return ^uint64(0) << (64 - l) >> 32 }

func newEntry4(r *brule) entry4 {
	e := entry4{
		addr: r.src[0]&^(1<<32-1) | r.dst[0]>>32,
		mask: mask4(r.sl)<<32 | mask4(r.dl),
		spLo: r.sp.Lo, spSpan: r.sp.Hi - r.sp.Lo,
		dpLo: r.dp.Lo, dpSpan: r.dp.Hi - r.dp.Lo,
		idx: r.idx,
	}
	if r.pr != AnyProto {
		e.pr, e.prMask = uint8(r.pr), 0xff
	}
	return e
}

func emit6(tables []*btable) ([]table6, []uint32, []entry6) {
	var (
		ts   = make([]table6, 0, len(tables))
		off  []uint32
		ents []entry6
		n    int
	)
	for _, bt := range tables {
		n += len(bt.rules)
	}
	ents = make([]entry6, 0, n)
	for _, bt := range tables {
		slots, shift := slotsFor(len(bt.counts))
		tu := bt.tup
		t := table6{
			srcMask:  masks6(tu.sl),
			dstMask:  masks6(tu.dl),
			portMask: uint32(portMask(tu.spl))<<16 | uint32(portMask(tu.dpl)),
			minIdx:   bt.rules[0].idx,
			base:     uint32(len(off)),
			shift:    shift,
		}
		if tu.pl > 0 {
			t.prMask = 0xff
		}
		hash := func(r *brule) uint64 {
			k := r.key(tu)
			return hash6(k.src, k.dst, k.ports, k.pr)
		}
		offs, order := layout(bt.rules, slots, shift, hash, uint32(len(ents)))
		off = append(off, offs...)
		for _, r := range order {
			ents = append(ents, newEntry6(r))
		}
		ts = append(ts, t)
	}
	off = append(off, uint32(len(ents)))
	return ts, off, ents
}

func newEntry6(r *brule) entry6 {
	e := entry6{
		src: r.src, dst: r.dst,
		srcBits: r.sl, dstBits: r.dl,
		spLo: r.sp.Lo, spSpan: r.sp.Hi - r.sp.Lo,
		dpLo: r.dp.Lo, dpSpan: r.dp.Hi - r.dp.Lo,
		idx: r.idx,
	}
	if r.pr != AnyProto {
		e.pr, e.prMask = uint8(r.pr), 0xff
	}
	return e
}
