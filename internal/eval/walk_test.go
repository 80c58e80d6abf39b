package eval

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/rules"
)

// TestWalkSets compares the walk's address ranges with
// netipx.IPSet.Contains over random sets of overlapping, adjacent and
// extreme prefixes of both families.
func TestWalkSets(t *testing.T) {
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
		var b4, b6 netipx.IPSetBuilder
		var ps []netip.Prefix
		for range rng.IntN(8) {
			is6 := rng.IntN(2) == 0
			a := randAddr(is6)
			bits := a.BitLen() - rng.IntN(12)
			if rng.IntN(10) == 0 {
				bits = rng.IntN(a.BitLen() + 1)
			}
			p := netip.PrefixFrom(a, bits).Masked()
			ps = append(ps, p)
			if is6 {
				b6.AddPrefix(p)
			} else {
				b4.AddPrefix(p)
			}
		}
		s4, _ := b4.IPSet()
		s6, _ := b6.IPSet()
		var b walkBuilder
		en := &rules.Entry{V4: s4, V6: s6}
		a0, a1, _ := b.set(en, false, true)
		c0, c1, _ := b.set(en, true, true)
		if x0, x1, _ := b.set(en, false, true); x0 != a0 || x1 != a1 {
			t.Fatalf("round %d: a set added twice is not shared", round)
		}
		r4, r6 := b.w.r4[a0:a1], b.w.r6[c0:c1]
		for range 50 {
			a := randAddr(rng.IntN(2) == 0)
			if rng.IntN(2) == 0 && len(ps) > 0 {
				a = ps[rng.IntN(len(ps))].Addr() // a range's first address
			}
			want := s4.Contains(a) || s6.Contains(a)
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
