// Package rules is an instance's effective rule list (SPEC §3) as plain
// data: the platform rules, then the policies of its groups in binding
// order, each with its services and peer addresses resolved, then an
// implicit final DROP. The evaluator, the analysis engine and the agent all
// read this one list. The package does no I/O.
package rules

import (
	"fmt"
	"net/netip"
	"strconv"
	"sync"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Layer is the stage of an effective rule list an entry belongs to, or that
// decided a packet. The zero value is invalid.
type Layer uint8

// The layers, in the order they are evaluated.
const (
	LayerPlatform      Layer = iota + 1 // platform rules, before any group
	LayerSecurityGroup                  // a policy of one of the instance's groups
	LayerDefault                        // nothing matched: the implicit final DROP
)

// String returns PLATFORM, SECURITY_GROUP or DEFAULT.
func (l Layer) String() string {
	switch l {
	case LayerPlatform:
		return "PLATFORM"
	case LayerSecurityGroup:
		return "SECURITY_GROUP"
	case LayerDefault:
		return "DEFAULT"
	}
	return "Layer(" + strconv.Itoa(int(l)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (l Layer) MarshalText() ([]byte, error) {
	if l < LayerPlatform || l > LayerDefault {
		return nil, fmt.Errorf("invalid layer %d", l)
	}
	return []byte(l.String()), nil
}

// PlatformRule is the kind of a platform rule. The zero value is no
// platform rule (an entry of another layer).
type PlatformRule uint8

// The platform rules.
const (
	// PlatformPort25 drops outbound TCP 25 while the account's block is on.
	PlatformPort25 PlatformRule = iota + 1
	// PlatformAddress accepts every protocol to and from one of the
	// operator's platform service addresses (metadata, DNS, NTP…).
	PlatformAddress
)

// String returns PORT25_BLOCKED, PLATFORM_ADDRESS or "".
func (p PlatformRule) String() string {
	switch p {
	case 0:
		return ""
	case PlatformPort25:
		return "PORT25_BLOCKED"
	case PlatformAddress:
		return "PLATFORM_ADDRESS"
	}
	return "PlatformRule(" + strconv.Itoa(int(p)) + ")"
}

// Port25 is the service the platform blocks outbound until the account
// lifts the block: TCP port 25.
func Port25() Service {
	return Service{Protocol: policy.TCP, Ports: policy.Ports(policy.PortRange{Lo: 25, Hi: 25})}
}

// Port25Rule names the port 25 block in messages: "outbound TCP 25".
func Port25Rule() string { return "outbound " + Port25().String() }

// Origin says where an entry of an effective list comes from: a platform
// rule (Platform, and Prefix for a platform address) or a group's policy
// (GroupID and PolicyIndex). PolicyIndex is −1 outside LayerSecurityGroup.
type Origin struct {
	Direction   policy.Direction
	Layer       Layer
	Platform    PlatformRule
	GroupID     string
	PolicyIndex int
	// Prefix is the platform address of a PlatformAddress entry.
	Prefix netip.Prefix
}

// DefaultOrigin is the origin of the implicit final DROP of a list of
// direction d.
func DefaultOrigin(d policy.Direction) Origin {
	return Origin{Direction: d, Layer: LayerDefault, PolicyIndex: -1}
}

// Service is one protocol an entry matches and, for TCP and UDP, its
// destination ports.
type Service struct {
	Protocol policy.Protocol
	Ports    policy.PortSet
}

// Valid reports whether s is a protocol and, for TCP and UDP, a port set;
// other protocols take every port.
func (s Service) Valid() bool {
	if !s.Protocol.Valid() {
		return false
	}
	if s.Protocol.HasPorts() {
		return s.Ports.IsValid()
	}
	return !s.Ports.IsValid() || s.Ports.All()
}

// String returns "TCP 25", "UDP 53,123" or, for protocols without ports
// (and every port of TCP or UDP), "ICMP", "TCP ALL".
func (s Service) String() string {
	if !s.Protocol.HasPorts() {
		return s.Protocol.String()
	}
	return s.Protocol.String() + " " + s.Ports.String()
}

// Overlaps reports whether some packet matches both s and t.
func (s Service) Overlaps(t Service) bool {
	if s.Protocol != t.Protocol && s.Protocol != policy.AnyProtocol && t.Protocol != policy.AnyProtocol {
		return false
	}
	sv4, sv6 := s.Protocol.Families()
	tv4, tv6 := t.Protocol.Families()
	if !(sv4 && tv4 || sv6 && tv6) {
		return false
	}
	if !s.Protocol.HasPorts() || !t.Protocol.HasPorts() || s.Ports.All() || t.Ports.All() {
		return true
	}
	for _, a := range s.Ports.Ranges() {
		for _, b := range t.Ports.Ranges() {
			if a.Lo <= b.Hi && b.Lo <= a.Hi {
				return true
			}
		}
	}
	return false
}

// SourceKind is where an entry's addresses come from.
type SourceKind uint8

// The sources of addresses.
const (
	// SourceCIDR: literal prefixes — a policy's CidrBlock or Ipv6CidrBlock,
	// a platform address, every address for the port 25 block.
	SourceCIDR SourceKind = iota + 1
	// SourceSecurityGroup: the private addresses of the non-terminated
	// instances bound to the group ID.
	SourceSecurityGroup
	// SourceAddressTemplate: the entries of address template ID.
	SourceAddressTemplate
	// SourceAddressTemplateGroup: the entries of the members of address
	// template group ID.
	SourceAddressTemplateGroup
)

// String returns CIDR, SECURITY_GROUP, ADDRESS_TEMPLATE or
// ADDRESS_TEMPLATE_GROUP.
func (k SourceKind) String() string {
	switch k {
	case SourceCIDR:
		return "CIDR"
	case SourceSecurityGroup:
		return "SECURITY_GROUP"
	case SourceAddressTemplate:
		return "ADDRESS_TEMPLATE"
	case SourceAddressTemplateGroup:
		return "ADDRESS_TEMPLATE_GROUP"
	}
	return "SourceKind(" + strconv.Itoa(int(k)) + ")"
}

// Source is where an entry's addresses come from: a kind and, for a
// reference, the id referred to.
type Source struct {
	Kind SourceKind
	ID   string
}

// Entry is one entry of an effective list: what it matches and what it
// does.
type Entry struct {
	Origin Origin
	Action policy.Action
	// Policy is the group's policy, for LayerSecurityGroup entries.
	// It points to the policy read, which must not change after.
	Policy *policy.Policy
	// Services are the protocols and ports matched: the policy's own, or
	// the expansion of its service template (ServiceID). A packet matches
	// when one of them admits it. Entries of one list naming the same
	// template may share the slice: never modify it.
	Services  []Service
	ServiceID string
	// V4 and V6 are the peer addresses matched, per family, as resolved: a
	// packet's peer must be in the set of its family, and its protocol
	// must exist in that family (ICMP is IPv4's, ICMPv6 IPv6's). A nil set
	// is empty. The sets may be shared between entries: never modify them.
	V4, V6 *netipx.IPSet
	Source Source
	// ranges are those of V4 and V6 as the Addresses they come from read
	// them, when built by this package.
	ranges *ranges
	// desc is the entry's description, made once for an entry built by
	// PolicyEntry and shared by its copies.
	desc *description
}

// description is the text Describe gives for an entry of origin and
// policy, made at its first use.
type description struct {
	origin Origin
	policy *policy.Policy
	once   sync.Once
	text   string
}

// ranges are the ranges of a pair of address sets, read once when the
// sets are built: netipx.IPSet.Ranges copies them at every call.
type ranges struct {
	v4, v6 *netipx.IPSet
	r4, r6 []netipx.IPRange
}

func newRanges(v4, v6 *netipx.IPSet) *ranges {
	r := &ranges{v4: v4, v6: v6}
	if v4 != nil {
		r.r4 = v4.Ranges()
	}
	if v6 != nil {
		r.r6 = v6.Ranges()
	}
	return r
}

// AddressRanges returns the sorted, merged ranges of V6 (is6) or V4, as
// netipx.IPSet.Ranges does; nil for a nil set. For an entry built by this
// package they are read once per set and shared: never modify them.
func (e *Entry) AddressRanges(is6 bool) []netipx.IPRange {
	set := e.V4
	if is6 {
		set = e.V6
	}
	if r := e.ranges; r != nil && r.v4 == e.V4 && r.v6 == e.V6 {
		if is6 {
			return r.r6
		}
		return r.r4
	}
	if set == nil {
		return nil
	}
	return set.Ranges()
}

// Describe names the entry in a trace: its layer, then what it is —
// "PLATFORM: outbound TCP 25 is blocked for the account",
// "SECURITY_GROUP: sg-1a2b3c4d policy 0 (ACCEPT TCP 22 from 0.0.0.0/0)".
//
// The text of an entry built by PolicyEntry is made once, for it and its
// copies (the policy it points to never changes).
func (e *Entry) Describe() string {
	if d := e.desc; d != nil && d.origin == e.Origin && d.policy == e.Policy {
		d.once.Do(func() { d.text = e.describe() })
		return d.text
	}
	return e.describe()
}

func (e *Entry) describe() string {
	o := &e.Origin
	switch o.Platform {
	case PlatformPort25:
		return "PLATFORM: " + Port25Rule() + " is blocked for the account"
	case PlatformAddress:
		return "PLATFORM: platform service address " + o.Prefix.Masked().String()
	}
	return fmt.Sprintf("SECURITY_GROUP: %s policy %d (%s)", o.GroupID, o.PolicyIndex, e.Policy.Describe(o.Direction))
}

// Anywhere reports whether the entry's peer is every address of a family
// (0.0.0.0/0 or ::/0).
func (e *Entry) Anywhere() bool {
	return covers(e.V4, everywhere(false)) || covers(e.V6, everywhere(true))
}

func covers(s *netipx.IPSet, p netip.Prefix) bool {
	return s != nil && s.ContainsPrefix(p)
}

// everywhere returns the prefix of every address of a family.
func everywhere(is6 bool) netip.Prefix {
	if is6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// List is an instance's effective rule list for one direction: Entries in
// order, platform entries first, then the groups' policies. A packet no
// entry matches is dropped by the implicit final DROP, which is not an
// entry: its decision has LayerDefault (DefaultOrigin).
type List struct {
	Direction policy.Direction
	Entries   []Entry
}

// Len returns the number of entries, the implicit DROP excluded.
func (l *List) Len() int { return len(l.Entries) }
