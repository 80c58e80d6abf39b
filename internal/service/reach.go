package service

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/analysis/guestfw"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// ReachInput is CheckReachability's request. Source and Destination are
// each an instance id of the caller's or an IP address outside Palisade;
// the guest firewalls, optional, are the text of iptables-save,
// ip6tables-save or nft list ruleset on each end.
type ReachInput struct {
	Source, Destination                           string
	Protocol                                      string // TCP, UDP, ICMP, ICMPv6 or GRE
	Port                                          int    // destination port, or NoPort; required for TCP and UDP
	SourceGuestFirewall, DestinationGuestFirewall string
}

// ReachLeg is one leg of a reachability check (see analysis.LegKind). A
// group leg has Decision, as SimulateTraffic would answer it; a guest
// firewall leg checked has Firewall.
type ReachLeg struct {
	Kind     analysis.LegKind
	Verdict  analysis.LegVerdict
	Decision *Decision
	Firewall *guestfw.Result
	Notes    []string
}

// Reachability is CheckReachability's answer: the overall answer, the
// first leg that blocks (or may block) the packet, every leg in order and
// warnings.
type Reachability struct {
	Answer      analysis.Answer
	Blocking    analysis.LegKind
	Source      string // the source address checked
	Destination string // the destination address checked
	Legs        []ReachLeg
	Warnings    []string
}

// maxGuestFirewall bounds the text of one guest firewall.
const maxGuestFirewall = 1 << 20

// CheckReachability decides the first packet of a new connection from
// Source to Destination through every leg of its path, in the order of
// the seed FAQ (point 11): the source's process, guest firewall and
// egress groups, then the destination's ingress groups, guest firewall and
// process. An instance's group leg is decided by its effective list
// exactly as SimulateTraffic decides it (the same compiled, cached list);
// an address has no group leg. Between two instances, the instances'
// first private IPv4 addresses are used (their first IPv6 addresses for
// ICMPv6 or when the other end is an IPv6 address).
func (s *Service) CheckReachability(ctx context.Context, c Caller, in ReachInput) (Reachability, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return Reachability{}, err
	}
	proto, err := policy.ParseProtocol(strings.TrimSpace(in.Protocol))
	if err != nil {
		return Reachability{}, err
	}
	if _, ok := proto.Number(); !ok {
		return Reachability{}, kernel.FieldError("Protocol", in.Protocol, policy.Malformed, "a packet has one protocol: TCP, UDP, ICMP, ICMPv6 or GRE")
	}
	var port uint16
	if proto.HasPorts() {
		switch {
		case in.Port == NoPort:
			return Reachability{}, kernel.FieldError("Port", "", policy.Missing, "is required for %s", proto)
		case in.Port < 1 || in.Port > 65535:
			return Reachability{}, kernel.FieldError("Port", fmt.Sprint(in.Port), policy.OutOfRange, "must be 1-65535 for %s", proto)
		}
		port = uint16(in.Port)
	}
	src, err := s.reachEnd(ctx, c, "Source", in.Source)
	if err != nil {
		return Reachability{}, err
	}
	dst, err := s.reachEnd(ctx, c, "Destination", in.Destination)
	if err != nil {
		return Reachability{}, err
	}
	v6 := proto == policy.ICMPv6 || src.ins == nil && src.addr.Is6() || dst.ins == nil && dst.addr.Is6()
	for _, e := range []*reachEnd{src, dst} {
		if err := e.pick(v6); err != nil {
			return Reachability{}, err
		}
	}
	if src.addr.Is4() != dst.addr.Is4() {
		return Reachability{}, kernel.FieldError("Destination", in.Destination, policy.Malformed, "is an address of another family than the source %s", src.addr)
	}
	if v4, v6 := proto.Families(); src.addr.Is4() && !v4 || src.addr.Is6() && !v6 {
		return Reachability{}, kernel.FieldError("Protocol", in.Protocol, policy.Malformed, "is not a protocol of the family of %s", src.addr)
	}
	fw := func(field, text string) (*guestfw.Ruleset, error) {
		if strings.TrimSpace(text) == "" {
			return nil, nil
		}
		if len(text) > maxGuestFirewall {
			return nil, kernel.FieldError(field, fmt.Sprint(len(text)), policy.OutOfRange, "at most %d bytes", maxGuestFirewall)
		}
		rs, err := guestfw.Parse(text)
		if err != nil {
			return nil, kernel.FieldError(field, "", policy.Malformed, "is not the text of iptables-save, ip6tables-save or nft list ruleset: %v", err)
		}
		return rs, nil
	}
	var a store.Account
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		a, err = tx.GetAccount(ctx, c.AccountID)
		return err
	})
	if err != nil {
		return Reachability{}, err
	}
	ain := analysis.ReachInput{Protocol: proto, Port: port, Port25Blocked: !a.Port25Unblocked}
	if ain.Source, err = src.endpoint(ctx, s, c, true); err != nil {
		return Reachability{}, err
	}
	if ain.Destination, err = dst.endpoint(ctx, s, c, false); err != nil {
		return Reachability{}, err
	}
	if ain.Source.Firewall, err = fw("SourceGuestFirewall", in.SourceGuestFirewall); err != nil {
		return Reachability{}, err
	}
	if ain.Destination.Firewall, err = fw("DestinationGuestFirewall", in.DestinationGuestFirewall); err != nil {
		return Reachability{}, err
	}
	r, err := analysis.CheckReach(ain)
	if err != nil {
		return Reachability{}, kernel.FieldError("Destination", in.Destination, policy.Malformed, "%v", err)
	}
	out := Reachability{Answer: r.Answer, Blocking: r.Blocking, Source: src.addr.String(), Destination: dst.addr.String(), Warnings: r.Warnings}
	for _, l := range r.Legs {
		leg := ReachLeg{Kind: l.Kind, Verdict: l.Verdict, Firewall: l.Firewall, Notes: l.Notes}
		if l.Decision != nil {
			d := decision(*l.Decision, l.Trace)
			leg.Decision = &d
		}
		out.Legs = append(out.Legs, leg)
	}
	return out, nil
}

