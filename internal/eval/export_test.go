package eval

import "math/bits"

// Test hooks.

type BuildConfig = buildConfig

var DefaultBuild = defaultBuild

func CompileWith(rules []Rule, limit int, addrStep uint8, exactPortsOnly bool, perRule int) (*Classifier, error) {
	return compile(rules, buildConfig{limit: limit, addrStep: addrStep, exactPortsOnly: exactPortsOnly, filterPerRule: perRule, filterMin: 4096})
}

// PartitionIdx returns the rule indices of each IPv4 table, in probe order.
func PartitionIdx(rules []Rule, limit int, addrStep uint8) [][]int32 {
	bc := buildConfig{limit: limit, addrStep: addrStep, exactPortsOnly: true}
	brs := make([]*brule, len(rules))
	for i := range rules {
		r := &rules[i]
		b := &brule{idx: int32(i), sl: uint8(r.Src.Bits()), dl: uint8(r.Dst.Bits()), sp: r.SrcPorts, dp: r.DstPorts, pr: r.Proto}
		s, d := r.Src.Masked().Addr().As4(), r.Dst.Masked().Addr().As4()
		b.src[0] = uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32
		b.dst[0] = uint64(d[0])<<56 | uint64(d[1])<<48 | uint64(d[2])<<40 | uint64(d[3])<<32
		b.tup = tuple{sl: b.sl, dl: b.dl, spl: portLen(b.sp), dpl: portLen(b.dp)}
		if b.pr != AnyProto {
			b.tup.pl = 8
		}
		brs[i] = b
	}
	var out [][]int32
	for _, t := range bc.partition(brs) {
		var ids []int32
		for _, r := range t.rules {
			ids = append(ids, r.idx)
		}
		out = append(out, ids)
	}
	return out
}

// Probes counts the tables and entries a lookup of an IPv4 packet visits.
func (c *Classifier) Probes(p Packet) (tables, entries, active int) {
	sa, da := p.Src.As4(), p.Dst.As4()
	s, d := uint32(sa[0])<<24|uint32(sa[1])<<16|uint32(sa[2])<<8|uint32(sa[3]), uint32(da[0])<<24|uint32(da[1])<<16|uint32(da[2])<<8|uint32(da[3])
	sp, dp, pr := p.SrcPort, p.DstPort, p.Proto
	best := int32(noMatch)
	ports := uint32(sp)<<16 | uint32(dp)
	f := &c.f4
	for _, word := range f.bitmap(f.cell4(pr, s, d, dp)) {
		active += bits.OnesCount64(word)
	}
	for w, word := range f.bitmap(f.cell4(pr, s, d, dp)) {
		for word != 0 {
			t := &c.t4[w<<6+bits.TrailingZeros64(word)]
			word &= word - 1
			if t.minIdx >= best {
				return
			}
			tables++
			slot := t.base + uint32(hash4(s&t.srcMask, d&t.dstMask, ports&t.portMask, pr&t.prMask)>>t.shift)
			for j := c.off4[slot]; j < c.off4[slot+1]; j++ {
				e := &c.e4[j]
				if e.idx >= best {
					break
				}
				entries++
				if (s^e.src)>>e.sShift == 0 && (d^e.dst)>>e.dShift == 0 && sp-e.spLo <= e.spSpan && dp-e.dpLo <= e.dpSpan && pr&e.prMask == e.pr {
					best = e.idx
					break
				}
			}
		}
	}
	return
}
