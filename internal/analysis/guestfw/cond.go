package guestfw

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
)

// tri is a three-valued match result.
type tri uint8

const (
	no tri = iota
	yes
	maybe
)

func (t tri) not() tri {
	switch t {
	case no:
		return yes
	case yes:
		return no
	}
	return maybe
}

func neg(t tri, negate bool) tri {
	if negate {
		return t.not()
	}
	return t
}

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// pctx is a packet as the matches see it.
type pctx struct {
	p     Packet
	v6    bool
	proto uint8
	// the interface names on the input and output side; known is false for
	// the guest's side when the check did not name it.
	inIf, outIf       string
	inKnown, outKnown bool
	rs                *Ruleset
}

func newCtx(p Packet, rs *Ruleset) *pctx {
	c := &pctx{p: p, v6: p.Is6(), rs: rs, inKnown: true, outKnown: true}
	c.proto, _ = p.Protocol.Number()
	name, known := p.Interface, p.Interface != ""
	if !known && (p.Src.IsLoopback() || p.Dst.IsLoopback()) {
		name, known = "lo", true
	}
	if p.Direction == Inbound {
		c.inIf, c.inKnown = name, known
	} else {
		c.outIf, c.outKnown = name, known
	}
	return c
}

// cond is one match of a rule. match reports whether the packet satisfies
// it and, when it cannot tell, why.
type cond interface {
	match(c *pctx) (tri, string)
}

// maybeCond is a match the check cannot settle.
type maybeCond struct{ reason string }

func (m maybeCond) match(*pctx) (tri, string) { return maybe, m.reason }

// constCond always gives the same answer (a fragment match: the packet is
// never a later fragment).
type constCond struct{ v tri }

func (k constCond) match(*pctx) (tri, string) { return k.v, "" }

// protoCond matches the layer-4 protocol number.
type protoCond struct {
	any    bool
	nums   []uint8
	negate bool
}

func (pc protoCond) match(c *pctx) (tri, string) {
	return neg(triOf(pc.any || slices.Contains(pc.nums, c.proto)), pc.negate), ""
}

// famCond matches the address family (nft's implicit dependency of ip and
// ip6 matches in an inet table, and meta nfproto).
type famCond struct{ v6, negate bool }

func (f famCond) match(c *pctx) (tri, string) { return neg(triOf(c.v6 == f.v6), f.negate), "" }

// addrRange is an inclusive range of addresses.
type addrRange struct{ lo, hi netip.Addr }

func prefixRange(p netip.Prefix) addrRange {
	p = p.Masked()
	lo := p.Addr()
	hi := lo
	bits := lo.BitLen() - p.Bits()
	b := hi.AsSlice()
	for i := len(b) - 1; i >= 0 && bits > 0; i-- {
		n := min(bits, 8)
		b[i] |= byte(1<<n - 1)
		bits -= n
	}
	hi, _ = netip.AddrFromSlice(b)
	return addrRange{lo, hi}
}

func (r addrRange) contains(a netip.Addr) bool {
	return a.BitLen() == r.lo.BitLen() && r.lo.Compare(a) <= 0 && a.Compare(r.hi) <= 0
}

// addrCond matches the source or destination address. A check for an
// address of the other family never matches, negated or not: in an inet
// table "ip saddr != 10.0.0.0/8" does not match IPv6.
type addrCond struct {
	src    bool
	set    []addrRange
	negate bool
}

func (ac addrCond) match(c *pctx) (tri, string) {
	a := c.p.Dst
	if ac.src {
		a = c.p.Src
	}
	if !c.v6 {
		a = a.Unmap()
	}
	if len(ac.set) > 0 && ac.set[0].lo.Is6() != a.Is6() {
		return no, ""
	}
	return neg(triOf(slices.ContainsFunc(ac.set, func(r addrRange) bool { return r.contains(a) })), ac.negate), ""
}

// portCond matches the destination or source port, or either (both: an
// iptables multiport --ports).
type portCond struct {
	src, both bool
	ranges    []policy.PortRange
	negate    bool
	// protos is the implicit protocol dependency (tcp dport: TCP only); nil
	// when another match of the rule names the protocol.
	protos []uint8
	what   string // how the rule wrote it, for notes
}

func (pc portCond) in(port uint16) bool {
	return slices.ContainsFunc(pc.ranges, func(r policy.PortRange) bool { return r.Contains(port) })
}

