package eval

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestWalkPrefixes compares the walk's merged address ranges with
// netip.Prefix.Contains over random sets of overlapping, adjacent and
// extreme prefixes of both families.
func TestWalkPrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	randAddr := func(is6 bool) netip.Addr {
		edge := rng.IntN(8)
		if is6 {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.IntN(4))
			}
			switch edge {
			case 0:
				b = [16]byte{}
			case 1:
				for i := range b {
					b[i] = 0xff
				}
			}
			return netip.AddrFrom16(b)
		}
		b := [4]byte{10, byte(rng.IntN(3)), byte(rng.IntN(3)), byte(rng.IntN(256))}
		switch edge {
		case 0:
			b = [4]byte{}
		case 1:
			b = [4]byte{255, 255, 255, 255}
		}
		return netip.AddrFrom4(b)
	}
	for round := range 3000 {
		var ps []netip.Prefix
		for range rng.IntN(8) {
			is6 := rng.IntN(2) == 0
			a := randAddr(is6)
			bits := a.BitLen() - rng.IntN(12)
			if rng.IntN(10) == 0 {
				bits = rng.IntN(a.BitLen() + 1)
			}
			ps = append(ps, netip.PrefixFrom(a, bits))
		}
		var b walkBuilder
		a0, a1, b0, b1 := b.prefixes(ps...)
		r4, r6 := b.w.r4[a0:a1], b.w.r6[b0:b1]
		for i := 1; i < len(r4); i++ {
			if r4[i].lo <= r4[i-1].hi+1 {
				t.Fatalf("round %d: v4 ranges %v not merged", round, r4)
			}
		}
		for i := 1; i < len(r6); i++ {
			if next, _ := inc6(r6[i-1].hi); !less6(next, r6[i].lo) {
				t.Fatalf("round %d: v6 ranges %v not merged", round, r6)
			}
		}
		for range 50 {
			a := randAddr(rng.IntN(2) == 0)
			if rng.IntN(2) == 0 && len(ps) > 0 {
				a = ps[rng.IntN(len(ps))].Masked().Addr() // a range's first address
			}
			want := false
			for _, p := range ps {
				want = want || p.Contains(a)
			}
			k := newKey(Query{Peer: a})
			got := contains4(r4, k.a4)
			if k.is6 {
				got = contains6(r6, k.a6)
			}
			if got != want {
				t.Fatalf("round %d: %v in %v = %v, want %v (ranges %v %v)", round, a, ps, got, want, r4, r6)
			}
		}
	}
}
