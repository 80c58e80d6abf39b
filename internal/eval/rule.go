// Package eval classifies packets against an ordered list of 5-tuple rules.
//
// A Rule constrains source and destination prefixes, source and destination
// port ranges and the IP protocol. Rules are in priority order: the first rule
// that matches a packet decides. Compile builds a Classifier once; its Decide
// method answers a packet without allocating. Linear is the plain first-match
// scan used as the reference the Classifier is tested against.
//
// CompileList compiles an instance's effective rule list (a rules.List) into
// an Effective, which decides a query — the peer, protocol and port seen
// from the instance — without allocating and names the deciding entry.
//
// The package does no I/O.
package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Action is what a rule does to the packets it matches. The zero value is
// invalid.
type Action uint8

const (
	// Accept admits the packet.
	Accept Action = iota + 1
	// Drop discards the packet.
	Drop
)

// String returns "ACCEPT" or "DROP".
func (a Action) String() string {
	switch a {
	case Accept:
		return "ACCEPT"
	case Drop:
		return "DROP"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if a != Accept && a != Drop {
		return nil, fmt.Errorf("invalid action %d", a)
	}
	return []byte(a.String()), nil
}

// Proto selects IP protocol numbers: AnyProto, or one exact value 0-255.
type Proto int16

// AnyProto matches every protocol.
const AnyProto Proto = -1

// Matches reports whether the protocol number p is selected.
func (m Proto) Matches(p uint8) bool { return m == AnyProto || m == Proto(p) }

// String returns "any" or the decimal protocol number.
func (m Proto) String() string {
	if m == AnyProto {
		return "any"
	}
	return strconv.Itoa(int(m))
}

func (m Proto) valid() bool { return m >= AnyProto && m <= 255 }

// PortRange is the inclusive range of ports [Lo, Hi].
type PortRange struct {
	Lo, Hi uint16
}

// AllPorts matches every port.
var AllPorts = PortRange{0, 65535}

// Port returns the range holding the single port p.
func Port(p uint16) PortRange { return PortRange{p, p} }

// Contains reports whether p is in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// String returns "lo-hi", or "p" for a single port.
func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// Rule is one classification rule. Both prefixes must be of the same address
// family, which is the rule's family: an IPv4 rule never matches an IPv6
// packet, nor the reverse.
type Rule struct {
	Src, Dst           netip.Prefix
	SrcPorts, DstPorts PortRange
	Proto              Proto
	// Decider is an opaque payload returned with a match, typically an index
	// into the caller's own table of policies.
	Decider int32
	Action  Action
}

// Matches reports whether the packet satisfies every field of the rule.
func (r *Rule) Matches(p Packet) bool {
	return r.Proto.Matches(p.Proto) &&
		r.DstPorts.Contains(p.DstPort) &&
		r.SrcPorts.Contains(p.SrcPort) &&
		r.Src.Contains(p.Src) &&
		r.Dst.Contains(p.Dst)
}

// String formats the rule in a compact, ClassBench-like form.
func (r Rule) String() string {
	return fmt.Sprintf("%v %v %v %v proto=%v %v decider=%d", r.Src, r.Dst, r.SrcPorts, r.DstPorts, r.Proto, r.Action, r.Decider)
}

// Validate reports what makes the rule unusable, if anything.
func (r *Rule) Validate() error {
	var errs []error
	if !r.Src.IsValid() {
		errs = append(errs, errors.New("invalid source prefix"))
	}
	if !r.Dst.IsValid() {
		errs = append(errs, errors.New("invalid destination prefix"))
	}
	if r.Src.IsValid() && r.Dst.IsValid() && r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
		errs = append(errs, fmt.Errorf("source %v and destination %v differ in address family", r.Src, r.Dst))
	}
	if r.Src.Addr().Zone() != "" || r.Dst.Addr().Zone() != "" {
		errs = append(errs, errors.New("prefix with a zone"))
	}
	if r.SrcPorts.Lo > r.SrcPorts.Hi {
		errs = append(errs, fmt.Errorf("source port range %d-%d is empty", r.SrcPorts.Lo, r.SrcPorts.Hi))
	}
	if r.DstPorts.Lo > r.DstPorts.Hi {
		errs = append(errs, fmt.Errorf("destination port range %d-%d is empty", r.DstPorts.Lo, r.DstPorts.Hi))
	}
	if !r.Proto.valid() {
		errs = append(errs, fmt.Errorf("protocol %d out of range", r.Proto))
	}
	if r.Action != Accept && r.Action != Drop {
		errs = append(errs, fmt.Errorf("invalid action %d", r.Action))
	}
	return errors.Join(errs...)
}

// Packet is the header of one packet. Its family is that of its addresses; a
// packet whose two addresses differ in family, or carry an IPv6 zone, matches
// no rule (as netip.Prefix.Contains would have it). An IPv4-mapped IPv6
// address is IPv6: callers that want it treated as IPv4 unmap it first.
type Packet struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// String formats the packet as "proto src:sport -> dst:dport".
func (p Packet) String() string {
	return fmt.Sprintf("%d %v -> %v", p.Proto, netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort))
}

// Match is the rule that decided a packet.
type Match struct {
	Index   int32 // position of the rule in the compiled list
	Decider int32 // the rule's Decider
	Action  Action
}

// Linear is the reference evaluator: it tries every rule in order and returns
// the first that matches. It is slow and obviously correct.
type Linear []Rule

// Decide returns the first rule matching p.
func (l Linear) Decide(p Packet) (Match, bool) {
	for i := range l {
		if l[i].Matches(p) {
			return Match{Index: int32(i), Decider: l[i].Decider, Action: l[i].Action}, true
		}
	}
	return Match{}, false
}