func (pc portCond) match(c *pctx) (tri, string) {
	if pc.protos != nil && !slices.Contains(pc.protos, c.proto) {
		return no, ""
	}
	if !c.p.Protocol.HasPorts() {
		return maybe, fmt.Sprintf("%s reads the transport header of a %s packet, which has no ports", pc.what, c.p.Protocol)
	}
	if pc.both {
		if pc.in(c.p.DstPort) || (c.p.SrcPort != 0 && pc.in(c.p.SrcPort)) {
			return neg(yes, pc.negate), ""
		}
		if c.p.SrcPort == 0 {
			return maybe, fmt.Sprintf("%s also matches on the source port, which the check does not give", pc.what)
		}
		return neg(no, pc.negate), ""
	}
	if pc.src {
		if c.p.SrcPort == 0 {
			return maybe, fmt.Sprintf("%s matches on the source port, which the check does not give", pc.what)
		}
		return neg(triOf(pc.in(c.p.SrcPort)), pc.negate), ""
	}
	return neg(triOf(pc.in(c.p.DstPort)), pc.negate), ""
}

// ifaceCond matches the input or output interface by name; a name ending in
// "+" (iptables) or "*" (nft) is a prefix.
type ifaceCond struct {
	in     bool
	names  []string
	negate bool
	what   string
}

