package regions

import (
	"math/bits"
	"slices"
)

// none is the owner of space no entry matches.
const none int32 = -1

// noPrio is above every entry's priority.
const noPrio int32 = 1<<31 - 1

// sweeper finds the boxes of one class: it sweeps the port dimension from
// low to high, keeping, over the leaves of the address dimension, a segment
// tree of the rectangles active at the current port (each node holds the
// sorted priorities of the rectangles whose canonical cover includes it;
// a leaf's owner is the least priority on its path). At each port where
// rectangles start or end, only the leaves under the changed rectangles
// whose owner can change are visited, and the runs of leaves with one
// owner (each open since the port it started at) are closed and reopened
// around the leaves that changed: a closed run with an owner is a box.
//
// Work (tree nodes visited) is bounded: past budget the sweep gives up, as
// it does past limit boxes.
type sweeper struct {
	n     int // leaves
	size  int // leaves of the tree, a power of two ≥ n
	union bool

	cover   [][]int32
	cur     []int32 // each leaf's owner
	changed []int32

	starts  bitset  // first leaf of each run
	end     []int32 // by a run's first leaf: its last leaf
	owner   []int32 // … its owner
	since   []int32 // … the port it is open since
	pending struct {
		l, r, owner int32
		open        bool
	}

	out          []box
	work, budget int
}

func newSweeper(n int, union bool) *sweeper {
	size := 1
	for size < n {
		size <<= 1
	}
	return &sweeper{
		n: n, size: size, union: union,
		cover:  make([][]int32, 2*size),
		cur:    make([]int32, n),
		starts: newBitset(n),
		end:    make([]int32, n),
		owner:  make([]int32, n),
		since:  make([]int32, n),
	}
}

func (s *sweeper) ownerOf(prio int32) int32 {
	switch {
	case prio == noPrio:
		return none
	case s.union:
		return 0
	}
	return prio
}

// event is a rectangle starting (at its first port) or ending (after its
// last).
type event struct {
	port   int32
	remove bool
	rect   int32
}

// run returns the boxes of the rectangles over ports 0 to top, or false
// past limit boxes or the work budget.
func (s *sweeper) run(rects []rect, top int32, limit int) ([]box, bool) {
	for i := range s.cover {
		s.cover[i] = s.cover[i][:0]
	}
	for i := range s.cur {
		s.cur[i] = none
	}
	s.starts.reset()
	s.starts.set(0)
	s.end[0], s.owner[0], s.since[0] = int32(s.n-1), none, 0
	s.out = nil
	s.work = 0
	s.budget = 1<<20 + 16*(limit+len(rects))*(bits.Len(uint(s.size))+1)

	evs := make([]event, 0, 2*len(rects))
	for i, r := range rects {
		evs = append(evs, event{port: int32(r.plo), rect: int32(i)})
		if int32(r.phi) < top {
			evs = append(evs, event{port: int32(r.phi) + 1, remove: true, rect: int32(i)})
		}
	}
	slices.SortFunc(evs, func(a, b event) int {
		if a.port != b.port {
			return int(a.port - b.port)
		}
		if a.remove != b.remove {
			if a.remove {
				return -1
			}
			return 1
		}
		return int(a.rect - b.rect)
	})
	for i := 0; i < len(evs); {
		j := i
		for j < len(evs) && evs[j].port == evs[i].port {
			r := &rects[evs[j].rect]
			s.update(1, 0, s.size-1, int(r.lr.l), int(r.lr.r), r.prio, !evs[j].remove)
			j++
		}
		s.changed = s.changed[:0]
		for k := i; k < j; k++ {
			r := &rects[evs[k].rect]
			s.visit(1, 0, s.size-1, int(r.lr.l), int(r.lr.r), r.prio, noPrio)
		}
		if len(s.changed) > 0 {
			s.reopen(evs[i].port)
		}
		if len(s.out) > limit || s.work > s.budget {
			return nil, false
		}
		i = j
	}
	// Close every run at the last port.
	for l := s.starts.next(0); l >= 0; l = s.starts.next(int(s.end[l]) + 1) {
		if s.owner[l] != none {
			s.out = append(s.out, box{plo: uint16(s.since[l]), phi: uint16(top), l: int32(l), r: s.end[l], owner: s.owner[l]})
		}
	}
	if len(s.out) > limit {
		return nil, false
	}
	return s.out, true
}

// update adds (or removes) priority prio at the canonical nodes of leaves
// l to r.
func (s *sweeper) update(node, nl, nr, l, r int, prio int32, add bool) {
	s.work++
	if l <= nl && nr <= r {
		c := s.cover[node]
		i, found := slices.BinarySearch(c, prio)
		switch {
		case add && !found:
			s.cover[node] = slices.Insert(c, i, prio)
		case !add && found:
			s.cover[node] = slices.Delete(c, i, i+1)
		}
		return
	}
	mid := (nl + nr) / 2
	if l <= mid {
		s.update(2*node, nl, mid, l, r, prio, add)
	}
	if r > mid {
		s.update(2*node+1, mid+1, nr, l, r, prio, add)
	}
}

