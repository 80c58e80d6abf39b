package analysis

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/palisade-sg/palisade/internal/analysis/guestfw"
	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// LegKind names a leg of a path between two endpoints, in the order a new
// connection's first packet crosses them (seed FAQ point 11): outbound,
// the source's process, its guest firewall, its security groups' egress;
// inbound, the destination's security groups' ingress, its guest
// firewall, its process.
type LegKind string

// The legs, in the order a packet crosses them.
const (
	LegSourceProcess            LegKind = "SOURCE_PROCESS"
	LegSourceGuestFirewall      LegKind = "SOURCE_GUEST_FIREWALL"
	LegSourceSecurityGroup      LegKind = "SOURCE_SECURITY_GROUP"
	LegDestinationSecurityGroup LegKind = "DESTINATION_SECURITY_GROUP"
	LegDestinationGuestFirewall LegKind = "DESTINATION_GUEST_FIREWALL"
	LegDestinationProcess       LegKind = "DESTINATION_PROCESS"
)

// LegVerdict is what a leg does to the packet.
type LegVerdict string

// The leg verdicts. NOT_CHECKED is a leg the check has nothing to decide
// with (a process, a guest firewall whose text was not given): it never
// blocks the answer, and its Notes say what to check by hand.
const (
	LegAccept     LegVerdict = "ACCEPT"
	LegDrop       LegVerdict = "DROP"
	LegReject     LegVerdict = "REJECT"
	LegUncertain  LegVerdict = "UNCERTAIN"
	LegNotChecked LegVerdict = "NOT_CHECKED"
)

// Answer is a reachability check's overall answer.
type Answer string

// The answers: REACHABLE when every leg checked accepts, BLOCKED when a
// leg drops or rejects the packet whatever is uncertain, UNCERTAIN
// otherwise.
const (
	Reachable Answer = "REACHABLE"
	Blocked   Answer = "BLOCKED"
	Uncertain Answer = "UNCERTAIN"
)

// Endpoint is one end of a reachability check: an instance, with its
// effective list of the direction the packet crosses it (egress at the
// source, ingress at the destination), or an address outside Palisade
// (List nil: no group leg). Firewall is the guest's firewall text as
// parsed, or nil when not given.
type Endpoint struct {
	InstanceID string // "" for an address
	Address    netip.Addr
	List       *eval.Effective
	Firewall   *guestfw.Ruleset
}

// ReachInput is a reachability check: the first packet of a connection
// from Source to Destination, of Protocol (one packet's: TCP, UDP, ICMP,
// ICMPv6 or GRE) and, for TCP and UDP, destination Port.
type ReachInput struct {
	Source, Destination Endpoint
	Protocol            policy.Protocol
	Port                uint16
	// Port25Blocked is whether the source's account has the platform's
	// outbound TCP 25 block (for the warning on an address source).
	Port25Blocked bool
}

// Leg is one leg of the path and what it does to the packet. For a group
// leg, Decision is the evaluator's (the same SimulateTraffic answers) and
// Trace its walk; for a guest firewall leg, Firewall is the guest
// firewall's answer (its deciding line, Notes on lines not understood).
type Leg struct {
	Kind     LegKind
	Verdict  LegVerdict
	Decision *eval.Decision
	Trace    []string
	Firewall *guestfw.Result
	// Notes explain the leg: what was not checked, or what the lines not
	// understood mean for the answer.
	Notes []string
}

// Reach is a reachability check's answer: every leg in order, the
// overall answer and, unless REACHABLE, the first leg that blocks (or,
// when UNCERTAIN, may block) the packet.
type Reach struct {
	Answer   Answer
	Blocking LegKind // "" when REACHABLE
	Legs     []Leg
	Warnings []string
}

