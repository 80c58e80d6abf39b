package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Layer is the stage of an effective rule list that decided a packet. The
// zero value is invalid.
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

// Service is one entry of a resolved service template: a protocol and, for
// TCP and UDP, its ports.
type Service struct {
	Protocol policy.Protocol
	Ports    policy.PortSet
}

// BoundGroup is one of an instance's security groups with its policies for
// the direction at hand, in index order.
type BoundGroup struct {
	ID       string
	Policies []policy.Policy
}

// EffectiveInput is everything an instance's effective rule list for one
// direction depends on, as plain data.
type EffectiveInput struct {
	Direction policy.Direction
	// Port25Blocked puts the platform's outbound TCP 25 DROP first (egress
	// only).
	Port25Blocked bool
	// PlatformAddresses are the operator's service addresses (metadata,
	// DNS, NTP…), ACCEPTed in both directions before any group.
	PlatformAddresses []netip.Prefix
	// Groups are the instance's groups in binding order.
	Groups []BoundGroup
	// Addresses resolves the references a peer can make — a security group
	// (sg-: the private addresses of its instances) or an address template
	// (ipm-) or template group (ipmg-) — to prefixes. An address range is
	// given as the prefixes covering it (netipx.IPRange.Prefixes). A
	// present but empty list matches nothing.
	Addresses map[string][]netip.Prefix
	// Services resolves service templates (ppm-) and groups (ppmg-).
	Services map[string][]Service
}

// Query is the packet whose verdict is asked, seen from the instance: the
// peer's address (the source of inbound traffic, the destination of
// outbound), the IP protocol number and the destination port (ignored unless
// the protocol is TCP or UDP). An IPv4-mapped IPv6 peer is taken as IPv4 and
// a zone is ignored; an invalid peer matches no rule.
type Query struct {
	Peer  netip.Addr
	Proto uint8
	Port  uint16
}

func (q Query) normal() Query {
	q.Peer = q.Peer.Unmap().WithZone("")
	return q
}

// Decision is the verdict on a packet and what decided it.
type Decision struct {
	Verdict policy.Action
	Layer   Layer
	// GroupID and PolicyIndex name the deciding policy when Layer is
	// LayerSecurityGroup; otherwise GroupID is empty and PolicyIndex −1.
	GroupID     string
	PolicyIndex int
}

func (d Decision) String() string {
	if d.Layer == LayerSecurityGroup {
		return fmt.Sprintf("%v by %s policy %d", d.Verdict, d.GroupID, d.PolicyIndex)
	}
	return fmt.Sprintf("%v by %v", d.Verdict, d.Layer)
}

// defaultDecision is the implicit final DROP's.
func defaultDecision() Decision {
	return Decision{Verdict: policy.Drop, Layer: LayerDefault, PolicyIndex: -1}
}

// platform rule kinds.
const (
	platformPort25  = -2
	platformAddress = -3
)

// origin is one entry of the effective list.
type origin struct {
	layer  Layer
	group  int // index into EffectiveInput.Groups, or platformPort25/platformAddress
	id     string
	index  int // policy index, or the platform address's index
	action policy.Action
	policy policy.Policy // for LayerSecurityGroup
	prefix netip.Prefix  // for platformAddress
}

func (o *origin) decision() Decision {
	d := Decision{Verdict: o.action, Layer: o.layer, PolicyIndex: -1}
	if o.layer == LayerSecurityGroup {
		d.GroupID, d.PolicyIndex = o.id, o.index
	}
	return d
}

// text names the entry in a trace: its layer, then what it is.
func (o *origin) text(dir policy.Direction) string {
	switch o.group {
	case platformPort25:
		return "PLATFORM: outbound TCP 25 is blocked for the account"
	case platformAddress:
		return "PLATFORM: platform service address " + o.prefix.Masked().String()
	}
	return fmt.Sprintf("SECURITY_GROUP: %s policy %d (%s)", o.id, o.index, o.policy.Describe(dir))
}

// classifierOrigins is the length of effective list above which Decide
// goes through a compiled Classifier rather than the walk: beyond the
// default quotas (5 groups of 100 policies), where a walk's cost per
// decision would outgrow the classifier's build cost.
const classifierOrigins = 1024

// Effective is an instance's compiled effective rule list for one direction
// (SPEC §3): platform rules, then every group's policies in binding order,
// then an implicit DROP. It is immutable and safe for concurrent use.
//
// It is held as a walk (see walk): each entry's services and the sorted,
// merged address ranges of its peers, tried in order, which costs time
// linear in the list to build. A list longer than classifierOrigins entries
// is also compiled into a Classifier, which Decide then uses.
type Effective struct {
	dir     policy.Direction
	origins []origin
	w       walk
	c       *Classifier

	textOnce sync.Once
	texts    []string // each entry's text in traces, made by the first Trace
}

