// Package policy is Palisade's rule model: protocols, ports, peers, actions,
// directions, policies and policy sets, with parsers whose output String
// round-trips. It is pure: no I/O.
package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDescriptionLen is the longest PolicyDescription, in characters.
const MaxDescriptionLen = 100

// Policy is one security-group rule. It matches either Protocol+Ports or a
// service template (ServiceID, ppm- or ppmg-), and exactly one Peer.
type Policy struct {
	Protocol    Protocol // zero when ServiceID is set
	Ports       PortSet  // zero when ServiceID is set
	ServiceID   string   // ppm-/ppmg- service template (group), or ""
	Peer        Peer
	Action      Action
	Description string
	ModifyTime  time.Time // set by the service layer; not part of the rule's content
	// Disabled keeps the policy in its group without it matching anything:
	// it is not in any effective rule list. Not part of the rule's content.
	Disabled bool
	// ExpiresAt, when not zero, is when the policy stops matching; the
	// service then removes it as a new version. Not part of the rule's
	// content.
	ExpiresAt time.Time
}

// Active reports whether p takes part in effective rule lists at now: it is
// not disabled and has not expired (an expiry at or before now has).
func (p Policy) Active(now time.Time) bool {
	return !p.Disabled && (p.ExpiresAt.IsZero() || now.Before(p.ExpiresAt))
}

// Raw is a policy as text fields, the way the API and files carry it. Empty
// means absent.
type Raw struct {
	Protocol          string
	Port              string
	CidrBlock         string
	Ipv6CidrBlock     string
	SecurityGroupId   string
	AddressId         string
	AddressGroupId    string
	ServiceId         string
	ServiceGroupId    string
	Action            string
	PolicyDescription string
}

// ParseRaw validates r and returns its policy. Every problem is reported at
// once (errors.Join of *FieldError).
func ParseRaw(r Raw) (Policy, error) {
	var (
		p    Policy
		errs []error
	)
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Peer: exactly one.
	peers := []struct {
		field, value string
		parse        func(string) (Peer, error)
	}{
		{"CidrBlock", r.CidrBlock, ParseCIDR},
		{"Ipv6CidrBlock", r.Ipv6CidrBlock, ParseCIDR6},
		{"SecurityGroupId", r.SecurityGroupId, func(s string) (Peer, error) { return ReferencePeer(PeerSecurityGroup, s) }},
		{"AddressTemplate.AddressId", r.AddressId, func(s string) (Peer, error) { return ReferencePeer(PeerAddressTemplate, s) }},
		{"AddressTemplate.AddressGroupId", r.AddressGroupId, func(s string) (Peer, error) { return ReferencePeer(PeerAddressTemplateGroup, s) }},
	}
	var given []string
	for _, c := range peers {
		if strings.TrimSpace(c.value) == "" {
			continue
		}
		given = append(given, c.field)
		if len(given) > 1 {
			continue
		}
		peer, err := c.parse(c.value)
		add(err)
		p.Peer = peer
	}
	switch len(given) {
	case 0:
		add(fieldErr("CidrBlock", "", Missing, "one of CidrBlock, Ipv6CidrBlock, SecurityGroupId or AddressTemplate is required"))
	case 1:
	default:
		add(fieldErr(given[1], "", Coexist, "cannot be given together with %s: a policy has exactly one peer", given[0]))
	}

	// Service: Protocol+Port or a service template.
	svcID, svcGroup := strings.TrimSpace(r.ServiceId), strings.TrimSpace(r.ServiceGroupId)
	proto, port := strings.TrimSpace(r.Protocol), strings.TrimSpace(r.Port)
	switch {
	case svcID != "" && svcGroup != "":
		add(fieldErr("ServiceTemplate.ServiceGroupId", r.ServiceGroupId, Coexist, "cannot be given together with ServiceTemplate.ServiceId"))
	case (svcID != "" || svcGroup != "") && (proto != "" || port != ""):
		field, value := "Protocol", r.Protocol
		if proto == "" {
			field, value = "Port", r.Port
		}
		add(fieldErr(field, value, Coexist, "cannot be given together with ServiceTemplate"))
	case svcID != "":
		if !ValidID(PrefixServiceTemplate, svcID) {
			add(fieldErr("ServiceTemplate.ServiceId", r.ServiceId, Malformed, "must be ppm- followed by 8 lowercase letters or digits"))
		}
		p.ServiceID = svcID
	case svcGroup != "":
		if !ValidID(PrefixServiceTemplateGroup, svcGroup) {
			add(fieldErr("ServiceTemplate.ServiceGroupId", r.ServiceGroupId, Malformed, "must be ppmg- followed by 8 lowercase letters or digits"))
		}
		p.ServiceID = svcGroup
	case proto == "" && port != "":
		add(fieldErr("Protocol", "", Missing, "is required when Port is given"))
	default:
		// No Protocol, Port or service template means every protocol, as in
		// the cloud: the Terraform provider leaves all three out for "all
		// traffic", in writes and in deletes by content.
		if proto == "" {
			proto = AnyProtocol.String()
		}
		pr, err := ParseProtocol(proto)
		add(err)
		p.Protocol = pr
		ps := AllPorts()
		if port != "" {
			ps, err = ParsePortSet(r.Port)
			add(err)
		}
		if err == nil && pr.Valid() && !pr.HasPorts() && !ps.All() {
			add(fieldErr("Port", r.Port, Malformed, "protocol %s takes no port; use ALL or leave Port empty", pr))
		}
		p.Ports = ps
	}
	if len(given) == 1 {
		switch {
		case p.Protocol == ICMP && p.Peer.Kind == PeerCIDR6:
			add(fieldErr("Protocol", r.Protocol, Coexist, "ICMP is IPv4's; use ICMPv6 with Ipv6CidrBlock"))
		case p.Protocol == ICMPv6 && p.Peer.Kind == PeerCIDR:
			add(fieldErr("Protocol", r.Protocol, Coexist, "ICMPv6 is IPv6's; use ICMP with CidrBlock"))
		}
	}

	if strings.TrimSpace(r.Action) == "" {
		add(fieldErr("Action", "", Missing, "is required (ACCEPT or DROP)"))
	} else {
		a, err := ParseAction(r.Action)
		add(err)
		p.Action = a
	}

	if n := utf8.RuneCountInString(r.PolicyDescription); n > MaxDescriptionLen {
		add(fieldErr("PolicyDescription", "", TooLong, "is %d characters; the limit is %d", n, MaxDescriptionLen))
	} else if !utf8.ValidString(r.PolicyDescription) {
		add(fieldErr("PolicyDescription", "", Malformed, "is not valid UTF-8"))
	}
	p.Description = r.PolicyDescription

	if len(errs) > 0 {
		return Policy{}, errors.Join(errs...)
	}
	return p, nil
}

