// Package reference is the oracle the evaluator is tested against: it
// decides a packet for an instance straight from SPEC §3, over the data as
// stored — the bound groups' policies, the members of referenced groups,
// the entries of templates, the platform addresses, the port 25 flag — with
// a plain loop and the policy package's own parsers and predicates. It
// shares no code with the packages that resolve and compile effective
// lists (rules, resolve, eval), so that comparing them with it checks
// something. It is slow on purpose: nothing is compiled or cached.
package reference

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
)

// The layers of a decision, spelled as the API spells them.
const (
	LayerPlatform      = "PLATFORM"
	LayerSecurityGroup = "SECURITY_GROUP"
	LayerDefault       = "DEFAULT"
)

// terminated is the state of an instance whose addresses no group has.
const terminated = "TERMINATED"

// Input is one instance and direction, as stored.
type Input struct {
	Direction policy.Direction
	// Port25Blocked: the account has not lifted its outbound TCP 25 block.
	Port25Blocked bool
	// PlatformAddresses are the operator's platform service addresses, as
	// prefix strings.
	PlatformAddresses []string
	// Groups are the instance's groups in binding order, with their
	// policies of Direction.
	Groups []Group
	// Members are the instances bound to each group a policy references. A
	// group absent from the map has none.
	Members map[string][]Member
	// Now is the time of the decision: a policy whose ExpiresAt is at or
	// before Now has expired and matches nothing.
	Now time.Time
	// Templates are the stored entries of each template (address entries
	// for ipm-, service entries for ppm-) and template group (member ids
	// for ipmg- and ppmg-). A template absent from the map does not exist.
	Templates map[string][]string
}

// Group is a bound group and its policies of the direction at hand.
type Group struct {
	ID       string
	Policies []policy.Policy
}

// Member is an instance bound to a group: its state and its addresses as
// stored (private IPv4 and IPv6).
type Member struct {
	State     string
	Addresses []string
}

// Decision is the verdict and what decided it: Layer is one of the Layer
// constants; GroupID and PolicyIndex name the policy for
// LayerSecurityGroup, and are "" and −1 otherwise.
type Decision struct {
	Verdict     policy.Action
	Layer       string
	GroupID     string
	PolicyIndex int
}

// Decide returns the verdict on a packet with peer address peer (the source
// of inbound traffic, the destination of outbound), IANA protocol proto and
// destination port port. It fails, deciding nothing, if any stored value of
// the input does not parse or any reference does not resolve, wherever it
// is in the list: data that cannot be read is never skipped.
func Decide(in Input, peer netip.Addr, proto uint8, port uint16) (Decision, error) {
	if !in.Direction.Valid() {
		return Decision{}, fmt.Errorf("invalid direction %d", in.Direction)
	}
	peer = peer.Unmap().WithZone("")
	valid := peer.IsValid()
	is6 := peer.Is6()
	var errs []error
	var decided *Decision
	decide := func(d Decision) {
		if decided == nil && valid {
			decided = &d
		}
	}

	// 1. Platform rules.
	if in.Direction == policy.Egress && in.Port25Blocked && proto == policy.NumTCP && port == 25 {
		decide(Decision{Verdict: policy.Drop, Layer: LayerPlatform, PolicyIndex: -1})
	}
	for _, s := range in.PlatformAddresses {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			errs = append(errs, fmt.Errorf("platform address %q does not parse", s))
			continue
		}
		if p.Contains(peer) {
			decide(Decision{Verdict: policy.Accept, Layer: LayerPlatform, PolicyIndex: -1})
		}
	}

	// 2. The groups in binding order, each policy from index 0.
	for _, g := range in.Groups {
		for i, p := range g.Policies {
			// A disabled policy, or one expired at Now, is not a rule at
			// all: it neither matches nor fails to resolve.
			if p.Disabled || (!p.ExpiresAt.IsZero() && !in.Now.Before(p.ExpiresAt)) {
				continue
			}
			ok, err := matches(in, p, peer, is6, proto, port)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s policy %d: %w", g.ID, i, err))
				continue
			}
			if ok {
				decide(Decision{Verdict: p.Action, Layer: LayerSecurityGroup, GroupID: g.ID, PolicyIndex: i})
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Decision{}, err
	}
	if decided != nil {
		return *decided, nil
	}
	// 3. The implicit final DROP.
	return Decision{Verdict: policy.Drop, Layer: LayerDefault, PolicyIndex: -1}, nil
}

// matches reports whether policy p matches the packet: its protocol and
// port (or one entry of its service template), and its peer.
func matches(in Input, p policy.Policy, peer netip.Addr, is6 bool, proto uint8, port uint16) (bool, error) {
	if err := p.Validate(); err != nil {
		return false, err
	}
	svcOK := false
	if p.ServiceID == "" {
		svcOK = p.Protocol.Matches(proto, is6) && (!p.Protocol.HasPorts() || p.Ports.Contains(port))
	} else {
		entries, err := templateEntries(in, p.ServiceID, policy.PrefixServiceTemplateGroup, policy.PrefixServiceTemplate)
		if err != nil {
			return false, err
		}
		for _, s := range entries {
			e, err := policy.ParseServiceEntry(s)
			if err != nil {
				return false, fmt.Errorf("service template %s entry %q: %w", p.ServiceID, s, err)
			}
			if e.Protocol.Matches(proto, is6) && (!e.Protocol.HasPorts() || e.Ports.Contains(port)) {
				svcOK = true
			}
		}
	}

	peerOK := false
	switch p.Peer.Kind {
	case policy.PeerCIDR, policy.PeerCIDR6:
		peerOK = p.Peer.Prefix.Contains(peer)
	case policy.PeerSecurityGroup:
		for _, m := range in.Members[p.Peer.ID] {
			for _, s := range m.Addresses {
				a, err := netip.ParseAddr(s)
				if err != nil || a.Zone() != "" {
					return false, fmt.Errorf("member address %q of %s does not parse", s, p.Peer.ID)
				}
				if m.State != terminated && a.Unmap() == peer {
					peerOK = true
				}
			}
		}
	case policy.PeerAddressTemplate, policy.PeerAddressTemplateGroup:
		entries, err := templateEntries(in, p.Peer.ID, policy.PrefixAddressTemplateGroup, policy.PrefixAddressTemplate)
		if err != nil {
			return false, err
		}
		for _, s := range entries {
			r, err := policy.ParseAddressEntry(s)
			if err != nil {
				return false, fmt.Errorf("address template %s entry %q: %w", p.Peer.ID, s, err)
			}
			if r.Contains(peer) {
				peerOK = true
			}
		}
	default:
		return false, fmt.Errorf("invalid peer %v", p.Peer)
	}
	return svcOK && peerOK, nil
}

// templateEntries returns the entries of template id or, if id names a
// template group (groupPrefix), of each of its members, which must be
// templates (memberPrefix).
func templateEntries(in Input, id, groupPrefix, memberPrefix string) ([]string, error) {
	entries, ok := in.Templates[id]
	if !ok {
		return nil, fmt.Errorf("template %s does not exist", id)
	}
	if !strings.HasPrefix(id, groupPrefix) {
		return entries, nil
	}
	var out []string
	for _, m := range entries {
		if !strings.HasPrefix(m, memberPrefix) || strings.HasPrefix(m, groupPrefix) {
			return nil, fmt.Errorf("member %q of %s is not a template of its kind", m, id)
		}
		me, ok := in.Templates[m]
		if !ok {
			return nil, fmt.Errorf("member %s of %s does not exist", m, id)
		}
		out = append(out, me...)
	}
	return out, nil
}
