package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Addresses are a peer's addresses as resolved, per family, and where they
// come from. A nil set is empty.
type Addresses struct {
	Source Source
	V4, V6 *netipx.IPSet
	// prefix is the prefix PrefixAddresses built the sets of, so that
	// PolicyEntry knows them for its peer's without reading them again.
	prefix netip.Prefix
	// ranges are those of V4 and V6, read when they were built.
	ranges *ranges
}

// Split builds the Addresses of src from b, split per family.
func Split(src Source, b *netipx.IPSetBuilder) (Addresses, error) {
	all, err := b.IPSet()
	if err != nil {
		return Addresses{}, fmt.Errorf("addresses of %v %s: %w", src.Kind, src.ID, err)
	}
	out := Addresses{Source: src}
	var b4, b6 netipx.IPSetBuilder
	n4, n6 := 0, 0
	for _, r := range all.Ranges() {
		if r.From().Is4() {
			b4.AddRange(r)
			n4++
		} else {
			b6.AddRange(r)
			n6++
		}
	}
	if n4 > 0 {
		if out.V4, err = b4.IPSet(); err != nil {
			return Addresses{}, err
		}
	}
	if n6 > 0 {
		if out.V6, err = b6.IPSet(); err != nil {
			return Addresses{}, err
		}
	}
	out.ranges = newRanges(out.V4, out.V6)
	return out, nil
}

// PrefixAddresses returns the literal addresses of one prefix (masked). It
// fails on an invalid prefix, a zone or an IPv4-mapped IPv6 prefix.
func PrefixAddresses(p netip.Prefix) (Addresses, error) {
	if !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
		return Addresses{}, fmt.Errorf("invalid prefix %v", p)
	}
	var b netipx.IPSetBuilder
	b.AddPrefix(p.Masked())
	s, err := b.IPSet()
	if err != nil {
		return Addresses{}, fmt.Errorf("prefix %v: %w", p, err)
	}
	out := Addresses{Source: Source{Kind: SourceCIDR}, prefix: p.Masked()}
	r := &ranges{}
	if p.Addr().Is4() {
		out.V4, r.v4, r.r4 = s, s, []netipx.IPRange{netipx.RangeOfPrefix(p.Masked())}
	} else {
		out.V6, r.v6, r.r6 = s, s, []netipx.IPRange{netipx.RangeOfPrefix(p.Masked())}
	}
	out.ranges = r
	return out, nil
}