// Raw returns p as text fields: protocol, ports and action in canonical
// form, a CIDR block as it was written (see Peer).
func (p Policy) Raw() Raw {
	r := Raw{Action: p.Action.String(), PolicyDescription: p.Description}
	switch {
	case strings.HasPrefix(p.ServiceID, PrefixServiceTemplateGroup):
		r.ServiceGroupId = p.ServiceID
	case p.ServiceID != "":
		r.ServiceId = p.ServiceID
	default:
		r.Protocol, r.Port = p.Protocol.String(), p.Ports.String()
	}
	switch p.Peer.Kind {
	case PeerCIDR:
		r.CidrBlock = p.Peer.String()
	case PeerCIDR6:
		r.Ipv6CidrBlock = p.Peer.String()
	case PeerSecurityGroup:
		r.SecurityGroupId = p.Peer.ID
	case PeerAddressTemplate:
		r.AddressId = p.Peer.ID
	case PeerAddressTemplateGroup:
		r.AddressGroupId = p.Peer.ID
	}
	return r
}

// Validate checks a policy built in code, with the same rules as ParseRaw.
// It accepts exactly the policies with a valid peer and service whose Raw
// form ParseRaw accepts, without formatting and parsing them.
func (p Policy) Validate() error {
	var errs []error
	switch {
	case !p.Peer.IsValid():
		errs = append(errs, fieldErr("Peer", p.Peer.String(), Malformed, "is not a valid peer"))
	case p.Peer.Kind == PeerCIDR6 && p.Peer.Prefix.Addr().Is4In6():
		errs = append(errs, fieldErr("Ipv6CidrBlock", p.Peer.String(), Malformed, "must not be an IPv4-mapped IPv6 address"))
	}
	switch {
	case strings.HasPrefix(p.ServiceID, PrefixServiceTemplateGroup):
		if !ValidID(PrefixServiceTemplateGroup, p.ServiceID) {
			errs = append(errs, fieldErr("ServiceTemplate.ServiceGroupId", p.ServiceID, Malformed, "must be ppmg- followed by 8 lowercase letters or digits"))
		}
	case p.ServiceID != "":
		if !ValidID(PrefixServiceTemplate, p.ServiceID) {
			errs = append(errs, fieldErr("ServiceTemplate.ServiceId", p.ServiceID, Malformed, "must be ppm- followed by 8 lowercase letters or digits"))
		}
	case !p.Protocol.Valid() || !p.Ports.IsValid():
		errs = append(errs, fieldErr("Protocol", p.Protocol.String(), Malformed, "a policy needs a protocol and port, or a service template"))
	case !p.Protocol.HasPorts() && !p.Ports.All():
		errs = append(errs, fieldErr("Port", p.Ports.String(), Malformed, "protocol %s takes no port; use ALL or leave Port empty", p.Protocol))
	case p.Protocol == ICMP && p.Peer.Kind == PeerCIDR6:
		errs = append(errs, fieldErr("Protocol", p.Protocol.String(), Coexist, "ICMP is IPv4's; use ICMPv6 with Ipv6CidrBlock"))
	case p.Protocol == ICMPv6 && p.Peer.Kind == PeerCIDR:
		errs = append(errs, fieldErr("Protocol", p.Protocol.String(), Coexist, "ICMPv6 is IPv6's; use ICMP with CidrBlock"))
	}
	if !p.Action.Valid() {
		errs = append(errs, fieldErr("Action", p.Action.String(), Malformed, "must be ACCEPT or DROP"))
	}
	if n := utf8.RuneCountInString(p.Description); n > MaxDescriptionLen {
		errs = append(errs, fieldErr("PolicyDescription", "", TooLong, "is %d characters; the limit is %d", n, MaxDescriptionLen))
	} else if !utf8.ValidString(p.Description) {
		errs = append(errs, fieldErr("PolicyDescription", "", Malformed, "is not valid UTF-8"))
	}
	return errors.Join(errs...)
}

