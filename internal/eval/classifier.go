package eval

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"
)

// Classifier is a compiled, immutable rule list. It is safe for concurrent
// use.
//
// The algorithm is TupleMerge (Daly et al., 2019) behind a filter. Every
// rule belongs to exactly one hash table. A table is keyed on a tuple of
// field lengths (source and destination prefix lengths, a prefix length for
// each port range, protocol exact or not) no longer than those of its rules;
// a packet is masked with the table's tuple, hashed, and the rules in that
// slot (a handful at most, in priority order) are checked in full. Rules are
// placed in priority order, each in the most specific table that fits it
// with room in its slot, or else in a new table with a relaxed tuple.
// Tables are probed in order of the best rule they hold, and probing stops
// as soon as no remaining table can hold a rule better than the one found.
//
// The filter (see filter) spares most probes: it maps a packet's protocol,
// top address bits and destination port to the tables that can hold a rule
// matching it. IPv4 slots carry a fingerprint of their key, which skips the
// slots whose rules have another key. IPv4 and IPv6 rules live in separate
// table sets with 64-bit and 128-bit address keys.
type Classifier struct {
	n int // number of rules

	t4   []table4
	off4 []uint32 // slot offsets into e4, per table from table4.base
	e4   []entry4
	f4   filter

	t6   []table6
	off6 []uint32
	e6   []entry6
	f6   filter

	decider []int32
	action  []Action
}

// Hash multipliers (odd, from splitmix64 and the golden ratio).
const (
	mulA = 0x9e3779b97f4a7c15
	mulB = 0xbf58476d1ce4e5b9
	mulC = 0x94d049bb133111eb
	mulD = 0xd6e8feb86659fd93
	mulE = 0xff51afd7ed558ccd
)

type table4 struct {
	addrMask uint64 // source mask << 32 | destination mask
	restMask uint64 // (source port mask << 16 | destination port mask) << 8 | protocol mask
	minIdx   int32  // best (lowest) rule index in the table
	base     uint32 // first slot offset in off4
	shift    uint8
}

type entry4 struct {
	addr, mask   uint64 // source << 32 | destination, masked, and the mask
	spLo, spSpan uint16
	dpLo, dpSpan uint16
	pr, prMask   uint8
	idx          int32
}

type table6 struct {
	srcMask, dstMask [2]uint64
	portMask         uint32
	minIdx           int32
	base             uint32
	prMask           uint8
	shift            uint8
}

type entry6 struct {
	src, dst         [2]uint64 // masked
	srcBits, dstBits uint8
	pr, prMask       uint8
	spLo, spSpan     uint16
	dpLo, dpSpan     uint16
	idx              int32
}

// mix folds the 128-bit product of x and y (each offset by a constant so
// that neither is zero) into 64 well-mixed bits.
func mix(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x^mulA, y^mulB)
	return hi ^ lo
}

// key4 packs an IPv4 header into the two words tables mask and hash.
func key4(s, d uint32, sp, dp uint16, pr uint8) (addr, rest uint64) {
	return uint64(s)<<32 | uint64(d), (uint64(sp)<<16|uint64(dp))<<8 | uint64(pr)
}

// probe returns the entries of t's slot for a packet's key, none if the
// slot's fingerprint rules it out.
func (c *Classifier) probe(t *table4, addr, rest uint64) []entry4 {
	h := mix(addr&t.addrMask, rest&t.restMask)
	slot := t.base + uint32(h>>t.shift)
	lo, hi := c.off4[slot], c.off4[slot+1]&offMask
	if fp := lo >> offBits; fp != 0 && fp != fingerprint(h) {
		return nil
	}
	return c.e4[lo&offMask : hi]
}

func (e *entry4) matches(addr uint64, sp, dp uint16, pr uint8) bool {
	return addr&e.mask == e.addr && sp-e.spLo <= e.spSpan && dp-e.dpLo <= e.dpSpan && pr&e.prMask == e.pr
}

func hash6(s, d [2]uint64, ports uint32, pr uint8) uint64 {
	return mix(s[0]^d[1]*mulC, s[1]^d[0]*mulD^(uint64(ports)<<8|uint64(pr))*mulE)
}

// Len returns the number of rules.
func (c *Classifier) Len() int { return c.n }

const noMatch = math.MaxInt32

// Decide returns the first rule that matches p. It does not allocate.
func (c *Classifier) Decide(p Packet) (Match, bool) {
	var idx int32
	switch {
	case p.Src.Is4() && p.Dst.Is4():
		s, d := p.Src.As4(), p.Dst.As4()
		idx = c.lookup4(binary.BigEndian.Uint32(s[:]), binary.BigEndian.Uint32(d[:]), p.SrcPort, p.DstPort, p.Proto)
	case p.Src.Is6() && p.Dst.Is6():
		if p.Src.Zone() != "" || p.Dst.Zone() != "" {
			return Match{}, false
		}
		idx = c.lookup6(split16(p.Src.As16()), split16(p.Dst.As16()), p.SrcPort, p.DstPort, p.Proto)
	default:
		return Match{}, false
	}
	if idx == noMatch {
		return Match{}, false
	}
	return Match{Index: idx, Decider: c.decider[idx], Action: c.action[idx]}, true
}

func split16(a [16]byte) [2]uint64 {
	return [2]uint64{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])}
}