// CompileEffective resolves and compiles the effective rule list. It fails
// on an invalid direction, policy or platform address, or a reference that
// Addresses or Services does not resolve, reporting every problem at once.
func CompileEffective(in EffectiveInput) (*Effective, error) {
	return compileEffective(in, false)
}

// compileEffective builds the list, with a Classifier if the list is long
// or withClassifier is set.
func compileEffective(in EffectiveInput, withClassifier bool) (*Effective, error) {
	origins, errs := effectiveList(in)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e := &Effective{dir: in.Direction, origins: origins, w: buildWalk(in, origins)}
	if withClassifier || len(origins) > classifierOrigins {
		var rules []Rule
		for i := range origins {
			o := &origins[i]
			peers, services := effectiveMatch(in, o)
			rules = appendRules(rules, in.Direction, int32(i), o.action, peers, services)
		}
		c, err := Compile(rules)
		if err != nil {
			return nil, err
		}
		e.c = c
	}
	return e, nil
}

// effectiveList lays out the effective list and checks what it refers to.
func effectiveList(in EffectiveInput) ([]origin, []error) {
	var errs []error
	n := len(in.PlatformAddresses) + 1
	for _, g := range in.Groups {
		n += len(g.Policies)
	}
	origins := make([]origin, 0, n)
	if !in.Direction.Valid() {
		errs = append(errs, fmt.Errorf("invalid direction %d", in.Direction))
	}
	if in.Direction == policy.Egress && in.Port25Blocked {
		origins = append(origins, origin{layer: LayerPlatform, group: platformPort25, index: -1, action: policy.Drop})
	}
	for i, p := range in.PlatformAddresses {
		if !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			errs = append(errs, fmt.Errorf("platform address %d: invalid prefix %v", i, p))
			continue
		}
		origins = append(origins, origin{layer: LayerPlatform, group: platformAddress, index: i, action: policy.Accept, prefix: p})
	}
	for gi, g := range in.Groups {
		for pi, p := range g.Policies {
			if err := p.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s policy %d: %w", g.ID, pi, err))
				continue
			}
			if p.Peer.IsReference() {
				if _, ok := in.Addresses[p.Peer.ID]; !ok {
					errs = append(errs, fmt.Errorf("%s policy %d: unresolved %v %s", g.ID, pi, p.Peer.Kind, p.Peer.ID))
				}
			}
			if p.ServiceID != "" {
				svcs, ok := in.Services[p.ServiceID]
				if !ok {
					errs = append(errs, fmt.Errorf("%s policy %d: unresolved service template %s", g.ID, pi, p.ServiceID))
				}
				for si, s := range svcs {
					ports := s.Protocol.HasPorts()
					if !s.Protocol.Valid() || ports && !s.Ports.IsValid() || !ports && s.Ports.IsValid() && !s.Ports.All() {
						errs = append(errs, fmt.Errorf("service template %s entry %d: invalid %v %v", p.ServiceID, si, s.Protocol, s.Ports))
					}
				}
			}
			origins = append(origins, origin{layer: LayerSecurityGroup, group: gi, id: g.ID, index: pi, action: p.Action, policy: p})
		}
	}
	return origins, errs
}

