package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// PeerKind says what a policy's peer refers to. The zero value is invalid.
type PeerKind uint8

// The kinds of peer.
const (
	PeerCIDR                 PeerKind = iota + 1 // CidrBlock: an IPv4 prefix
	PeerCIDR6                                    // Ipv6CidrBlock: an IPv6 prefix
	PeerSecurityGroup                            // SecurityGroupId: private addresses of the group's instances
	PeerAddressTemplate                          // AddressTemplate.AddressId (ipm-)
	PeerAddressTemplateGroup                     // AddressTemplate.AddressGroupId (ipmg-)
)

func (k PeerKind) String() string {
	switch k {
	case PeerCIDR:
		return "CidrBlock"
	case PeerCIDR6:
		return "Ipv6CidrBlock"
	case PeerSecurityGroup:
		return "SecurityGroupId"
	case PeerAddressTemplate:
		return "AddressTemplate.AddressId"
	case PeerAddressTemplateGroup:
		return "AddressTemplate.AddressGroupId"
	}
	return fmt.Sprintf("PeerKind(%d)", uint8(k))
}

// Peer is the address side of a policy: the source of inbound traffic or the
// destination of outbound traffic. Exactly one of Prefix (for the CIDR kinds)
// and ID (for references) is set. The zero value is invalid.
//
// A parsed CIDR peer also keeps the text it was written as ("8.8.8.8/32",
// "10.0.0.1/8"), which String returns, because the cloud echoes CIDR blocks
// as sent and tools such as Terraform compare them as text. Matching and
// Equal use only the normalised Prefix.
type Peer struct {
	Kind   PeerKind
	Prefix netip.Prefix // masked; for PeerCIDR and PeerCIDR6
	ID     string       // for references: sg-, ipm-, ipmg-
	text   string       // as written, for CIDR kinds; "" means canonical
	// widened is the prefix as written when parsing widened it to its
	// whole family (0.0.0.0/8 is 0.0.0.0/0); it is not part of the peer's
	// value (Equal and String ignore it).
	widened string
}

// Widened returns the prefix as it was written when parsing widened it to
// the whole address family, as the cloud does with any prefix of the
// unspecified address (0.0.0.0/8 and ::/16 mean 0.0.0.0/0 and ::/0).
func (p Peer) Widened() (string, bool) { return p.widened, p.widened != "" }

// CIDRPeer returns the peer of an IPv4 or IPv6 prefix (masked).
func CIDRPeer(p netip.Prefix) Peer {
	kind := PeerCIDR
	if p.Addr().Is6() {
		kind = PeerCIDR6
	}
	return Peer{Kind: kind, Prefix: p.Masked()}
}

// ParseCIDR parses the value of CidrBlock: an IPv4 prefix or a bare address
// (a /32). The prefix is masked, and any 0.0.0.0/n is 0.0.0.0/0, as in the
// cloud.
func ParseCIDR(s string) (Peer, error) {
	p, err := parsePrefix("CidrBlock", s, false)
	if err != nil {
		return Peer{}, err
	}
	return cidrPeer(PeerCIDR, p, s), nil
}

// ParseCIDR6 parses the value of Ipv6CidrBlock: an IPv6 prefix or a bare
// address (a /128), masked.
func ParseCIDR6(s string) (Peer, error) {
	p, err := parsePrefix("Ipv6CidrBlock", s, true)
	if err != nil {
		return Peer{}, err
	}
	return cidrPeer(PeerCIDR6, p, s), nil
}

// cidrPeer builds a CIDR peer of a parsed prefix, keeping the text it was
// written as unless that is the canonical form. Any prefix of the
// unspecified address (0.0.0.0/n, ::/n) is the whole family, as in the cloud.
func cidrPeer(kind PeerKind, p netip.Prefix, written string) Peer {
	if p.Addr().IsUnspecified() {
		out := Peer{Kind: kind, Prefix: netip.PrefixFrom(p.Addr(), 0)}
		if p.Bits() != 0 {
			out.widened = strings.TrimSpace(written)
		}
		return out
	}
	peer := Peer{Kind: kind, Prefix: p}
	if t := strings.TrimSpace(written); t != peer.Canonical() {
		peer.text = t
	}
	return peer
}