// CheckReach decides the first packet of a connection through every leg
// of its path (see LegKind).
func CheckReach(in ReachInput) (Reach, error) {
	num, ok := in.Protocol.Number()
	if !ok {
		return Reach{}, fmt.Errorf("protocol %s is not one packet's", in.Protocol)
	}
	src, dst := in.Source.Address.Unmap(), in.Destination.Address.Unmap()
	if !src.IsValid() || !dst.IsValid() {
		return Reach{}, fmt.Errorf("source and destination addresses are required")
	}
	if src.Is4() != dst.Is4() {
		return Reach{}, fmt.Errorf("source %s and destination %s are of different families", src, dst)
	}
	if v4, v6 := in.Protocol.Families(); src.Is4() && !v4 || src.Is6() && !v6 {
		return Reach{}, fmt.Errorf("protocol %s does not exist in the family of %s", in.Protocol, src)
	}
	port := in.Port
	if !in.Protocol.HasPorts() {
		port = 0
	} else if port == 0 {
		return Reach{}, fmt.Errorf("a %s packet needs a destination port", in.Protocol)
	}
	pkt := guestfw.Packet{Protocol: in.Protocol, Src: src, Dst: dst, DstPort: port, New: true}
	process := func(k LegKind, id string, a netip.Addr) Leg {
		what := "sends the packet"
		if k == LegDestinationProcess {
			what = fmt.Sprintf("listens on %s%s", in.Protocol, portText(in.Protocol, port))
		}
		return Leg{Kind: k, Verdict: LegNotChecked, Notes: []string{fmt.Sprintf("Palisade cannot see whether a process on %s %s: check on the machine", name(id, a), what)}}
	}
	legs := []Leg{process(LegSourceProcess, in.Source.InstanceID, src)}
	pkt.Direction = guestfw.Outbound
	legs = append(legs, guestLeg(LegSourceGuestFirewall, in.Source, pkt))
	var warnings []string
	if in.Source.List != nil {
		leg, d := groupLeg(LegSourceSecurityGroup, in.Source.List, eval.Query{Peer: dst, Proto: num, Port: port})
		legs = append(legs, leg)
		if d.Platform == rules.PlatformPort25 {
			warnings = append(warnings, rules.Port25Rule()+" is blocked by the platform; UnblockPort25 lifts the block for the account")
		}
	} else if in.Port25Blocked && in.Protocol == policy.TCP && port == 25 && in.Destination.InstanceID == "" {
		warnings = append(warnings, rules.Port25Rule()+" is blocked by the platform for instances of the account")
	}
	if in.Destination.List != nil {
		leg, _ := groupLeg(LegDestinationSecurityGroup, in.Destination.List, eval.Query{Peer: src, Proto: num, Port: port})
		legs = append(legs, leg)
	}
	pkt.Direction = guestfw.Inbound
	legs = append(legs, guestLeg(LegDestinationGuestFirewall, in.Destination, pkt))
	legs = append(legs, process(LegDestinationProcess, in.Destination.InstanceID, dst))
	if in.Protocol.HasPorts() && slices.Contains(catalog.ISPBlocked(in.Protocol), port) {
		warnings = append(warnings, fmt.Sprintf("%s port %d is commonly blocked by ISPs; traffic across the Internet may not arrive", in.Protocol, port))
	}
	out := Reach{Answer: Reachable, Legs: legs, Warnings: warnings}
	for _, l := range legs {
		switch l.Verdict {
		case LegDrop, LegReject:
			out.Answer, out.Blocking = Blocked, l.Kind
			return out, nil
		case LegUncertain:
			if out.Answer == Reachable {
				out.Answer, out.Blocking = Uncertain, l.Kind
			}
		}
	}
	return out, nil
}

// groupLeg decides q through list, as SimulateTraffic does.
func groupLeg(k LegKind, list *eval.Effective, q eval.Query) (Leg, eval.Decision) {
	d, lines := list.Trace(q)
	v := LegAccept
	if d.Verdict != policy.Accept {
		v = LegDrop
	}
	return Leg{Kind: k, Verdict: v, Decision: &d, Trace: lines}, d
}

// guestLeg decides p through the endpoint's guest firewall, if given.
func guestLeg(k LegKind, e Endpoint, p guestfw.Packet) Leg {
	if e.Firewall == nil {
		return Leg{Kind: k, Verdict: LegNotChecked, Notes: []string{fmt.Sprintf("the guest firewall of %s was not given: pass the text of iptables-save or nft list ruleset to check it", name(e.InstanceID, e.Address))}}
	}
	r := e.Firewall.Decide(p)
	leg := Leg{Kind: k, Firewall: &r}
	switch {
	case r.Verdict == guestfw.Accept:
		leg.Verdict = LegAccept
	case r.Verdict == guestfw.Drop:
		leg.Verdict = LegDrop
	case r.Verdict == guestfw.Reject:
		leg.Verdict = LegReject
	case r.Blocked():
		// Every possible outcome drops or rejects: blocked, whichever.
		leg.Verdict = LegDrop
		leg.Notes = append(leg.Notes, "the firewall drops or rejects the packet whichever way the uncertain lines go")
	default:
		leg.Verdict = LegUncertain
		leg.Notes = append(leg.Notes, fmt.Sprintf("the firewall may give %v: the lines below decide, and the check cannot settle them", r.Possible))
	}
	for _, n := range r.Notes {
		meaning := "it was not on the deciding path, so the answer stands"
		if leg.Verdict == LegUncertain {
			meaning = "it may decide the packet"
		}
		leg.Notes = append(leg.Notes, fmt.Sprintf("%s: %s", n, meaning))
	}
	return leg
}

func name(id string, a netip.Addr) string {
	if id != "" {
		return fmt.Sprintf("%s (%s)", id, a)
	}
	return a.String()
}

func portText(p policy.Protocol, port uint16) string {
	if !p.HasPorts() {
		return ""
	}
	return fmt.Sprintf(" port %d", port)
}
