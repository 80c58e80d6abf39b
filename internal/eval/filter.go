package eval

import (
	"cmp"
	"math/bits"
	"slices"
)

// filter tells which tables can hold a rule matching a packet, so that a
// lookup probes only those. It splits the header space into cells by protocol
// class, the top bits of the source and destination addresses (after the
// leading bits every rule's prefix shares, as in a /48 of IPv6 addresses) and
// a hash of the destination port; each cell has a bitmap of the tables
// holding a rule whose box meets the cell.
type filter struct {
	class  [256]uint8 // protocol number → protocol class
	b      uint32     // destination address bits
	ab     uint32     // source + destination address bits
	pb     uint32     // destination port bits
	sOff   uint32     // leading source address bits skipped
	dOff   uint32     // leading destination address bits skipped
	sShift uint32     // address width − source address bits
	dShift uint32     // address width − destination address bits
	pShift uint32     // 16 − destination port bits
	words  uint32     // bitmap words per cell
	cells  []uint64
}

// portMul is the odd multiplier of the destination port hash.
const portMul = 0x9e37

// cell4 returns the offset of the bitmap of an IPv4 packet's cell.
func (f *filter) cell4(pr uint8, s, d uint32, dp uint16) uint32 {
	return f.cell(pr, s<<f.sOff>>f.sShift, d<<f.dOff>>f.dShift, dp)
}

// cell6 returns the offset of the bitmap of an IPv6 packet's cell, given the
// top 64 bits of its addresses.
func (f *filter) cell6(pr uint8, s, d uint64, dp uint16) uint32 {
	return f.cell(pr, uint32(s<<f.sOff>>f.sShift), uint32(d<<f.dOff>>f.dShift), dp)
}

func (f *filter) cell(pr uint8, st, dt uint32, dp uint16) uint32 {
	return ((uint32(f.class[pr])<<f.ab|st<<f.b|dt)<<f.pb | uint32(dp*portMul)>>f.pShift) * f.words
}

// bitmap returns the bitmap at offset cell.
func (f *filter) bitmap(cell uint32) []uint64 {
	return f.cells[cell : cell+f.words : cell+f.words]
}

// maxClasses bounds the protocol classes: the most frequent exact protocols
// get one each, and the others share class 0.
const maxClasses = 8

// maxPortFan is the widest destination port range marked port by port in the
// filter; wider ranges meet every port class.
const maxPortFan = 4

// shape is the number of bits a filter takes from each field, and the
// leading address bits it skips.
type shape struct{ a, b, p, sOff, dOff int }

// newFilter builds the filter of tables for addresses width bits wide (the
// top 64 bits of an address are used), spending at most about budget bytes
// on cells. It tries a few ways to split the bits between the fields and
// keeps the one that leaves the fewest tables to probe.
func newFilter(tables []*btable, width int, budget, minShare int) filter {
	f := filter{words: uint32((len(tables) + 63) / 64)}
	if len(tables) == 0 {
		return f
	}
	nclass := f.classify(tables, minShare)
	k := 0
	for cellBytes := int(f.words) * 8 * nclass; k < 32 && cellBytes<<(k+1) <= budget; k++ {
	}
	sOff, dOff := commonBits(tables, width, func(r *brule) (uint64, uint8) { return r.src[0], r.sl }),
		commonBits(tables, width, func(r *brule) (uint64, uint8) { return r.dst[0], r.dl })
	var shapes []shape
	for _, p := range []int{0, 2, 4} {
		r := k - p
		for _, a := range []int{r / 2, r/2 - 2, r/2 + 2, 0, r} {
			sh := shape{a: a, b: r - a, p: p}
			sh.sOff, sh.dOff = min(sOff, width-a), min(dOff, width-sh.b)
			if a >= 0 && a <= 16 && sh.b >= 0 && sh.b <= 16 && !slices.Contains(shapes, sh) {
				shapes = append(shapes, sh)
			}
		}
	}
	if len(shapes) == 0 {
		shapes = append(shapes, shape{})
	}
	minIdx := make([]int32, len(tables))
	for i, t := range tables {
		minIdx[i] = t.rules[0].idx
	}
	best, bestScore := f, -1.0
	for _, sh := range shapes {
		g := f
		g.mark(tables, nclass, width, sh)
		if score := g.score(tables, width, minIdx); bestScore < 0 || score < bestScore {
			best, bestScore = g, score
		}
	}
	return best
}

// classify assigns protocol classes and returns their number: each of the
// most frequent exact protocols named by at least 1/share of the rules gets
// its own class.
func (f *filter) classify(tables []*btable, share int) int {
	freq := make(map[uint8]int)
	n := 0
	for _, t := range tables {
		n += len(t.rules)
		for _, r := range t.rules {
			if r.pr != AnyProto {
				freq[uint8(r.pr)]++
			}
		}
	}
	protos := make([]uint8, 0, len(freq))
	for p := range freq {
		protos = append(protos, p)
	}
	slices.SortFunc(protos, func(x, y uint8) int {
		return cmp.Or(cmp.Compare(freq[y], freq[x]), cmp.Compare(x, y))
	})
	nclass := 1
	for _, p := range protos {
		if nclass == maxClasses || freq[p]*share < n {
			break
		}
		f.class[p] = uint8(nclass)
		nclass++
	}
	return nclass
}

