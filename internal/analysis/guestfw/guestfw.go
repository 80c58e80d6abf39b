// Package guestfw reads a guest's own firewall — the text of iptables-save,
// ip6tables-save or nft list ruleset — and tells what it does to one packet.
// It is the guest leg of a reachability check: outbound traffic passes the
// guest firewall before the security group, inbound traffic after it.
//
// The model covers the hooks a packet to or from the guest itself passes:
// inbound prerouting then input, outbound output then postrouting. Every
// table at those hooks is evaluated (iptables raw, mangle, nat, filter and
// security at their kernel priorities; nft base chains in priority order),
// so a drop anywhere drops and an accept ends only the chain it is in.
// Forwarded traffic (the FORWARD chain, where Docker keeps most of its
// rules, and nft forward hooks) never reaches the guest's own processes and
// is parsed but not evaluated (Ruleset.Chains says which chains are). The
// nat chains see only the first packet of a connection; a DNAT or REDIRECT
// that could apply to the packet makes the answer uncertain, since the
// packet would go somewhere else: on a Docker host, a published port is
// DNATed to a container in nat PREROUTING and forwarded, so a check of that
// port is UNCERTAIN, naming the DNAT rule, while the host's own ports are
// decided by its INPUT chain. SNAT and MASQUERADE end their nat chain and
// let the packet go on.
//
// A text is taken as the guest's whole firewall for its family: an nft
// ruleset with no table for a family does not filter that family, while an
// iptables-save text says nothing about IPv6 (nor ip6tables-save about
// IPv4), so a packet of the other family gets UNCERTAIN.
//
// The checked packet is an ordinary one: not a fragment, with no IPv6
// extension or IPsec headers, so matches on those never hold.
//
// Conntrack is modelled for one packet: a new connection is NEW, a packet
// of an established one is ESTABLISHED (never RELATED or INVALID); the
// DNAT and SNAT states hold only if the ruleset has rules that rewrite
// addresses, and then they are unsettled.
//
// Nothing is skipped silently. A line that is not understood is kept, with
// its number and the reason, in Ruleset.Issues; a rule with such a part
// still takes part in evaluation with every part understood before it, and
// when evaluation cannot tell whether it applies the answer is UNCERTAIN,
// naming the line. Matches that depend on things a check does not give —
// rate limits, recent lists, marks, ipsets, owners, an unknown source port
// or interface — are understood but make the answer uncertain in the same
// way. Where a rule may or may not apply, both outcomes are followed, and
// the answer is certain only when they agree.
//
// The package is pure: it does no I/O and imports only the standard library
// and the rule model.
package guestfw

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Direction is the way a packet crosses the guest firewall. The zero value
// is invalid.
type Direction uint8