func (c *Classifier) lookup4(s, d uint32, sp, dp uint16, pr uint8) int32 {
	best := int32(noMatch)
	addr, rest := key4(s, d, sp, dp, pr)
	off, ents, tables := c.off4, c.e4, c.t4
	f := &c.f4
	for w, word := range f.bitmap(f.cell4(pr, s, d, dp)) {
		for word != 0 {
			t := &tables[w<<6+bits.TrailingZeros64(word)]
			word &= word - 1
			if t.minIdx >= best {
				return best
			}
			h := mix(addr&t.addrMask, rest&t.restMask)
			slot := t.base + uint32(h>>t.shift)
			lo := off[slot]
			if fp := lo >> offBits; fp != 0 && fp != fingerprint(h) {
				continue
			}
			for j := lo & offMask; j < off[slot+1]&offMask; j++ {
				e := &ents[j]
				if e.idx >= best {
					break
				}
				if addr&e.mask == e.addr && sp-e.spLo <= e.spSpan && dp-e.dpLo <= e.dpSpan && pr&e.prMask == e.pr {
					best = e.idx
					break
				}
			}
		}
	}
	return best
}

func mask6(a [2]uint64, bits uint8) [2]uint64 {
	m := masks6(bits)
	return [2]uint64{a[0] & m[0], a[1] & m[1]}
}

func masks6(bits uint8) [2]uint64 {
	return [2]uint64{^uint64(0) << (64 - min(bits, 64)), ^uint64(0) << (128 - max(bits, 64))}
}

// probe6 returns the entries of t's slot for a packet's key, none if the
// slot's fingerprint rules it out.
func (c *Classifier) probe6(t *table6, s, d [2]uint64, sp, dp uint16, pr uint8) []entry6 {
	ms := [2]uint64{s[0] & t.srcMask[0], s[1] & t.srcMask[1]}
	md := [2]uint64{d[0] & t.dstMask[0], d[1] & t.dstMask[1]}
	h := hash6(ms, md, (uint32(sp)<<16|uint32(dp))&t.portMask, pr&t.prMask)
	slot := t.base + uint32(h>>t.shift)
	lo, hi := c.off6[slot], c.off6[slot+1]&offMask
	if fp := lo >> offBits; fp != 0 && fp != fingerprint(h) {
		return nil
	}
	return c.e6[lo&offMask : hi]
}

func (e *entry6) matches(s, d [2]uint64, sp, dp uint16, pr uint8) bool {
	return sp-e.spLo <= e.spSpan && dp-e.dpLo <= e.dpSpan && pr&e.prMask == e.pr &&
		mask6(s, e.srcBits) == e.src && mask6(d, e.dstBits) == e.dst
}

func (c *Classifier) lookup6(s, d [2]uint64, sp, dp uint16, pr uint8) int32 {
	best := int32(noMatch)
	ports := uint32(sp)<<16 | uint32(dp)
	off, ents, tables := c.off6, c.e6, c.t6
	f := &c.f6
	for w, word := range f.bitmap(f.cell6(pr, s[0], d[0], dp)) {
		for word != 0 {
			t := &tables[w<<6+bits.TrailingZeros64(word)]
			word &= word - 1
			if t.minIdx >= best {
				return best
			}
			ms := [2]uint64{s[0] & t.srcMask[0], s[1] & t.srcMask[1]}
			md := [2]uint64{d[0] & t.dstMask[0], d[1] & t.dstMask[1]}
			h := hash6(ms, md, ports&t.portMask, pr&t.prMask)
			slot := t.base + uint32(h>>t.shift)
			lo := off[slot]
			if fp := lo >> offBits; fp != 0 && fp != fingerprint(h) {
				continue
			}
			for j := lo & offMask; j < off[slot+1]&offMask; j++ {
				e := &ents[j]
				if e.idx >= best {
					break
				}
				if e.matches(s, d, sp, dp, pr) {
					best = e.idx
					break
				}
			}
		}
	}
	return best
}

// Stats describes the compiled structure.
type Stats struct {
	Rules          int
	Tables4        int // IPv4 hash tables
	Tables6        int // IPv6 hash tables
	MaxBucket      int // most rules sharing one hash slot
	Bytes          int // size of the lookup structures
	BytesPerRule   float64
	MaxTableProbes int // tables a lookup may probe at worst
}

// Stats counts the bytes and tables of the compiled structure.
func (c *Classifier) Stats() Stats {
	st := Stats{Rules: c.n, Tables4: len(c.t4), Tables6: len(c.t6)}
	st.MaxTableProbes = max(len(c.t4), len(c.t6))
	st.Bytes = int(unsafe.Sizeof(*c)) +
		len(c.t4)*int(unsafe.Sizeof(table4{})) + len(c.off4)*4 + len(c.e4)*int(unsafe.Sizeof(entry4{})) +
		len(c.t6)*int(unsafe.Sizeof(table6{})) + len(c.off6)*4 + len(c.e6)*int(unsafe.Sizeof(entry6{})) +
		(len(c.f4.cells)+len(c.f6.cells))*8 +
		len(c.decider)*4 + len(c.action)
	if c.n > 0 {
		st.BytesPerRule = float64(st.Bytes) / float64(c.n)
	}
	for i := 1; i < len(c.off4); i++ {
		st.MaxBucket = max(st.MaxBucket, int(c.off4[i]&offMask)-int(c.off4[i-1]&offMask))
	}
	for i := 1; i < len(c.off6); i++ {
		st.MaxBucket = max(st.MaxBucket, int(c.off6[i]&offMask)-int(c.off6[i-1]&offMask))
	}
	return st
}
