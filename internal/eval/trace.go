package eval

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Step is one rule the compiled lookup compared with a packet.
type Step struct {
	Index   int32 // the rule's position
	Matched bool
}

// Trace explains how a Classifier decided a packet.
type Trace struct {
	Match Match
	OK    bool // whether a rule matched
	// Tables is the number of hash tables the lookup probed.
	Tables int
	// Compared lists, in order, the rules the lookup compared with the
	// packet in full.
	Compared []Step
	// Matching lists every rule that matches the packet, best first; the
	// first is the one that decided.
	Matching []int32
}

// Trace decides p as Decide does, recording the work, and lists every
// matching rule. It allocates.
func (c *Classifier) Trace(p Packet) Trace {
	var tr Trace
	best := int32(noMatch)
	switch {
	case p.Src.Is4() && p.Dst.Is4():
		s4, d4 := p.Src.As4(), p.Dst.As4()
		s, d := binary.BigEndian.Uint32(s4[:]), binary.BigEndian.Uint32(d4[:])
		best = c.trace4(&tr, s, d, p.SrcPort, p.DstPort, p.Proto)
	case p.Src.Is6() && p.Dst.Is6() && p.Src.Zone() == "" && p.Dst.Zone() == "":
		s, d := split16(p.Src.As16()), split16(p.Dst.As16())
		best = c.trace6(&tr, s, d, p.SrcPort, p.DstPort, p.Proto)
	}
	if best != noMatch {
		tr.OK = true
		tr.Match = Match{Index: best, Decider: c.decider[best], Action: c.action[best]}
	}
	slices.Sort(tr.Matching)
	return tr
}

func (c *Classifier) trace4(tr *Trace, s, d uint32, sp, dp uint16, pr uint8) int32 {
	addr, rest := key4(s, d, sp, dp, pr)
	best := int32(noMatch)
	f := &c.f4
	if len(c.t4) > 0 {
	probe:
		for w, word := range f.bitmap(f.cell4(pr, s, d, dp)) {
			for word != 0 {
				t := &c.t4[w<<6+bits.TrailingZeros64(word)]
				word &= word - 1
				if t.minIdx >= best {
					break probe
				}
				tr.Tables++
				ents := c.probe(t, addr, rest)
				for j := range ents {
					e := &ents[j]
					if e.idx >= best {
						break
					}
					ok := e.matches(addr, sp, dp, pr)
					tr.Compared = append(tr.Compared, Step{Index: e.idx, Matched: ok})
					if ok {
						best = e.idx
						break
					}
				}
			}
		}
	}
	// Every matching rule: every rule is in one table, in the slot of any
	// packet it matches.
	for i := range c.t4 {
		ents := c.probe(&c.t4[i], addr, rest)
		for j := range ents {
			if e := &ents[j]; e.matches(addr, sp, dp, pr) {
				tr.Matching = append(tr.Matching, e.idx)
			}
		}
	}
	return best
}

func (c *Classifier) trace6(tr *Trace, s, d [2]uint64, sp, dp uint16, pr uint8) int32 {
	probe := func(t *table6) []entry6 { return c.probe6(t, s, d, sp, dp, pr) }
	best := int32(noMatch)
	f := &c.f6
	if len(c.t6) > 0 {
	probe:
		for w, word := range f.bitmap(f.cell6(pr, s[0], d[0], dp)) {
			for word != 0 {
				t := &c.t6[w<<6+bits.TrailingZeros64(word)]
				word &= word - 1
				if t.minIdx >= best {
					break probe
				}
				tr.Tables++
				ents := probe(t)
				for j := range ents {
					e := &ents[j]
					if e.idx >= best {
						break
					}
					ok := e.matches(s, d, sp, dp, pr)
					tr.Compared = append(tr.Compared, Step{Index: e.idx, Matched: ok})
					if ok {
						best = e.idx
						break
					}
				}
			}
		}
	}
	for i := range c.t6 {
		ents := probe(&c.t6[i])
		for j := range ents {
			if e := &ents[j]; e.matches(s, d, sp, dp, pr) {
				tr.Matching = append(tr.Matching, e.idx)
			}
		}
	}
	return best
}