// everywhere returns the prefix of every address of a family.
func everywhere(is6 bool) netip.Prefix {
	if is6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// effectiveMatch returns the peer prefixes and services of an entry.
func effectiveMatch(in EffectiveInput, o *origin) ([]netip.Prefix, []Service) {
	switch o.group {
	case platformPort25:
		return []netip.Prefix{everywhere(false), everywhere(true)}, []Service{{Protocol: policy.TCP, Ports: policy.Ports(policy.PortRange{Lo: 25, Hi: 25})}}
	case platformAddress:
		return []netip.Prefix{in.PlatformAddresses[o.index].Masked()}, []Service{{Protocol: policy.AnyProtocol, Ports: policy.AllPorts()}}
	}
	p := in.Groups[o.group].Policies[o.index]
	peers := []netip.Prefix{p.Peer.Prefix}
	if p.Peer.IsReference() {
		peers = in.Addresses[p.Peer.ID]
	}
	services := []Service{{Protocol: p.Protocol, Ports: p.Ports}}
	if p.ServiceID != "" {
		services = in.Services[p.ServiceID]
	}
	return peers, services
}

// appendRules expands one entry into classifier rules: one per peer prefix,
// service and port range, skipping the combinations of a protocol with the
// other family (ICMP is IPv4's, ICMPv6 IPv6's).
func appendRules(rules []Rule, dir policy.Direction, decider int32, action policy.Action, peers []netip.Prefix, services []Service) []Rule {
	act := Accept
	if action == policy.Drop {
		act = Drop
	}
	for _, peer := range peers {
		if !peer.IsValid() {
			continue
		}
		peer = peer.Masked()
		is6 := peer.Addr().Is6()
		wild := everywhere(is6)
		for _, s := range services {
			v4, v6 := s.Protocol.Families()
			if is6 && !v6 || !is6 && !v4 {
				continue
			}
			proto := AnyProto
			if n, ok := s.Protocol.Number(); ok {
				proto = Proto(n)
			}
			ranges := []PortRange{AllPorts}
			if s.Protocol.HasPorts() && !s.Ports.All() {
				ranges = ranges[:0]
				for _, r := range s.Ports.Ranges() {
					ranges = append(ranges, PortRange{Lo: r.Lo, Hi: r.Hi})
				}
			}
			for _, pr := range ranges {
				r := Rule{SrcPorts: AllPorts, DstPorts: pr, Proto: proto, Decider: decider, Action: act}
				if dir == policy.Egress {
					r.Src, r.Dst = wild, peer
				} else {
					r.Src, r.Dst = peer, wild
				}
				rules = append(rules, r)
			}
		}
	}
	return rules
}

// packet places q in a classifier packet: the peer on its side, the
// instance's side unspecified (its rules match any address of the family).
func (e *Effective) packet(q Query) Packet {
	inst := netip.IPv4Unspecified()
	if q.Peer.Is6() {
		inst = netip.IPv6Unspecified()
	}
	p := Packet{Src: q.Peer, Dst: inst, DstPort: q.Port, Proto: q.Proto}
	if e.dir == policy.Egress {
		p.Src, p.Dst = inst, q.Peer
	}
	return p
}

// Decide returns the verdict on q. It does not allocate.
func (e *Effective) Decide(q Query) Decision {
	q = q.normal()
	if !q.Peer.IsValid() {
		return defaultDecision()
	}
	if e.c != nil {
		m, ok := e.c.Decide(e.packet(q))
		if !ok {
			return defaultDecision()
		}
		return e.origins[m.Decider].decision()
	}
	k := newKey(q)
	for i := range e.origins {
		if e.w.matches(i, k) {
			return e.origins[i].decision()
		}
	}
	return defaultDecision()
}

// Trace returns the verdict on q and the walk that led to it: one line per
// entry of the effective list up to the deciding one, each naming its layer
// and saying whether it matched ("…: no match", or the entry's action).
func (e *Effective) Trace(q Query) (Decision, []string) {
	q = q.normal()
	d := e.Decide(q)
	e.textOnce.Do(func() {
		e.texts = make([]string, len(e.origins))
		for i := range e.origins {
			e.texts[i] = e.origins[i].text(e.dir)
		}
	})
	k := newKey(q)
	lines := make([]string, 0, len(e.origins)+1)
	for i := range e.origins {
		if !q.Peer.IsValid() || !e.w.matches(i, k) {
			lines = append(lines, e.texts[i]+": no match")
			continue
		}
		return d, append(lines, e.texts[i]+": "+e.origins[i].action.String())
	}
	return d, append(lines, "DEFAULT: no policy matches: DROP")
}

// Len returns the number of entries of the effective list.
func (e *Effective) Len() int { return len(e.origins) }

// ReferenceDecide is the reference for Effective: it walks the effective
// list entry by entry, matching with the policy package's own predicates,
// without compiling anything.
func ReferenceDecide(in EffectiveInput, q Query) (Decision, error) {
	origins, errs := effectiveList(in)
	if err := errors.Join(errs...); err != nil {
		return Decision{}, err
	}
	q = q.normal()
	if !q.Peer.IsValid() {
		return defaultDecision(), nil
	}
	is6 := q.Peer.Is6()
	for i := range origins {
		o := &origins[i]
		peers, services := effectiveMatch(in, o)
		peerOK := false
		for _, p := range peers {
			if p.Contains(q.Peer) {
				peerOK = true
			}
		}
		svcOK := false
		for _, s := range services {
			if s.Protocol.Matches(q.Proto, is6) && (!s.Protocol.HasPorts() || s.Ports.Contains(q.Port)) {
				svcOK = true
			}
		}
		if peerOK && svcOK {
			return o.decision(), nil
		}
	}
	return defaultDecision(), nil
}
