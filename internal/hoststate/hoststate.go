// Package hoststate converts a host's desired state between the effective
// rule lists of its instances (rules.List, as resolution builds them) and
// the wire form the host protocol carries (wire.HostState): Encode on the
// server, Decode in the agent. Peers that come from a reference are named
// address sets, listed once per state. Decode fails closed: a value it
// cannot read refuses the instance that holds it, with an *Error naming the
// instance, the rule and the value. The package does no I/O.
package hoststate

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/wire"
)

// Instance is one instance of a host's desired state, with its effective
// rule lists.
type Instance struct {
	ID, AccountID, Interface, State string
	PrivateIPs, IPv6s               []string
	Ingress, Egress                 rules.List
	// FlushConnections asks the agent to cut the instance's existing
	// connections that these lists no longer admit.
	FlushConnections bool
}

// List returns the list of direction d.
func (in *Instance) List(d policy.Direction) *rules.List {
	if d == policy.Egress {
		return &in.Egress
	}
	return &in.Ingress
}

// Problem is an instance whose lists the server refuses to build, and why.
type Problem struct {
	InstanceID, Message string
}

// State is a host's desired state at a store revision.
type State struct {
	Revision     int64
	HostID       string
	Instances    []Instance
	Unresolvable []Problem
	// Expires is when the first policy in the lists expires (zero: none):
	// the lists change then, without a write.
	Expires time.Time
}

