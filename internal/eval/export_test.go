package eval

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