// The directions.
const (
	// Inbound is a packet arriving at the guest: security group, then the
	// guest firewall, then the process.
	Inbound Direction = iota + 1
	// Outbound is a packet the guest sends: the process, then the guest
	// firewall, then the security group.
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) {
	if d != Inbound && d != Outbound {
		return nil, fmt.Errorf("invalid direction %d", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: inbound or outbound,
// in any case.
func (d *Direction) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "inbound":
		*d = Inbound
	case "outbound":
		*d = Outbound
	default:
		return fmt.Errorf("direction %q: must be inbound or outbound", b)
	}
	return nil
}

// Verdict is what the guest firewall does to a packet. The zero value is
// invalid.
type Verdict uint8

// The verdicts.
const (
	Accept Verdict = iota + 1
	Drop
	Reject
	// Uncertain means the text does not settle the question: a rule that
	// was not understood, or a match on something the check does not give,
	// may decide. Result.Notes say which lines and why.
	Uncertain
)

var verdictNames = [...]string{Accept: "ACCEPT", Drop: "DROP", Reject: "REJECT", Uncertain: "UNCERTAIN"}

func (v Verdict) String() string {
	if v >= Accept && v <= Uncertain {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// MarshalText implements encoding.TextMarshaler.
func (v Verdict) MarshalText() ([]byte, error) {
	if v < Accept || v > Uncertain {
		return nil, fmt.Errorf("invalid verdict %d", uint8(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, in any case.
func (v *Verdict) UnmarshalText(b []byte) error {
	for w := Accept; w <= Uncertain; w++ {
		if strings.EqualFold(string(b), verdictNames[w]) {
			*v = w
			return nil
		}
	}
	return fmt.Errorf("verdict %q: must be ACCEPT, DROP, REJECT or UNCERTAIN", b)
}

// Format is the kind of text a Ruleset was read from.
type Format uint8

// The formats.
const (
	IptablesSave  Format = iota + 1 // iptables-save: IPv4 rules
	Ip6tablesSave                   // ip6tables-save: IPv6 rules
	NftRuleset                      // nft list ruleset: both families, per table
)

func (f Format) String() string {
	switch f {
	case IptablesSave:
		return "iptables-save"
	case Ip6tablesSave:
		return "ip6tables-save"
	case NftRuleset:
		return "nft list ruleset"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// MarshalText implements encoding.TextMarshaler.
func (f Format) MarshalText() ([]byte, error) {
	if f < IptablesSave || f > NftRuleset {
		return nil, fmt.Errorf("invalid format %d", uint8(f))
	}
	return []byte(f.String()), nil
}

// Packet is the one packet a check asks about. The guest's own address is
// the destination of an inbound packet and the source of an outbound one;
// the peer's address is taken to be a remote unicast address unless it is
// multicast, the limited broadcast or a loopback address.
type Packet struct {
	Direction Direction
	// Protocol is TCP, UDP, ICMP, ICMPv6 or GRE; ALL is not a packet's.
	Protocol policy.Protocol
	// Src and Dst are the packet's addresses, both of one family, which is
	// the packet's family.
	Src, Dst netip.Addr
	// DstPort is the destination port of a TCP or UDP packet (required for
	// those protocols); SrcPort is its source port, or 0 when the check does
	// not know it (then a match on the source port makes the answer
	// uncertain).
	DstPort, SrcPort uint16
	// ICMPType is the ICMP or ICMPv6 type when HasICMPType is set; without
	// it, a match on the ICMP type makes the answer uncertain.
	ICMPType    uint8
	HasICMPType bool
	// New is the first packet of a connection (conntrack state NEW); false
	// is a packet of an established connection (ESTABLISHED).
	New bool
	// Interface is the guest's interface the packet crosses (its input
	// interface inbound, output interface outbound), or "" when not known:
	// then it is the loopback interface for loopback addresses and some
	// interface other than loopback otherwise, and a match on any other
	// name makes the answer uncertain. The interface on the other side is
	// none (an empty name), as in the kernel.
	Interface string
}

// Is6 reports whether p is an IPv6 packet.
func (p Packet) Is6() bool { return p.Src.Is6() && !p.Src.Is4In6() }

// Validate reports what makes p unusable for Decide, every problem at once.
func (p Packet) Validate() error {
	var errs []string
	if p.Direction != Inbound && p.Direction != Outbound {
		errs = append(errs, "direction must be inbound or outbound")
	}
	switch p.Protocol {
	case policy.TCP, policy.UDP, policy.ICMP, policy.ICMPv6, policy.GRE:
	default:
		errs = append(errs, fmt.Sprintf("protocol %s is not one packet's (TCP, UDP, ICMP, ICMPv6 or GRE)", p.Protocol))
	}
	if !p.Src.IsValid() || !p.Dst.IsValid() {
		errs = append(errs, "source and destination addresses are required")
	} else if p.Src.Unmap().Is4() != p.Dst.Unmap().Is4() {
		errs = append(errs, fmt.Sprintf("source %s and destination %s are of different families", p.Src, p.Dst))
	} else if v4 := p.Src.Unmap().Is4(); (p.Protocol == policy.ICMP && !v4) || (p.Protocol == policy.ICMPv6 && v4) {
		errs = append(errs, fmt.Sprintf("protocol %s does not exist in this address family", p.Protocol))
	}
	if p.Protocol.HasPorts() && p.DstPort == 0 {
		errs = append(errs, fmt.Sprintf("a %s packet needs a destination port", p.Protocol))
	}
	if !p.Protocol.HasPorts() && (p.DstPort != 0 || p.SrcPort != 0) {
		errs = append(errs, fmt.Sprintf("a %s packet has no ports", p.Protocol))
	}
	if p.HasICMPType && p.Protocol != policy.ICMP && p.Protocol != policy.ICMPv6 {
		errs = append(errs, "an ICMP type is given for a packet that is not ICMP")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid packet: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (p Packet) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s -> %s", p.Direction, p.Protocol, p.Src, p.Dst)
	if p.Protocol.HasPorts() {
		if p.SrcPort != 0 {
			fmt.Fprintf(&b, " sport %d", p.SrcPort)
		}
		fmt.Fprintf(&b, " dport %d", p.DstPort)
	}
	if p.HasICMPType {
		fmt.Fprintf(&b, " type %d", p.ICMPType)
	}
	if p.New {
		b.WriteString(" new")
	} else {
		b.WriteString(" established")
	}
	if p.Interface != "" {
		fmt.Fprintf(&b, " via %s", p.Interface)
	}
	return b.String()
}

// Issue is one line of the text that was not understood.
type Issue struct {
	Line   int    // 1-based line number
	Text   string // the line, trimmed
	Reason string
}

func (i Issue) String() string { return fmt.Sprintf("line %d: %s (%s)", i.Line, i.Reason, i.Text) }

// Note explains a line that makes, or could have made, a decision
// uncertain: a rule not understood, or a match the check cannot settle.
type Note struct {
	Line   int
	Text   string
	Reason string
}

func (n Note) String() string { return fmt.Sprintf("line %d: %s (%s)", n.Line, n.Reason, n.Text) }

// Step is one chain on the path to a decision: the chain, and the line in it
// that jumped onward or decided (0 when the chain's end or policy decided).
type Step struct {
	Table, Chain string
	Line         int
	Action       string // "jump X", "goto X", "accept", "drop", "reject", "policy drop", "return", …
}

func (s Step) String() string {
	if s.Line == 0 {
		return fmt.Sprintf("%s %s: %s", s.Table, s.Chain, s.Action)
	}
	return fmt.Sprintf("%s %s line %d: %s", s.Table, s.Chain, s.Line, s.Action)
}

// Result is the guest firewall's answer for one packet.
type Result struct {
	Verdict Verdict
	// Possible lists the verdicts the packet may get when Verdict is
	// Uncertain (with Uncertain itself when some outcome is unknown, such
	// as a rule not understood); a single verdict otherwise.
	Possible []Verdict
	// Line and Text are the deciding line; Line is 0 when a chain's policy
	// decided (Text then says which) or nothing did.
	Line int
	Text string
	// Path is the chains taken to the decision, base chain first; for an
	// accept, every base chain the packet passed.
	Path []Step
	// Alternatives are, when more than one verdict is possible, each one
	// with the first line found to give it (Line 0: a policy), in the
	// order of Possible.
	Alternatives []Alternative
	// Notes are the lines not understood or not settled that were, or
	// could have been, on the path, and why.
	Notes []Note
}

// Alternative is one verdict an uncertain answer may turn out to be.
type Alternative struct {
	Verdict Verdict
	Line    int
	Text    string
	Path    []Step
}

// Blocked reports whether every possible outcome drops or rejects the
// packet.
func (r Result) Blocked() bool {
	for _, v := range r.Possible {
		if v != Drop && v != Reject {
			return false
		}
	}
	return len(r.Possible) > 0
}

func (r Result) String() string {
	var b strings.Builder
	b.WriteString(r.Verdict.String())
	if r.Line != 0 {
		fmt.Fprintf(&b, " by line %d (%s)", r.Line, r.Text)
	} else if r.Text != "" {
		fmt.Fprintf(&b, " by %s", r.Text)
	}
	for _, n := range r.Notes {
		b.WriteString("; ")
		b.WriteString(n.String())
	}
	return b.String()
}