// visit recomputes the owners of the leaves l to r under node that a
// change of priority prio can have changed: those whose path holds no
// lower priority. above is the least priority on the path above node.
func (s *sweeper) visit(node, nl, nr, l, r int, prio, above int32) {
	s.work++
	if above < prio {
		return
	}
	m := above
	if c := s.cover[node]; len(c) > 0 && c[0] < m {
		m = c[0]
	}
	if nl == nr {
		if nl < s.n {
			if o := s.ownerOf(m); o != s.cur[nl] {
				s.cur[nl] = o
				s.changed = append(s.changed, int32(nl))
			}
		}
		return
	}
	mid := (nl + nr) / 2
	if l <= mid {
		s.visit(2*node, nl, mid, l, r, prio, m)
	}
	if r > mid {
		s.visit(2*node+1, mid+1, nr, l, r, prio, m)
	}
}

// reopen closes every run holding a changed leaf, as of the port before
// port, and opens the runs that now cover its leaves, as of port.
func (s *sweeper) reopen(port int32) {
	slices.Sort(s.changed)
	ch := slices.Compact(s.changed)
	for i := 0; i < len(ch); {
		first := int32(s.starts.prev(int(ch[i])))
		last, old := s.end[first], s.owner[first]
		if old != none && s.since[first] < port {
			s.out = append(s.out, box{plo: uint16(s.since[first]), phi: uint16(port - 1), l: first, r: last, owner: old})
		}
		s.starts.clear(int(first))
		s.work += 2
		at := first
		for ; i < len(ch) && ch[i] <= last; i++ {
			x := ch[i]
			if at < x {
				s.piece(at, x-1, old, port)
			}
			s.piece(x, x, s.cur[x], port)
			at = x + 1
		}
		if at <= last {
			s.piece(at, last, old, port)
		}
	}
	s.flush(port)
}

// piece appends leaves l to r of owner o to the run being opened, when
// they follow it with the same owner, or opens another.
func (s *sweeper) piece(l, r, o, port int32) {
	p := &s.pending
	if p.open && p.owner == o && p.r+1 == l {
		p.r = r
		return
	}
	s.flush(port)
	p.l, p.r, p.owner, p.open = l, r, o, true
}

func (s *sweeper) flush(port int32) {
	p := &s.pending
	if !p.open {
		return
	}
	s.starts.set(int(p.l))
	s.end[p.l], s.owner[p.l], s.since[p.l] = p.r, p.owner, port
	p.open = false
}

// bitset is a set of leaves with a summary word per 64 words, for fast
// searches of the previous and next member.
type bitset struct {
	words, summary []uint64
}

func newBitset(n int) bitset {
	w := (n + 63) / 64
	return bitset{words: make([]uint64, w), summary: make([]uint64, (w+63)/64)}
}

func (b *bitset) reset() {
	clear(b.words)
	clear(b.summary)
}

func (b *bitset) set(i int) {
	b.words[i>>6] |= 1 << (i & 63)
	b.summary[i>>12] |= 1 << ((i >> 6) & 63)
}

func (b *bitset) clear(i int) {
	w := i >> 6
	b.words[w] &^= 1 << (i & 63)
	if b.words[w] == 0 {
		b.summary[w>>6] &^= 1 << (w & 63)
	}
}

// prev returns the greatest member ≤ i, or −1.
func (b *bitset) prev(i int) int {
	w := i >> 6
	if m := b.words[w] & (^uint64(0) >> (63 - (i & 63))); m != 0 {
		return w<<6 + 63 - bits.LeadingZeros64(m)
	}
	// The previous non-empty word, through the summary.
	for sw := (w - 1) >> 6; w > 0 && sw >= 0; sw-- {
		m := b.summary[sw]
		if sw == (w-1)>>6 {
			m &= ^uint64(0) >> (63 - ((w - 1) & 63))
		}
		if m != 0 {
			ww := sw<<6 + 63 - bits.LeadingZeros64(m)
			return ww<<6 + 63 - bits.LeadingZeros64(b.words[ww])
		}
	}
	return -1
}

// next returns the least member ≥ i, or −1.
func (b *bitset) next(i int) int {
	if i>>6 >= len(b.words) {
		return -1
	}
	w := i >> 6
	if m := b.words[w] &^ (1<<(i&63) - 1); m != 0 {
		return w<<6 + bits.TrailingZeros64(m)
	}
	for sw := (w + 1) >> 6; sw < len(b.summary); sw++ {
		m := b.summary[sw]
		if sw == (w+1)>>6 {
			m &^= 1<<((w+1)&63) - 1
		}
		if m != 0 {
			ww := sw<<6 + bits.TrailingZeros64(m)
			return ww<<6 + bits.TrailingZeros64(b.words[ww])
		}
	}
	return -1
}