// Error is a value of a wire state that Decode cannot read: where it is
// (the instance, "" for the state itself; the direction and rule index, −1
// outside a rule; the address set), the field, the value and why.
type Error struct {
	InstanceID string
	Direction  string
	Rule       int
	AddressSet string
	Field      string
	Value      string
	Reason     string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.AddressSet != "":
		fmt.Fprintf(&b, "address set %s", e.AddressSet)
	case e.InstanceID != "":
		fmt.Fprintf(&b, "instance %s", e.InstanceID)
	default:
		b.WriteString("host state")
	}
	if e.Rule >= 0 {
		fmt.Fprintf(&b, " %s rule %d", e.Direction, e.Rule)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " %s %q", e.Field, e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// directions are the two lists of an instance, in wire order.
func directions() []policy.Direction { return []policy.Direction{policy.Ingress, policy.Egress} }

// Encode returns the wire form of s. Every reference's addresses become
// one address set, which must be the same wherever the reference is used.
// It fails on an entry it cannot express: a layer other than the platform
// or a group, an invalid action or service, an unknown address source, or
// two entries of one reference with different addresses.
func Encode(s State) (wire.HostState, error) {
	out := wire.HostState{
		Revision:     s.Revision,
		HostId:       s.HostID,
		Instances:    make([]wire.HostInstance, 0, len(s.Instances)),
		AddressSets:  []wire.HostAddressSet{},
		Unresolvable: make([]wire.HostProblem, 0, len(s.Unresolvable)),
	}
	sets := map[string][]string{}
	var errs []error
	for i := range s.Instances {
		in := &s.Instances[i]
		wi := wire.HostInstance{
			InstanceId:         in.ID,
			AccountId:          in.AccountID,
			Interface:          in.Interface,
			State:              in.State,
			PrivateIpAddresses: nonNil(slices.Clone(in.PrivateIPs)),
			Ipv6Addresses:      nonNil(slices.Clone(in.IPv6s)),
			FlushConnections:   in.FlushConnections,
		}
		for _, d := range directions() {
			l := in.List(d)
			rs := make([]wire.HostRule, 0, len(l.Entries))
			for j := range l.Entries {
				r, err := encodeEntry(&l.Entries[j], sets)
				if err != nil {
					errs = append(errs, fmt.Errorf("instance %s %s entry %d: %w", in.ID, d, j, err))
					continue
				}
				rs = append(rs, r)
			}
			if d == policy.Egress {
				wi.Egress = rs
			} else {
				wi.Ingress = rs
			}
		}
		out.Instances = append(out.Instances, wi)
	}
	for _, id := range slices.Sorted(maps.Keys(sets)) {
		out.AddressSets = append(out.AddressSets, wire.HostAddressSet{Id: id, Addresses: sets[id]})
	}
	for _, p := range s.Unresolvable {
		out.Unresolvable = append(out.Unresolvable, wire.HostProblem{InstanceId: p.InstanceID, Message: p.Message})
	}
	if !s.Expires.IsZero() {
		out.Expires = s.Expires.UTC().Format(time.RFC3339Nano)
	}
	if err := errors.Join(errs...); err != nil {
		return wire.HostState{}, err
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// encodeEntry returns the wire rule of e, recording the address set of a
// reference in sets.
func encodeEntry(e *rules.Entry, sets map[string][]string) (wire.HostRule, error) {
	var r wire.HostRule
	o := &e.Origin
	switch o.Layer {
	case rules.LayerPlatform:
		r.Layer = wire.LayerPlatform
		switch o.Platform {
		case rules.PlatformPort25:
			r.Platform = wire.PlatformPort25Blocked
		case rules.PlatformAddress:
			r.Platform = wire.PlatformServiceAddress
		default:
			return r, fmt.Errorf("platform entry of unknown rule %v", o.Platform)
		}
	case rules.LayerSecurityGroup:
		r.Layer = wire.LayerSecurityGroup
		idx := o.PolicyIndex
		r.SecurityGroupId, r.PolicyIndex, r.Policy = o.GroupID, &idx, e.Policy.String()
	default:
		return r, fmt.Errorf("entry of layer %v", o.Layer)
	}
	if !e.Action.Valid() {
		return r, fmt.Errorf("invalid action %d", e.Action)
	}
	r.Action = e.Action.String()
	r.Services = make([]wire.HostService, 0, len(e.Services))
	for _, s := range e.Services {
		if !s.Valid() {
			return r, fmt.Errorf("invalid service %v", s)
		}
		ws := wire.HostService{Protocol: s.Protocol.String()}
		if s.Protocol.HasPorts() {
			ws.Ports = s.Ports.String()
		}
		r.Services = append(r.Services, ws)
	}
	addrs := prefixes(e.V4, e.V6)
	switch e.Source.Kind {
	case rules.SourceCIDR:
		r.CidrBlocks = addrs
	case rules.SourceSecurityGroup, rules.SourceAddressTemplate, rules.SourceAddressTemplateGroup:
		id := e.Source.ID
		if prev, ok := sets[id]; ok && !slices.Equal(prev, addrs) {
			return r, fmt.Errorf("address set %s resolved to %v here and %v elsewhere", id, addrs, prev)
		}
		sets[id] = addrs
		r.AddressSetId = id
	default:
		return r, fmt.Errorf("addresses of unknown source %v", e.Source.Kind)
	}
	return r, nil
}

// prefixes returns the prefixes of two sets, IPv4 first, each sorted.
func prefixes(v4, v6 *netipx.IPSet) []string {
	out := []string{}
	for _, s := range []*netipx.IPSet{v4, v6} {
		if s == nil {
			continue
		}
		for _, p := range s.Prefixes() {
			out = append(out, p.String())
		}
	}
	return out
}

// Decode reads a wire state back into effective rule lists. An instance
// with a value that cannot be read — a rule's layer, origin, action,
// service or peer, or an address set it uses — is left out of the state's
// Instances and the returned error, an errors.Join of *Error, names every
// such value: the caller must keep what it last applied for those
// instances. A problem of the state itself (a negative revision, an
// instance without an id or listed twice) refuses the whole state.
func Decode(w wire.HostState) (State, error) { return decode(w, nil) }

// DecodeKeeping is Decode, taking from prev, the state decoded from
// prevWire, each instance that w carries unchanged rather than decoding it
// again: the same rules — the same slices, as Merge keeps them, not equal
// copies — over address sets of the same addresses, with the same
// attributes. FlushConnections is w's.
func DecodeKeeping(w, prevWire wire.HostState, prev State) (State, error) {
	return decode(w, keeper(w, prevWire, prev))
}

// keeper returns which instances of w DecodeKeeping takes from prev.
func keeper(w, prevWire wire.HostState, prev State) func(wi *wire.HostInstance) (Instance, bool) {
	was := make(map[string]*wire.HostInstance, len(prevWire.Instances))
	for i := range prevWire.Instances {
		was[prevWire.Instances[i].InstanceId] = &prevWire.Instances[i]
	}
	decoded := make(map[string]*Instance, len(prev.Instances))
	for i := range prev.Instances {
		decoded[prev.Instances[i].ID] = &prev.Instances[i]
	}
	setsOf := func(st wire.HostState) map[string][]string {
		m := make(map[string][]string, len(st.AddressSets))
		for _, set := range st.AddressSets {
			m[set.Id] = set.Addresses
		}
		return m
	}
	before, now := setsOf(prevWire), setsOf(w)
	same := func(a, b []wire.HostRule) bool { return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) }
	return func(wi *wire.HostInstance) (Instance, bool) {
		p, d := was[wi.InstanceId], decoded[wi.InstanceId]
		if p == nil || d == nil || !same(wi.Ingress, p.Ingress) || !same(wi.Egress, p.Egress) ||
			wi.AccountId != p.AccountId || wi.Interface != p.Interface || wi.State != p.State ||
			!slices.Equal(wi.PrivateIpAddresses, p.PrivateIpAddresses) || !slices.Equal(wi.Ipv6Addresses, p.Ipv6Addresses) {
			return Instance{}, false
		}
		for _, rs := range [][]wire.HostRule{wi.Ingress, wi.Egress} {
			for _, r := range rs {
				if r.AddressSetId == "" {
					continue
				}
				a, ok1 := before[r.AddressSetId]
				b, ok2 := now[r.AddressSetId]
				if !ok1 || !ok2 || !slices.Equal(a, b) {
					return Instance{}, false
				}
			}
		}
		in := *d
		in.FlushConnections = wi.FlushConnections
		return in, true
	}
}

func decode(w wire.HostState, keep func(*wire.HostInstance) (Instance, bool)) (State, error) {
	out := State{Revision: w.Revision, HostID: w.HostId}
	if w.Revision < 0 {
		return State{}, &Error{Rule: -1, Field: "Revision", Value: fmt.Sprint(w.Revision), Reason: "must not be negative"}
	}
	if w.Expires != "" {
		t, err := time.Parse(time.RFC3339Nano, w.Expires)
		if err != nil {
			return State{}, &Error{Rule: -1, Field: "Expires", Value: w.Expires, Reason: "is not an RFC 3339 time"}
		}
		out.Expires = t
	}
	sets := map[string]addressSet{}
	for _, s := range w.AddressSets {
		if _, ok := sets[s.Id]; ok {
			return State{}, &Error{Rule: -1, AddressSet: s.Id, Reason: "listed twice"}
		}
		sets[s.Id] = decodeSet(s)
	}
	seen := map[string]bool{}
	var errs []error
	for _, wi := range w.Instances {
		if !policy.ValidID(policy.PrefixInstance, wi.InstanceId) {
			return State{}, &Error{Rule: -1, Field: "InstanceId", Value: wi.InstanceId, Reason: "is not an instance id"}
		}
		if seen[wi.InstanceId] {
			return State{}, &Error{InstanceID: wi.InstanceId, Rule: -1, Reason: "listed twice"}
		}
		seen[wi.InstanceId] = true
		if keep != nil {
			if in, ok := keep(&wi); ok {
				out.Instances = append(out.Instances, in)
				continue
			}
		}
		in, ierrs := decodeInstance(wi, sets)
		if len(ierrs) > 0 {
			errs = append(errs, ierrs...)
			continue
		}
		out.Instances = append(out.Instances, in)
	}
	for _, p := range w.Unresolvable {
		out.Unresolvable = append(out.Unresolvable, Problem{InstanceID: p.InstanceId, Message: p.Message})
	}
	return out, errors.Join(errs...)
}

// addressSet is a decoded address set, or why it cannot be used.
type addressSet struct {
	addrs rules.Addresses
	err   *Error
}

// decodeSet reads a named address set; its id says where it comes from.
func decodeSet(s wire.HostAddressSet) addressSet {
	src := rules.Source{ID: s.Id}
	switch {
	case policy.ValidID(policy.PrefixSecurityGroup, s.Id):
		src.Kind = rules.SourceSecurityGroup
	case policy.ValidID(policy.PrefixAddressTemplateGroup, s.Id):
		src.Kind = rules.SourceAddressTemplateGroup
	case policy.ValidID(policy.PrefixAddressTemplate, s.Id):
		src.Kind = rules.SourceAddressTemplate
	default:
		return addressSet{err: &Error{Rule: -1, AddressSet: s.Id, Field: "Id", Value: s.Id, Reason: "is not a security group, address template or template group id"}}
	}
	a, err := parsePrefixes(src, s.Addresses)
	if err != nil {
		err.Rule, err.AddressSet = -1, s.Id
		return addressSet{err: err}
	}
	return addressSet{addrs: a}
}

// parsePrefixes reads canonical prefixes (masked, no zone, no IPv4-mapped
// IPv6) into the addresses of src.
func parsePrefixes(src rules.Source, list []string) (rules.Addresses, *Error) {
	var b netipx.IPSetBuilder
	for i, s := range list {
		p, err := netip.ParsePrefix(s)
		field := fmt.Sprintf("Addresses.%d", i)
		if src.Kind == rules.SourceCIDR {
			field = fmt.Sprintf("CidrBlocks.%d", i)
		}
		switch {
		case err != nil:
			return rules.Addresses{}, &Error{Field: field, Value: s, Reason: "is not a prefix"}
		case p != p.Masked() || p.Addr().Is4In6():
			return rules.Addresses{}, &Error{Field: field, Value: s, Reason: "is not a canonical prefix (masked, not IPv4-mapped)"}
		}
		b.AddPrefix(p)
	}
	a, err := rules.Split(src, &b)
	if err != nil {
		return rules.Addresses{}, &Error{Reason: err.Error()}
	}
	return a, nil
}

// decodeInstance reads one instance, reporting every value it cannot read.
func decodeInstance(wi wire.HostInstance, sets map[string]addressSet) (Instance, []error) {
	in := Instance{
		ID: wi.InstanceId, AccountID: wi.AccountId, Interface: wi.Interface, State: wi.State,
		PrivateIPs: slices.Clone(wi.PrivateIpAddresses), IPv6s: slices.Clone(wi.Ipv6Addresses),
		FlushConnections: wi.FlushConnections,
	}
	var errs []error
	for _, d := range directions() {
		rs := wi.Ingress
		if d == policy.Egress {
			rs = wi.Egress
		}
		l := in.List(d)
		l.Direction = d
		l.Entries = make([]rules.Entry, 0, len(rs))
		for i := range rs {
			e, err := decodeRule(d, &rs[i], sets)
			if err != nil {
				err.InstanceID, err.Direction, err.Rule = wi.InstanceId, d.String(), i
				errs = append(errs, err)
				continue
			}
			l.Entries = append(l.Entries, e)
		}
	}
	return in, errs
}

// decodeRule reads one rule of a list of direction d.
func decodeRule(d policy.Direction, r *wire.HostRule, sets map[string]addressSet) (rules.Entry, *Error) {
	e := rules.Entry{Origin: rules.Origin{Direction: d, PolicyIndex: -1}}
	o := &e.Origin
	act, err := policy.ParseAction(r.Action)
	if err != nil {
		return e, &Error{Field: "Action", Value: r.Action, Reason: "must be ACCEPT or DROP"}
	}
	e.Action = act
	switch r.Layer {
	case wire.LayerPlatform:
		o.Layer = rules.LayerPlatform
		if r.SecurityGroupId != "" || r.PolicyIndex != nil || r.Policy != "" {
			return e, &Error{Field: "Layer", Value: r.Layer, Reason: "a platform rule has no SecurityGroupId, PolicyIndex or Policy"}
		}
		switch r.Platform {
		case wire.PlatformPort25Blocked:
			o.Platform = rules.PlatformPort25
		case wire.PlatformServiceAddress:
			o.Platform = rules.PlatformAddress
		default:
			return e, &Error{Field: "Platform", Value: r.Platform, Reason: "must be " + wire.PlatformPort25Blocked + " or " + wire.PlatformServiceAddress}
		}
	case wire.LayerSecurityGroup:
		o.Layer = rules.LayerSecurityGroup
		switch {
		case r.Platform != "":
			return e, &Error{Field: "Platform", Value: r.Platform, Reason: "a group's rule names no platform rule"}
		case !policy.ValidID(policy.PrefixSecurityGroup, r.SecurityGroupId):
			return e, &Error{Field: "SecurityGroupId", Value: r.SecurityGroupId, Reason: "is not a security group id"}
		case r.PolicyIndex == nil || *r.PolicyIndex < 0:
			v := ""
			if r.PolicyIndex != nil {
				v = fmt.Sprint(*r.PolicyIndex)
			}
			return e, &Error{Field: "PolicyIndex", Value: v, Reason: "a group's rule has a PolicyIndex of 0 or more"}
		}
		p, err := policy.ParsePolicy(r.Policy)
		if err != nil {
			return e, &Error{Field: "Policy", Value: r.Policy, Reason: err.Error()}
		}
		if p.Action != act {
			return e, &Error{Field: "Policy", Value: r.Policy, Reason: "its action is not the rule's " + act.String()}
		}
		o.GroupID, o.PolicyIndex, e.Policy, e.ServiceID = r.SecurityGroupId, *r.PolicyIndex, &p, p.ServiceID
	default:
		return e, &Error{Field: "Layer", Value: r.Layer, Reason: "must be " + wire.LayerPlatform + " or " + wire.LayerSecurityGroup}
	}
	if len(r.Services) == 0 {
		return e, &Error{Field: "Services", Reason: "a rule matches at least one service"}
	}
	e.Services = make([]rules.Service, 0, len(r.Services))
	for i, ws := range r.Services {
		s, err := decodeService(ws)
		if err != nil {
			err.Field = fmt.Sprintf("Services.%d.%s", i, err.Field)
			return e, err
		}
		e.Services = append(e.Services, s)
	}
	var addrs rules.Addresses
	switch {
	case r.AddressSetId != "" && len(r.CidrBlocks) > 0:
		return e, &Error{Field: "AddressSetId", Value: r.AddressSetId, Reason: "a rule has CidrBlocks or an AddressSetId, not both"}
	case r.AddressSetId != "":
		if o.Layer == rules.LayerPlatform {
			return e, &Error{Field: "AddressSetId", Value: r.AddressSetId, Reason: "a platform rule's peer is literal prefixes"}
		}
		s, ok := sets[r.AddressSetId]
		if !ok {
			return e, &Error{Field: "AddressSetId", Value: r.AddressSetId, Reason: "no such address set in the state"}
		}
		if s.err != nil {
			return e, &Error{Field: "AddressSetId", Value: r.AddressSetId, Reason: s.err.Error()}
		}
		addrs = s.addrs
	case len(r.CidrBlocks) > 0:
		a, err := parsePrefixes(rules.Source{Kind: rules.SourceCIDR}, r.CidrBlocks)
		if err != nil {
			return e, err
		}
		addrs = a
		if o.Platform == rules.PlatformAddress {
			if len(r.CidrBlocks) != 1 {
				return e, &Error{Field: "CidrBlocks", Value: strings.Join(r.CidrBlocks, ","), Reason: "a platform address rule has one prefix"}
			}
			o.Prefix = netip.MustParsePrefix(r.CidrBlocks[0])
		}
	default:
		return e, &Error{Field: "CidrBlocks", Reason: "a rule has CidrBlocks or an AddressSetId"}
	}
	e.V4, e.V6, e.Source = addrs.V4, addrs.V6, addrs.Source
	return e, nil
}

// decodeService reads one service: a protocol and, for TCP and UDP, its
// ports.
func decodeService(ws wire.HostService) (rules.Service, *Error) {
	proto, err := policy.ParseProtocol(ws.Protocol)
	if err != nil {
		return rules.Service{}, &Error{Field: "Protocol", Value: ws.Protocol, Reason: "must be one of TCP, UDP, ICMP, ICMPv6, GRE, ALL"}
	}
	s := rules.Service{Protocol: proto}
	switch {
	case proto.HasPorts():
		if s.Ports, err = policy.ParsePortSet(ws.Ports); err != nil {
			return rules.Service{}, &Error{Field: "Ports", Value: ws.Ports, Reason: "is not a port set"}
		}
	case ws.Ports != "":
		return rules.Service{}, &Error{Field: "Ports", Value: ws.Ports, Reason: proto.String() + " has no ports"}
	}
	if !s.Valid() {
		return rules.Service{}, &Error{Field: "Protocol", Value: ws.Protocol, Reason: "invalid service"}
	}
	return s, nil
}

// Merge returns base, a host's wire state, with a partial answer of
// WatchHostState applied: the instances of partial (resolved or not)
// replace those of base with the same id or are added, the instances
// removed are dropped, and the address sets are those the instances use,
// partial's replacing base's. The revision and expiry are partial's, and
// so is FlushConnections: base's instances are kept without it. An
// instance listed twice, or a set an instance names that neither state
// holds, is an error.
func Merge(base, partial wire.HostState, removed []string) (wire.HostState, error) {
	if partial.HostId != base.HostId {
		return wire.HostState{}, &Error{Rule: -1, Field: "HostId", Value: partial.HostId, Reason: fmt.Sprintf("is not the host of the state merged into (%s)", base.HostId)}
	}
	replaced := map[string]bool{}
	for _, id := range removed {
		replaced[id] = true
	}
	for _, in := range partial.Instances {
		if replaced[in.InstanceId] {
			return wire.HostState{}, &Error{InstanceID: in.InstanceId, Rule: -1, Reason: "listed twice"}
		}
		replaced[in.InstanceId] = true
	}
	for _, p := range partial.Unresolvable {
		if replaced[p.InstanceId] {
			return wire.HostState{}, &Error{InstanceID: p.InstanceId, Rule: -1, Reason: "listed twice"}
		}
		replaced[p.InstanceId] = true
	}
	out := wire.HostState{Revision: partial.Revision, HostId: base.HostId, Expires: partial.Expires, AddressSets: []wire.HostAddressSet{}}
	for _, in := range base.Instances {
		if !replaced[in.InstanceId] {
			in.FlushConnections = false // asked of base's apply, done then
			out.Instances = append(out.Instances, in)
		}
	}
	out.Instances = append(out.Instances, partial.Instances...)
	for _, p := range base.Unresolvable {
		if !replaced[p.InstanceId] {
			out.Unresolvable = append(out.Unresolvable, p)
		}
	}
	out.Unresolvable = append(out.Unresolvable, partial.Unresolvable...)
	if out.Instances == nil {
		out.Instances = []wire.HostInstance{}
	}
	if out.Unresolvable == nil {
		out.Unresolvable = []wire.HostProblem{}
	}
	sets := map[string]wire.HostAddressSet{}
	for _, s := range base.AddressSets {
		sets[s.Id] = s
	}
	for _, s := range partial.AddressSets {
		sets[s.Id] = s
	}
	used := map[string]bool{}
	for _, in := range out.Instances {
		for _, rs := range [][]wire.HostRule{in.Ingress, in.Egress} {
			for _, r := range rs {
				if r.AddressSetId == "" || used[r.AddressSetId] {
					continue
				}
				if _, ok := sets[r.AddressSetId]; !ok {
					return wire.HostState{}, &Error{InstanceID: in.InstanceId, Rule: -1, AddressSet: r.AddressSetId, Reason: "is used but in neither state"}
				}
				used[r.AddressSetId] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(used)) {
		out.AddressSets = append(out.AddressSets, sets[id])
	}
	return out, nil
}