// Platform returns the platform rules of a list of direction dir, as
// ordinary entries, in order: outbound TCP 25 DROP to every address when
// the account's block is on (egress only), then an ACCEPT of every protocol
// for each platform service address, in both directions. It is the one
// definition of the platform rules; it fails on an invalid address,
// reporting every one.
func Platform(dir policy.Direction, port25Blocked bool, addrs []netip.Prefix) ([]Entry, error) {
	if !dir.Valid() {
		return nil, fmt.Errorf("invalid direction %d", dir)
	}
	out := make([]Entry, 0, len(addrs)+1)
	if dir == policy.Egress && port25Blocked {
		a, err := everyAddress()
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{
			Origin:   Origin{Direction: dir, Layer: LayerPlatform, Platform: PlatformPort25, PolicyIndex: -1},
			Action:   policy.Drop,
			Services: []Service{Port25()},
			V4:       a.V4, V6: a.V6, Source: a.Source, ranges: a.ranges,
		})
	}
	var errs []error
	anything := []Service{{Protocol: policy.AnyProtocol, Ports: policy.AllPorts()}}
	for i, p := range addrs {
		a, err := PrefixAddresses(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("platform address %d: %w", i, err))
			continue
		}
		out = append(out, Entry{
			Origin:   Origin{Direction: dir, Layer: LayerPlatform, Platform: PlatformAddress, PolicyIndex: -1, Prefix: p.Masked()},
			Action:   policy.Accept,
			Services: anything,
			V4:       a.V4, V6: a.V6, Source: a.Source, ranges: a.ranges,
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// everyAddress is every address of both families, built once: address
// sets are immutable.
var everyAddress = sync.OnceValues(func() (Addresses, error) {
	var b netipx.IPSetBuilder
	b.AddPrefix(everywhere(false))
	b.AddPrefix(everywhere(true))
	return Split(Source{Kind: SourceCIDR}, &b)
})

// isPrefix reports whether a are the literal addresses of prefix p.
func isPrefix(a Addresses, p netip.Prefix) bool {
	if a.prefix.IsValid() {
		return a.Source.Kind == SourceCIDR && a.prefix == p.Masked()
	}
	set, other := a.V4, a.V6
	if p.Addr().Is6() {
		set, other = a.V6, a.V4
	}
	if a.Source.Kind != SourceCIDR || other != nil || set == nil || !set.ContainsPrefix(p) {
		return false
	}
	rs := set.Ranges()
	return len(rs) == 1 && rs[0] == netipx.RangeOfPrefix(p.Masked())
}

// PolicyServices returns the services of a policy without a service
// template: its Protocol and Ports.
func PolicyServices(p policy.Policy) []Service {
	return []Service{{Protocol: p.Protocol, Ports: p.Ports}}
}

// PolicyEntry returns the entry of policy index of group groupID in a list
// of direction dir. services are the expansion of p's service template when
// p names one, and ignored otherwise (the entry then has p's own protocol
// and ports). addrs are the resolved addresses of p's peer: for a
// reference, its resolution; for a CIDR peer, either the zero Addresses,
// and they are built from the prefix, or PrefixAddresses of the peer's
// prefix, which a caller may share between entries. The entry keeps p,
// which must not change after. It fails on an invalid policy or service, or
// addresses that are not the peer's.
func PolicyEntry(dir policy.Direction, groupID string, index int, p *policy.Policy, services []Service, addrs Addresses) (Entry, error) {
	if !dir.Valid() {
		return Entry{}, fmt.Errorf("invalid direction %d", dir)
	}
	if err := p.Validate(); err != nil {
		return Entry{}, err
	}
	e := Entry{
		Origin:    Origin{Direction: dir, Layer: LayerSecurityGroup, GroupID: groupID, PolicyIndex: index},
		Action:    p.Action,
		Policy:    p,
		ServiceID: p.ServiceID,
	}
	if p.ServiceID == "" {
		e.Services = PolicyServices(*p)
	} else {
		for i, s := range services {
			if !s.Valid() {
				return Entry{}, fmt.Errorf("service template %s entry %d: invalid service %v", p.ServiceID, i, s)
			}
		}
		e.Services = services
	}
	if p.Peer.IsReference() {
		want := PeerSource(p.Peer)
		if addrs.Source != want {
			return Entry{}, fmt.Errorf("addresses of %v %s given for peer %v", addrs.Source.Kind, addrs.Source.ID, p.Peer)
		}
	} else if addrs.V4 == nil && addrs.V6 == nil {
		var err error
		if addrs, err = PrefixAddresses(p.Peer.Prefix); err != nil {
			return Entry{}, fmt.Errorf("peer: %w", err)
		}
	} else if !isPrefix(addrs, p.Peer.Prefix) {
		return Entry{}, fmt.Errorf("addresses given for peer %v are not its prefix", p.Peer)
	}
	e.V4, e.V6, e.Source, e.ranges = addrs.V4, addrs.V6, addrs.Source, addrs.ranges
	e.desc = &description{origin: e.Origin, policy: p}
	return e, nil
}

// PeerSource returns where the addresses of a policy's peer come from: the
// reference it names, or SourceCIDR.
func PeerSource(p policy.Peer) Source {
	switch p.Kind {
	case policy.PeerSecurityGroup:
		return Source{Kind: SourceSecurityGroup, ID: p.ID}
	case policy.PeerAddressTemplate:
		return Source{Kind: SourceAddressTemplate, ID: p.ID}
	case policy.PeerAddressTemplateGroup:
		return Source{Kind: SourceAddressTemplateGroup, ID: p.ID}
	}
	return Source{Kind: SourceCIDR}
}