// mark allocates the cells for shape sh and sets, in each, the bit of every
// table holding a rule whose box meets the cell.
func (f *filter) mark(tables []*btable, nclass, width int, sh shape) {
	f.b, f.ab, f.pb = uint32(sh.b), uint32(sh.a+sh.b), uint32(sh.p)
	f.sShift, f.dShift, f.pShift = uint32(width-sh.a), uint32(width-sh.b), uint32(16-sh.p)
	f.sOff, f.dOff = uint32(sh.sOff), uint32(sh.dOff)
	f.cells = make([]uint64, (nclass<<(sh.a+sh.b+sh.p))*int(f.words))

	type box struct {
		class            int // -1: every class
		src, sn, dst, dn uint64
		lo, hi           uint16 // destination ports
	}
	seen := make(map[box]bool)
	var portClasses []uint32
	for ti, t := range tables {
		clear(seen)
		word, bit := uint32(ti/64), uint64(1)<<(ti%64)
		for _, r := range t.rules {
			bx := box{class: -1, lo: r.dp.Lo, hi: r.dp.Hi}
			if r.pr != AnyProto {
				bx.class = int(f.class[uint8(r.pr)])
			}
			if int(r.dp.Hi-r.dp.Lo) >= maxPortFan {
				bx.lo, bx.hi = 0, 65535
			}
			bx.src, bx.sn = span(r.src[0], r.sl, sh.sOff, sh.a)
			bx.dst, bx.dn = span(r.dst[0], r.dl, sh.dOff, sh.b)
			if seen[bx] {
				continue
			}
			seen[bx] = true
			portClasses = portClasses[:0]
			if bx.hi-bx.lo < maxPortFan {
				for p := int(bx.lo); p <= int(bx.hi); p++ {
					portClasses = append(portClasses, uint32(uint16(p)*portMul)>>f.pShift)
				}
			} else {
				for pc := range uint32(1) << sh.p {
					portClasses = append(portClasses, pc)
				}
			}
			for c := range nclass {
				if bx.class >= 0 && c != bx.class {
					continue
				}
				for x := bx.src; x < bx.src+bx.sn; x++ {
					for y := bx.dst; y < bx.dst+bx.dn; y++ {
						base := (uint32(c)<<f.ab | uint32(x)<<f.b | uint32(y)) << f.pb
						for _, pc := range portClasses {
							f.cells[(base|pc)*f.words+word] |= bit
						}
					}
				}
			}
		}
	}
}

// score estimates the tables a lookup probes: the mean over rules of the
// tables probed for a packet at a corner of the rule's box, plus the mean
// over uniformly random headers.
func (f *filter) score(tables []*btable, width int, minIdx []int32) float64 {
	var box float64
	n := 0
	for _, t := range tables {
		for _, r := range t.rules {
			// Tables probed: those meeting the cell whose best rule comes
			// before r.
			k, _ := slices.BinarySearch(minIdx, r.idx+1)
			var cell uint32
			if width == 32 {
				cell = f.cell4(uint8(max(r.pr, 0)), uint32(r.src[0]>>32), uint32(r.dst[0]>>32), r.dp.Lo)
			} else {
				cell = f.cell6(uint8(max(r.pr, 0)), r.src[0], r.dst[0], r.dp.Lo)
			}
			box += float64(prefixPopcount(f.bitmap(cell), k))
			n++
		}
	}
	// Uniformly random headers: a protocol class weighs as many protocol
	// numbers as map to it.
	var weight [maxClasses]float64
	for _, c := range f.class {
		weight[c]++
	}
	var random float64
	perClass := 1 << (f.ab + f.pb)
	for i := range len(f.cells) / int(f.words) {
		random += weight[i/perClass] / 256 * float64(prefixPopcount(f.bitmap(uint32(i)*f.words), len(tables)))
	}
	random /= float64(perClass)
	return box/float64(n) + random
}

// prefixPopcount counts the set bits among the first k bits of words.
func prefixPopcount(words []uint64, k int) int {
	n := 0
	for i, w := range words {
		if k <= i*64 {
			break
		}
		if k < (i+1)*64 {
			w &= uint64(1)<<(k-i*64) - 1
		}
		n += bits.OnesCount64(w)
	}
	return n
}

// commonBits returns how many leading bits the prefixes of every rule but
// the wildcards share, at most the shortest such prefix and the width.
func commonBits(tables []*btable, width int, field func(*brule) (uint64, uint8)) int {
	n := width
	var first uint64
	seen := false
	for _, t := range tables {
		for _, r := range t.rules {
			hi, l := field(r)
			if l == 0 {
				continue
			}
			if !seen {
				first, seen = hi, true
			}
			n = min(n, int(l), bits.LeadingZeros64(hi^first))
		}
	}
	if !seen {
		return 0
	}
	return n
}

// span returns the first value of the k bits after the leading off bits of
// the prefix hi/l (hi holding the top 64 bits of the address) and how many
// such values the prefix covers.
func span(hi uint64, l uint8, off, k int) (first, n uint64) {
	if k == 0 {
		return 0, 1
	}
	switch {
	case int(l) <= off:
		return 0, 1 << k
	case int(l) >= off+k:
		return hi << off >> (64 - k), 1
	}
	return hi << off >> (64 - k), 1 << (off + k - int(l))
}