// reachEnd is one end of a reachability check: an instance or an address.
type reachEnd struct {
	field string
	ins   *store.Instance
	addr  netip.Addr
}

// reachEnd reads one end: an instance of the caller's (ins- prefix) or an
// IP address.
func (s *Service) reachEnd(ctx context.Context, c Caller, field, v string) (*reachEnd, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, kernel.FieldError(field, "", policy.Missing, "is required: an instance id or an IP address")
	}
	if !strings.HasPrefix(v, policy.PrefixInstance) {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, kernel.FieldError(field, v, policy.Malformed, "is neither an instance id nor an IP address")
		}
		return &reachEnd{field: field, addr: a.Unmap()}, nil
	}
	if err := kernel.CheckID(field, policy.PrefixInstance, v); err != nil {
		return nil, err
	}
	var ins store.Instance
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		ins, _, err = tx.GetAccountInstancePolicies(ctx, c.AccountID, c.Region, v)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		e := kernel.NotFound(ResourceInstance, v)
		e.Field = field
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return &reachEnd{field: field, ins: &ins}, nil
}

// pick chooses an instance's address of the family asked (an address
// end keeps its own).
func (e *reachEnd) pick(v6 bool) error {
	if e.ins == nil {
		return nil
	}
	list, family := e.ins.PrivateIPs, "IPv4"
	if v6 {
		list, family = e.ins.IPv6s, "IPv6"
	}
	for _, s := range list {
		if a, err := netip.ParseAddr(s); err == nil && a.Unmap().Is6() == v6 {
			e.addr = a.Unmap()
			return nil
		}
	}
	return kernel.FieldError(e.field, e.ins.ID, policy.Malformed, "instance %s has no %s address", e.ins.ID, family)
}

// endpoint returns the analysis endpoint: for an instance, its compiled
// effective list of the direction the packet crosses it (egress at the
// source), from SimulateTraffic's cache.
func (e *reachEnd) endpoint(ctx context.Context, s *Service, c Caller, source bool) (analysis.Endpoint, error) {
	out := analysis.Endpoint{Address: e.addr}
	if e.ins == nil {
		return out, nil
	}
	sim, err := s.simulation(ctx, c, e.ins.ID)
	if err != nil {
		return analysis.Endpoint{}, err
	}
	out.InstanceID, out.List = e.ins.ID, sim.ingress
	if source {
		out.List = sim.egress
	}
	return out, nil
}