func parsePrefix(field, s string, want6 bool) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(t, "/") {
		var err error
		if p, err = netip.ParsePrefix(t); err != nil {
			return p, fieldErr(field, s, Malformed, "is not an address or CIDR block")
		}
	} else {
		a, err := netip.ParseAddr(t)
		if err != nil {
			return p, fieldErr(field, s, Malformed, "is not an address or CIDR block")
		}
		if a.Zone() != "" {
			return p, fieldErr(field, s, Malformed, "must not carry a zone")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fieldErr(field, s, Malformed, "must not be an IPv4-mapped IPv6 address")
	}
	switch {
	case want6 && !p.Addr().Is6():
		return netip.Prefix{}, fieldErr(field, s, Malformed, "is not IPv6 (use CidrBlock for IPv4)")
	case !want6 && !p.Addr().Is4():
		return netip.Prefix{}, fieldErr(field, s, Malformed, "is not IPv4 (use Ipv6CidrBlock for IPv6)")
	}
	return p.Masked(), nil
}

// ReferencePeer returns the peer referring to a security group or address
// template (group) by id, checking the id's form.
func ReferencePeer(kind PeerKind, id string) (Peer, error) {
	prefix := map[PeerKind]string{
		PeerSecurityGroup:        PrefixSecurityGroup,
		PeerAddressTemplate:      PrefixAddressTemplate,
		PeerAddressTemplateGroup: PrefixAddressTemplateGroup,
	}[kind]
	if prefix == "" {
		return Peer{}, fmt.Errorf("policy: %v is not a reference kind", kind)
	}
	t := strings.TrimSpace(id)
	if !ValidID(prefix, t) {
		return Peer{}, fieldErr(kind.String(), id, Malformed, "must be %s followed by 8 lowercase letters or digits", prefix)
	}
	return Peer{Kind: kind, ID: t}, nil
}

// IsValid reports whether p is a well-formed peer.
func (p Peer) IsValid() bool {
	switch p.Kind {
	case PeerCIDR:
		return p.Prefix.IsValid() && p.Prefix.Addr().Is4() && p.ID == ""
	case PeerCIDR6:
		return p.Prefix.IsValid() && p.Prefix.Addr().Is6() && p.ID == ""
	case PeerSecurityGroup:
		return ValidID(PrefixSecurityGroup, p.ID)
	case PeerAddressTemplate:
		return ValidID(PrefixAddressTemplate, p.ID)
	case PeerAddressTemplateGroup:
		return ValidID(PrefixAddressTemplateGroup, p.ID)
	}
	return false
}

// IsReference reports whether p names another resource rather than a prefix.
func (p Peer) IsReference() bool {
	return p.Kind == PeerSecurityGroup || p.Kind == PeerAddressTemplate || p.Kind == PeerAddressTemplateGroup
}

// Equal reports whether p and q are the same peer: same kind and normalised
// prefix, or same referenced id. How a CIDR was written does not count.
func (p Peer) Equal(q Peer) bool { return p.Kind == q.Kind && p.Prefix == q.Prefix && p.ID == q.ID }

// String returns the CIDR block as it was written, or the referenced id.
func (p Peer) String() string {
	if p.text != "" {
		return p.text
	}
	return p.Canonical()
}

// Canonical returns the normalised prefix (a bare address for a
// single-address prefix) or the referenced id.
func (p Peer) Canonical() string {
	switch p.Kind {
	case PeerCIDR, PeerCIDR6:
		if p.Prefix.IsSingleIP() {
			return p.Prefix.Addr().String()
		}
		return p.Prefix.String()
	}
	return p.ID
}