// SameRule reports whether p and q are the same rule: equal protocol, ports,
// service template, peer and action. Description and ModifyTime are ignored.
func (p Policy) SameRule(q Policy) bool {
	return p.Protocol == q.Protocol && p.Ports.Equal(q.Ports) && p.ServiceID == q.ServiceID &&
		p.Peer.Equal(q.Peer) && p.Action == q.Action
}

// String formats p in the compact form ParsePolicy reads:
// "ACCEPT TCP 22 0.0.0.0/0", "DROP ppm-1a2b3c4d sg-1a2b3c4d # note".
func (p Policy) String() string {
	var b strings.Builder
	b.WriteString(p.Action.String())
	b.WriteByte(' ')
	if p.ServiceID != "" {
		b.WriteString(p.ServiceID)
	} else {
		b.WriteString(p.Protocol.String())
		b.WriteByte(' ')
		b.WriteString(p.Ports.String())
	}
	b.WriteByte(' ')
	b.WriteString(p.Peer.String())
	if p.Description != "" {
		b.WriteString(" # ")
		b.WriteString(p.Description)
	}
	return b.String()
}

// ParsePolicy reads the compact form written by Policy.String:
// ACTION (PROTOCOL PORT | SERVICE-TEMPLATE-ID) PEER [# DESCRIPTION].
// The peer's kind follows from its form: IPv4, IPv6, sg-, ipm- or ipmg-.
func ParsePolicy(s string) (Policy, error) {
	body, desc, hasDesc := strings.Cut(s, " # ")
	if !hasDesc {
		body, _, _ = strings.Cut(body, "#")
	}
	f := strings.Fields(body)
	var r Raw
	switch {
	case len(f) == 3 && (strings.HasPrefix(f[1], PrefixServiceTemplate) || strings.HasPrefix(f[1], PrefixServiceTemplateGroup)):
		if strings.HasPrefix(f[1], PrefixServiceTemplateGroup) {
			r.ServiceGroupId = f[1]
		} else {
			r.ServiceId = f[1]
		}
	case len(f) == 4:
		r.Protocol, r.Port = f[1], f[2]
	default:
		return Policy{}, fieldErr("Policy", s, Malformed, "want ACTION PROTOCOL PORT PEER or ACTION SERVICE-TEMPLATE PEER")
	}
	r.Action = f[0]
	peer := f[len(f)-1]
	switch {
	case strings.HasPrefix(peer, PrefixSecurityGroup):
		r.SecurityGroupId = peer
	case strings.HasPrefix(peer, PrefixAddressTemplateGroup):
		r.AddressGroupId = peer
	case strings.HasPrefix(peer, PrefixAddressTemplate):
		r.AddressId = peer
	case strings.Contains(peer, ":"):
		r.Ipv6CidrBlock = peer
	default:
		r.CidrBlock = peer
	}
	r.PolicyDescription = desc
	return ParseRaw(r)
}

// PolicySet is a group's rules: both directions and the Version, which every
// write to the set increments.
type PolicySet struct {
	Version uint64
	Ingress []Policy
	Egress  []Policy
}

// List returns the policies of direction d.
func (s *PolicySet) List(d Direction) []Policy {
	if d == Egress {
		return s.Egress
	}
	return s.Ingress
}

// SetList replaces the policies of direction d.
func (s *PolicySet) SetList(d Direction, ps []Policy) {
	if d == Egress {
		s.Egress = ps
	} else {
		s.Ingress = ps
	}
}

// Clone returns a deep copy of s.
func (s PolicySet) Clone() PolicySet {
	return PolicySet{Version: s.Version, Ingress: append([]Policy(nil), s.Ingress...), Egress: append([]Policy(nil), s.Egress...)}
}

// Describe returns a short human description, for traces and messages:
// "ACCEPT TCP 22 from 0.0.0.0/0".
func (p Policy) Describe(d Direction) string {
	word := "from"
	if d == Egress {
		word = "to"
	}
	svc := p.ServiceID
	if svc == "" {
		svc = fmt.Sprintf("%s %s", p.Protocol, p.Ports)
	}
	return fmt.Sprintf("%s %s %s %s", p.Action, svc, word, p.Peer)
}

// Matches reports whether protocol p admits a packet of IANA protocol num in
// the given family.
func (p Protocol) Matches(num uint8, is6 bool) bool {
	switch p {
	case AnyProtocol:
		return true
	case ICMP:
		return num == NumICMP && !is6
	case ICMPv6:
		return num == NumICMPv6 && is6
	}
	n, _ := p.Number()
	return p.Valid() && n == num
}
