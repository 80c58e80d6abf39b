package eval

import (
	"cmp"
	"slices"
)

// filter tells which tables can hold a rule matching a packet, so that a
// lookup probes only those. It splits the header space into cells by protocol
// class and the top bits of the source and destination addresses; each cell
// has a bitmap of the tables holding a rule whose box meets the cell.
type filter struct {
	class  [256]uint8 // protocol number → protocol class
	b      uint32     // destination bits
	ab     uint32     // source + destination bits
	sShift uint32     // address width − source bits
	dShift uint32     // address width − destination bits
	words  uint32     // bitmap words per cell
	cells  []uint64
}

// maxClasses bounds the protocol classes: the most frequent exact protocols
// get one each, and the others share one.
const maxClasses = 8

// newFilter builds the filter of tables for addresses width bits wide,
// spending about budget bytes on cells.
func newFilter(tables []*btable, width int, budget int) filter {
	f := filter{words: uint32((len(tables) + 63) / 64)}
	if len(tables) == 0 {
		return f
	}
	// Protocol classes: class 0 is "any other protocol".
	freq := make(map[uint8]int)
	for _, t := range tables {
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
		if nclass == maxClasses {
			break
		}
		f.class[p] = uint8(nclass)
		nclass++
	}
	// Address bits: as many as the budget allows, split evenly.
	cellBytes := int(f.words) * 8 * nclass
	k := 0
	for k < 2*min(width, 16) && cellBytes<<(k+1) <= budget {
		k++
	}
	a, b := (k+1)/2, k/2
	f.b, f.ab = uint32(b), uint32(a+b)
	f.sShift, f.dShift = uint32(width-a), uint32(width-b)
	f.cells = make([]uint64, (nclass<<k)*int(f.words))

	type box struct {
		class            int // -1: every class
		src, sn, dst, dn uint64
	}
	seen := make(map[box]bool)
	for ti, t := range tables {
		clear(seen)
		word, bit := ti/64, uint64(1)<<(ti%64)
		for _, r := range t.rules {
			bx := box{class: -1}
			if r.pr != AnyProto {
				bx.class = int(f.class[uint8(r.pr)])
			}
			bx.src, bx.sn = span(r.src[0], r.sl, a)
			bx.dst, bx.dn = span(r.dst[0], r.dl, b)
			if seen[bx] {
				continue
			}
			seen[bx] = true
			for c := range nclass {
				if bx.class >= 0 && c != bx.class {
					continue
				}
				for x := bx.src; x < bx.src+bx.sn; x++ {
					for y := bx.dst; y < bx.dst+bx.dn; y++ {
						cell := uint64(c)<<(a+b) | x<<b | y
						f.cells[cell*uint64(f.words)+uint64(word)] |= bit
					}
				}
			}
		}
	}
	return f
}

// span returns the first top-k-bit value of the prefix hi/l (hi holding the
// top 64 bits of the address) and how many such values it covers.
func span(hi uint64, l uint8, k int) (first, n uint64) {
	if k == 0 {
		return 0, 1
	}
	first = hi >> (64 - k)
	if int(l) >= k {
		return first, 1
	}
	return first, 1 << (k - int(l))
}