func ifaceMatch(pattern, name string) bool {
	if p, ok := strings.CutSuffix(pattern, "+"); ok {
		return strings.HasPrefix(name, p)
	}
	if p, ok := strings.CutSuffix(pattern, "*"); ok && !strings.HasSuffix(p, `\`) {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

func (ic ifaceCond) match(c *pctx) (tri, string) {
	name, known := c.outIf, c.outKnown
	if ic.in {
		name, known = c.inIf, c.inKnown
	}
	if known {
		return neg(triOf(slices.ContainsFunc(ic.names, func(p string) bool { return ifaceMatch(p, name) })), ic.negate), ""
	}
	// Unknown, but not loopback: "lo" alone is settled.
	if !slices.ContainsFunc(ic.names, func(p string) bool { return p != "lo" }) {
		return neg(no, ic.negate), ""
	}
	return maybe, fmt.Sprintf("%s depends on the interface, which the check does not give", ic.what)
}

// Conntrack states, as bits.
const (
	ctNew uint16 = 1 << iota
	ctEstablished
	ctRelated
	ctInvalid
	ctUntracked
	ctSNAT // virtual states of -m conntrack --ctstate and ct status
	ctDNAT
)

// stateCond matches the conntrack state (ct state, --ctstate, --state) or
// the SNAT/DNAT bits of ct status.
type stateCond struct {
	mask   uint16
	negate bool
	what   string
}

func (sc stateCond) match(c *pctx) (tri, string) {
	st := ctEstablished
	if c.p.New {
		st = ctNew
	}
	if sc.mask&st != 0 {
		return neg(yes, sc.negate), ""
	}
	if (sc.mask&ctDNAT != 0 && c.rs.hasDNAT) || (sc.mask&ctSNAT != 0 && c.rs.hasSNAT) {
		return maybe, fmt.Sprintf("%s depends on whether the connection was NATed, which is not followed", sc.what)
	}
	return neg(no, sc.negate), ""
}

// icmpType is an ICMP type with an optional code (-1: any).
type icmpType struct {
	typ  uint8
	code int16
}

// icmpCond matches the ICMP or ICMPv6 type; "any" matches every type.
type icmpCond struct {
	v6     bool
	any    bool
	types  []icmpType
	negate bool
	what   string
}

func (ic icmpCond) match(c *pctx) (tri, string) {
	want := policy.NumICMP
	if ic.v6 {
		want = policy.NumICMPv6
	}
	if c.proto != want {
		return no, ""
	}
	if ic.any {
		return neg(yes, ic.negate), ""
	}
	if !c.p.HasICMPType {
		return maybe, fmt.Sprintf("%s depends on the ICMP type, which the check does not give", ic.what)
	}
	r := no
	for _, t := range ic.types {
		if t.typ != c.p.ICMPType {
			continue
		}
		if t.code < 0 {
			r = yes
			break
		}
		r = maybe
	}
	if r == maybe {
		return maybe, fmt.Sprintf("%s depends on the ICMP code, which the check does not give", ic.what)
	}
	return neg(r, ic.negate), ""
}

// Address types (addrtype and fib … type), as bits.
const (
	atUnspec uint16 = 1 << iota
	atUnicast
	atLocal
	atBroadcast
	atAnycast
	atMulticast
	atBlackhole
	atUnreachable
	atProhibit
	atThrow
	atNAT
	atXResolve
)

// addrTypeBit returns the bit of an address type name, as addrtype and fib
// … type spell them (upper case).
func addrTypeBit(name string) (uint16, bool) {
	switch name {
	case "UNSPEC":
		return atUnspec, true
	case "UNICAST":
		return atUnicast, true
	case "LOCAL":
		return atLocal, true
	case "BROADCAST":
		return atBroadcast, true
	case "ANYCAST":
		return atAnycast, true
	case "MULTICAST":
		return atMulticast, true
	case "BLACKHOLE":
		return atBlackhole, true
	case "UNREACHABLE":
		return atUnreachable, true
	case "PROHIBIT":
		return atProhibit, true
	case "THROW":
		return atThrow, true
	case "NAT":
		return atNAT, true
	case "XRESOLVE":
		return atXResolve, true
	}
	return 0, false
}

// addrType is the kernel's type of an address: the guest's own address is
// LOCAL; the peer's is taken to be remote UNICAST unless it is multicast,
// the limited broadcast or loopback.
func addrType(a netip.Addr, own bool) uint16 {
	a = a.Unmap()
	switch {
	case a.IsMulticast():
		return atMulticast
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return atBroadcast
	case a.IsUnspecified():
		return atUnspec
	case own || a.IsLoopback():
		return atLocal
	}
	return atUnicast
}

// addrTypeCond matches the type of the source or destination address.
type addrTypeCond struct {
	src    bool
	mask   uint16
	negate bool
}

func (ac addrTypeCond) match(c *pctx) (tri, string) {
	a, own := c.p.Dst, c.p.Direction == Inbound
	if ac.src {
		a, own = c.p.Src, c.p.Direction == Outbound
	}
	return neg(triOf(ac.mask&addrType(a, own) != 0), ac.negate), ""
}

// Packet types, as bits.
const (
	ptUnicast uint16 = 1 << iota
	ptBroadcast
	ptMulticast
	ptHost
	ptOther
)

// pktTypeCond matches the link-layer packet type, known from the
// destination address.
type pktTypeCond struct {
	mask   uint16
	negate bool
}

func (pc pktTypeCond) match(c *pctx) (tri, string) {
	t := ptUnicast | ptHost
	switch addrType(c.p.Dst, false) {
	case atMulticast:
		t = ptMulticast
	case atBroadcast:
		t = ptBroadcast
	}
	return neg(triOf(pc.mask&t != 0), pc.negate), ""
}

// TCP flags, as bits.
const (
	tcpFIN uint8 = 1 << iota
	tcpSYN
	tcpRST
	tcpPSH
	tcpACK
	tcpURG
	tcpECE
	tcpCWR
)

// tcpFlagsCond matches (flags & mask) == want. The first packet of a
// connection carries SYN without ACK, RST or FIN; a later one carries ACK
// without SYN or RST; the other flags are not known.
type tcpFlagsCond struct {
	mask, want uint8
	negate     bool
}

func (tc tcpFlagsCond) match(c *pctx) (tri, string) {
	if c.proto != policy.NumTCP {
		return no, ""
	}
	flags, known := tcpACK, tcpSYN|tcpRST|tcpACK
	if c.p.New {
		flags, known = tcpSYN, tcpSYN|tcpRST|tcpACK|tcpFIN
	}
	if flags&tc.mask&known != tc.want&tc.mask&known || tc.want&^tc.mask != 0 {
		return neg(no, tc.negate), "" // the known flags already differ
	}
	if tc.mask&^known != 0 {
		return maybe, "the TCP flags matched are not known for this packet"
	}
	return neg(yes, tc.negate), ""
}

// tcpFlagsAnyCond matches when one of bits is set (nft's "tcp flags syn").
type tcpFlagsAnyCond struct{ bits uint8 }

func (tc tcpFlagsAnyCond) match(c *pctx) (tri, string) {
	if c.proto != policy.NumTCP {
		return no, ""
	}
	flags, known := tcpACK, tcpSYN|tcpRST|tcpACK
	if c.p.New {
		flags, known = tcpSYN, tcpSYN|tcpRST|tcpACK|tcpFIN
	}
	switch {
	case flags&tc.bits != 0:
		return yes, ""
	case tc.bits&^known == 0:
		return no, ""
	}
	return maybe, "the TCP flags matched are not known for this packet"
}

// devicesMatch reports whether a netdev chain sees the packet.
func devicesMatch(devices []string, c *pctx) (tri, string) {
	ic := ifaceCond{in: c.p.Direction == Inbound, names: devices, what: "the chain's device"}
	return ic.match(c)
}
