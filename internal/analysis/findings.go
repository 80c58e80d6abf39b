package analysis

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Kind is the kind of a finding, in upper snake case.
type Kind string

// The kinds of findings.
const (
	// KindShadowed: a policy that never matches, because earlier entries
	// decide everything it matches, some of them with the other action.
	KindShadowed Kind = "SHADOWED"
	// KindRedundant: a policy that never matches, because earlier entries
	// with its own action decide everything it matches.
	KindRedundant Kind = "REDUNDANT"
	// KindMatchesNothing: a policy whose match space is empty (a group
	// reference without members, a template without addresses of the
	// family its protocols exist in).
	KindMatchesNothing Kind = "MATCHES_NOTHING"
	// KindExposedPort: an inbound ACCEPT from 0.0.0.0/0 or ::/0 that
	// decides a sensitive port.
	KindExposedPort Kind = WarningExposedPort
	// KindISPBlockedPort: a policy naming a port ISPs commonly block.
	KindISPBlockedPort Kind = WarningISPBlockedPort
	// KindPort25Blocked: an outbound ACCEPT of TCP 25 while the account's
	// block is on.
	KindPort25Blocked Kind = WarningPort25Blocked
	// KindWidenedCIDR: a CIDR written as a prefix of the unspecified
	// address, which is the whole family.
	KindWidenedCIDR Kind = WarningWidenedCIDR
	// KindNoLoginPort: nothing admits the instance's login port (22 for
	// linux, 3389 for windows) from anywhere.
	KindNoLoginPort Kind = "NO_LOGIN_PORT"
	// KindNoPing: nothing admits inbound ICMP or ICMPv6.
	KindNoPing Kind = "NO_PING"
	// KindNoEgress: nothing admits outbound traffic.
	KindNoEgress Kind = "NO_EGRESS"
	// KindUnresolved: a policy whose match space is unknown (a template or
	// group reference that cannot be resolved where the analysis runs).
	KindUnresolved Kind = "UNRESOLVED"
	// KindUnused: a policy no agent counted a packet for over a period
	// (see Unused).
	KindUnused Kind = "UNUSED"
)

// String returns the kind's name.
func (k Kind) String() string { return string(k) }

// Severity is how much a finding matters. The zero value is invalid;
// greater is more severe.
type Severity uint8

// The severities, least severe first.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
)

// ParseSeverity parses HIGH, MEDIUM, LOW or INFO, in any case.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "HIGH":
		return SeverityHigh, nil
	case "MEDIUM":
		return SeverityMedium, nil
	case "LOW":
		return SeverityLow, nil
	case "INFO":
		return SeverityInfo, nil
	}
	return 0, fmt.Errorf("severity %q: want high, medium, low or info", s)
}

// Valid reports whether s is one of the severities.
func (s Severity) Valid() bool { return s >= SeverityInfo && s <= SeverityHigh }

// String returns HIGH, MEDIUM, LOW or INFO.
func (s Severity) String() string {
	switch s {
	case SeverityHigh:
		return "HIGH"
	case SeverityMedium:
		return "MEDIUM"
	case SeverityLow:
		return "LOW"
	case SeverityInfo:
		return "INFO"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", s)
	}
	return []byte(s.String()), nil
}

// PolicyRef names an entry of an effective list that a finding involves:
// a group's policy (SecurityGroupID, PolicyIndex) or a platform rule
// (Platform, PolicyIndex −1), and its action.
type PolicyRef struct {
	SecurityGroupID string
	PolicyIndex     int
	Platform        rules.PlatformRule
	Action          policy.Action
}

// String returns "sg-1a2b3c4d policy 2 (DROP)" ("policy 2 (DROP)"
// without a group) or "platform rule PORT25_BLOCKED (DROP)".
func (r PolicyRef) String() string {
	if r.Platform != 0 {
		return fmt.Sprintf("platform rule %s (%s)", r.Platform, r.Action)
	}
	if r.SecurityGroupID == "" {
		return fmt.Sprintf("policy %d (%s)", r.PolicyIndex, r.Action)
	}
	return fmt.Sprintf("%s policy %d (%s)", r.SecurityGroupID, r.PolicyIndex, r.Action)
}

func refOf(e *rules.Entry) PolicyRef {
	return PolicyRef{SecurityGroupID: e.Origin.GroupID, PolicyIndex: e.Origin.PolicyIndex, Platform: e.Origin.Platform, Action: e.Action}
}

// Finding is one thing the analysis found about a group or an instance.
// PolicyIndex is the policy the finding is about, −1 for a finding about
// a whole direction (NO_LOGIN_PORT, NO_PING, NO_EGRESS). Policies are the
// policies involved: the one the finding is about first, then, for
// SHADOWED and REDUNDANT, the entries covering it.
type Finding struct {
	Kind            Kind
	Severity        Severity
	SecurityGroupID string
	InstanceID      string
	Direction       policy.Direction
	PolicyIndex     int
	Message         string
	Policies        []PolicyRef
}

// Unresolved is a policy left out of the lists given to Findings because
// its match space is unknown where the analysis runs (an address or
// service template, a group reference), and why.
type Unresolved struct {
	GroupID     string
	Direction   policy.Direction
	PolicyIndex int
	Policy      *policy.Policy
	Reason      string
}

// Input is what Findings analyses: one group's lists alone (InstanceID
// empty, the entries of that group only), or an instance's effective
// lists (rules.List with the platform rules and every group in binding
// order). Port25Blocked is whether the account's outbound TCP 25 block is
// on. OSType (linux or windows) chooses the login port of an instance.
// Unresolved are policies left out of the lists, reported as such and
// never counted as covering anything.
type Input struct {
	InstanceID    string
	OSType        string
	Ingress       rules.List
	Egress        rules.List
	Port25Blocked bool
	Unresolved    []Unresolved
}

// maxNamed is how many covering policies a message names.
const maxNamed = 5

// Findings returns the findings about in, computed exactly from the
// disjoint first-match regions of each list (regions.Compute):
//
//   - SHADOWED (MEDIUM) and REDUNDANT (LOW): a group policy owning no
//     region, so that earlier entries decide all it matches; its covering
//     entries are the owners of the regions its match space meets. Some of
//     them with the other action make it SHADOWED, all with its own
//     REDUNDANT. A policy covered in part is not reported. A policy whose
//     match space is empty is MATCHES_NOTHING (LOW).
//   - EXPOSED_PORT (HIGH): an inbound ACCEPT from the whole of a family
//     (0.0.0.0/0, ::/0) owning a region of TCP with a sensitive port
//     (catalog.SensitivePorts), whatever wrote it: a port, a range, ALL or
//     a service template.
//   - The write-time warnings of each policy (PolicyWarnings) but
//     EXPOSED_PORT: ISP_BLOCKED_PORT (LOW), PORT25_BLOCKED (MEDIUM),
//     WIDENED_CIDR (MEDIUM).
//   - For an instance: NO_LOGIN_PORT (MEDIUM) when no group policy admits
//     the login port of its OS from any address, NO_PING (LOW) when none
//     admits inbound ICMP or ICMPv6, NO_EGRESS (MEDIUM) when none admits
//     anything outbound. Platform rules do not count: they admit the
//     platform's own services, not the instance's users.
//   - UNRESOLVED (INFO) for each policy of in.Unresolved.
//
// Findings come per direction, ingress first, in list order. It fails on
// an invalid list.
func Findings(in Input) ([]Finding, error) {
	var out []Finding
	unresolved := func(d policy.Direction) []Unresolved {
		var us []Unresolved
		for _, u := range in.Unresolved {
			if u.Direction == d {
				us = append(us, u)
			}
		}
		return us
	}
	var admits [3]*admitted
	for _, l := range []*rules.List{&in.Ingress, &in.Egress} {
		d := l.Direction
		if d != policy.Ingress && d != policy.Egress {
			return nil, fmt.Errorf("invalid direction %d", d)
		}
		fs, adm, err := listFindings(in, l, unresolved(d))
		if err != nil {
			return nil, fmt.Errorf("%s findings: %w", strings.ToLower(d.String()), err)
		}
		out = append(out, fs...)
		admits[d] = adm
	}
	if in.InstanceID != "" {
		out = append(out, instanceFindings(in, admits[policy.Ingress], admits[policy.Egress])...)
	}
	return out, nil
}

// admitted is what the group policies of a list admit, as its regions
// say.
type admitted struct {
	any         bool           // some packet
	tcp         map[uint16]int // the login ports admitted, by the number of regions
	icmp, icmp6 bool
}

// listFindings returns the findings about one list, and what its group
// policies admit.
func listFindings(in Input, l *rules.List, unresolved []Unresolved) ([]Finding, *admitted, error) {
	d := l.Direction
	res, err := regions.Compute(*l, 0)
	if err != nil {
		return nil, nil, err
	}
	n := len(l.Entries)
	owned := res.Owned(n)
	exposed := exposedPorts(l, res)
	adm := admits(l, res)

	var out []Finding
	for i := range l.Entries {
		e := &l.Entries[i]
		if e.Origin.Layer != rules.LayerSecurityGroup {
			continue
		}
		base := Finding{SecurityGroupID: e.Origin.GroupID, InstanceID: in.InstanceID, Direction: d, PolicyIndex: e.Origin.PolicyIndex, Policies: []PolicyRef{refOf(e)}}
		what := describe(e)
		if owned[i] == 0 {
			cov := coverers(res, e)
			f := base
			switch {
			case len(cov) == 0:
				f.Kind, f.Severity = KindMatchesNothing, SeverityLow
				f.Message = what + " matches no packet: " + emptyReason(e)
			default:
				var same, other []PolicyRef
				platform := false
				for _, c := range cov {
					r := refOf(&l.Entries[c])
					platform = platform || r.Platform != 0
					f.Policies = append(f.Policies, r)
					if r.Action == e.Action {
						same = append(same, r)
					} else {
						other = append(other, r)
					}
				}
				if len(other) > 0 {
					f.Kind, f.Severity = KindShadowed, SeverityMedium
					f.Message = fmt.Sprintf("%s never matches: earlier rules decide all it matches, %s with the other action (%s)", what, named(other), other[0].Action)
					if len(same) > 0 {
						f.Message += fmt.Sprintf(" and %s with its own (%s)", named(same), e.Action)
					}
					if platform {
						f.Message += "; platform rules come before every group: remove it"
					} else {
						f.Message += "; move it above them or remove it"
					}
				} else {
					f.Kind, f.Severity = KindRedundant, SeverityLow
					f.Message = fmt.Sprintf("%s never matches: earlier rules with the same action (%s) decide all it matches, %s; it can be removed", what, e.Action, named(same))
				}
			}
			out = append(out, f)
		}
		if ports := exposed[i]; len(ports) > 0 {
			f := base
			f.Kind, f.Severity = KindExposedPort, SeverityHigh
			f.Message = fmt.Sprintf("%s opens sensitive TCP port(s) %s to the whole Internet; restrict the source if you can", what, joinPorts(ports))
			out = append(out, f)
		}
		ws, err := PolicyWarnings(e, in.Port25Blocked)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, warningFindings(base, ws, e)...)
	}
	for _, u := range unresolved {
		base := Finding{SecurityGroupID: u.GroupID, InstanceID: in.InstanceID, Direction: d, PolicyIndex: u.PolicyIndex,
			Policies: []PolicyRef{{SecurityGroupID: u.GroupID, PolicyIndex: u.PolicyIndex, Action: u.Policy.Action}}}
		f := base
		f.Kind, f.Severity = KindUnresolved, SeverityInfo
		f.Message = fmt.Sprintf("%s policy %d (%s): %s; its match space is unknown, so it is not analysed and no policy after it is taken as covered by it", d.Field(), u.PolicyIndex, u.Policy.Describe(d), u.Reason)
		out = append(out, f)
		// The warnings that need no resolution: its own ports, its CIDR.
		e, err := rules.PolicyEntry(d, u.GroupID, u.PolicyIndex, u.Policy, nil, rules.Addresses{Source: rules.PeerSource(u.Policy.Peer)})
		if err != nil {
			return nil, nil, fmt.Errorf("%s policy %d: %w", d.Field(), u.PolicyIndex, err)
		}
		ws, err := PolicyWarnings(&e, in.Port25Blocked)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, warningFindings(base, ws, &e)...)
	}
	// Group policies come in list order; the unresolved ones are put in
	// their place in their group.
	order := map[string]int{}
	for i := range l.Entries {
		if id := l.Entries[i].Origin.GroupID; l.Entries[i].Origin.Layer == rules.LayerSecurityGroup {
			if _, ok := order[id]; !ok {
				order[id] = len(order)
			}
		}
	}
	for _, u := range unresolved {
		if _, ok := order[u.GroupID]; !ok {
			order[u.GroupID] = len(order)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		if c := order[a.SecurityGroupID] - order[b.SecurityGroupID]; c != 0 {
			return c
		}
		return a.PolicyIndex - b.PolicyIndex
	})
	return out, adm, nil
}

// warningFindings turns the write-time warnings of an entry into
// findings, but EXPOSED_PORT, which Findings computes from the regions.
func warningFindings(base Finding, ws []Warning, e *rules.Entry) []Finding {
	var out []Finding
	for _, w := range ws {
		f := base
		f.Kind, f.Message = Kind(w.Code), w.Message
		switch w.Code {
		case WarningExposedPort:
			continue
		case WarningISPBlockedPort:
			f.Severity = SeverityLow
		case WarningPort25Blocked, WarningWidenedCIDR:
			f.Severity = SeverityMedium
		default:
			f.Severity = SeverityInfo
		}
		if e.Origin.GroupID != "" {
			f.Message = e.Origin.GroupID + " " + f.Message
		}
		out = append(out, f)
	}
	return out
}

// describe names a group's policy in a message: "sg-1a2b3c4d Ingress
// policy 2 (DROP TCP 22 from 0.0.0.0/0)".
func describe(e *rules.Entry) string {
	s := fmt.Sprintf("%s policy %d (%s)", e.Origin.Direction.Field(), e.Origin.PolicyIndex, e.Policy.Describe(e.Origin.Direction))
	if e.Origin.GroupID != "" {
		s = e.Origin.GroupID + " " + s
	}
	return s
}

// named lists up to maxNamed policies, and how many more.
func named(rs []PolicyRef) string {
	parts := make([]string, 0, min(len(rs), maxNamed)+1)
	for _, r := range rs[:min(len(rs), maxNamed)] {
		parts = append(parts, r.String())
	}
	if k := len(rs) - maxNamed; k > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", k))
	}
	return strings.Join(parts, ", ")
}

// emptyReason says why an entry matches nothing.
func emptyReason(e *rules.Entry) string {
	switch e.Source.Kind {
	case rules.SourceSecurityGroup:
		return fmt.Sprintf("group %s has no instance address of the family its protocols exist in", e.Source.ID)
	case rules.SourceAddressTemplate, rules.SourceAddressTemplateGroup:
		return fmt.Sprintf("template %s has no address of the family its protocols exist in", e.Source.ID)
	}
	if e.ServiceID != "" {
		return fmt.Sprintf("service template %s has no service of the address family of its peer", e.ServiceID)
	}
	return "its protocol does not exist in its peer's address family"
}

func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

// slices of a result with whether they are IPv6's and have ports.
func slicesOf(res *regions.Result) []struct {
	rs         []regions.Region
	is6, ports bool
} {
	return []struct {
		rs         []regions.Region
		is6, ports bool
	}{{res.V4Ports, false, true}, {res.V4NoPorts, false, false}, {res.V6Ports, true, true}, {res.V6NoPorts, true, false}}
}

// coverers returns the indexes, in order, of the owners of the regions
// that e's match space meets.
func coverers(res *regions.Result, e *rules.Entry) []int {
	seen := map[int]bool{}
	for _, sl := range slicesOf(res) {
		set := e.V4
		if sl.is6 {
			set = e.V6
		}
		if set == nil || len(sl.rs) == 0 {
			continue
		}
		rs := set.Ranges()
		if len(rs) == 0 {
			continue
		}
		last := rs[len(rs)-1].To()
		for _, g := range sl.rs {
			if g.AddrLo.Compare(last) > 0 {
				break // sorted by address: no later region meets the set
			}
			if seen[g.Owner] || !servicesMeet(e.Services, g, sl.is6, sl.ports) {
				continue
			}
			if set.OverlapsRange(netipx.IPRangeFrom(g.AddrLo, g.AddrHi)) {
				seen[g.Owner] = true
			}
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// servicesMeet reports whether some service matches a packet of region g,
// of a slice of the family is6, with or without ports.
func servicesMeet(svcs []rules.Service, g regions.Region, is6, ports bool) bool {
	for _, s := range svcs {
		v4, v6 := s.Protocol.Families()
		if is6 && !v6 || !is6 && !v4 {
			continue
		}
		num, named := s.Protocol.Number()
		if !named {
			return true
		}
		if s.Protocol.HasPorts() != ports || num < g.ProtoLo || num > g.ProtoHi {
			continue
		}
		if !ports || s.Ports.All() {
			return true
		}
		for _, r := range s.Ports.Ranges() {
			if r.Lo <= g.PortHi && g.PortLo <= r.Hi {
				return true
			}
		}
	}
	return false
}

// exposedPorts returns, for each inbound ACCEPT group entry from the whole
// of a family, the sensitive TCP ports it decides for that family, in
// catalog order.
func exposedPorts(l *rules.List, res *regions.Result) map[int][]uint16 {
	out := map[int][]uint16{}
	if l.Direction != policy.Ingress {
		return out
	}
	sensitive := catalog.SensitivePorts()
	hit := map[int]map[uint16]bool{}
	for _, sl := range []struct {
		rs  []regions.Region
		all netip.Prefix
		v6  bool
	}{{res.V4Ports, netip.MustParsePrefix("0.0.0.0/0"), false}, {res.V6Ports, netip.MustParsePrefix("::/0"), true}} {
		for _, g := range sl.rs {
			if g.ProtoLo > policy.NumTCP || g.ProtoHi < policy.NumTCP {
				continue
			}
			e := &l.Entries[g.Owner]
			if e.Origin.Layer != rules.LayerSecurityGroup || e.Action != policy.Accept {
				continue
			}
			set := e.V4
			if sl.v6 {
				set = e.V6
			}
			if set == nil || !set.ContainsPrefix(sl.all) {
				continue
			}
			for _, p := range sensitive {
				if g.PortLo <= p && p <= g.PortHi {
					if hit[g.Owner] == nil {
						hit[g.Owner] = map[uint16]bool{}
					}
					hit[g.Owner][p] = true
				}
			}
		}
	}
	for i, ports := range hit {
		for _, p := range sensitive {
			if ports[p] {
				out[i] = append(out[i], p)
			}
		}
	}
	return out
}

// admits returns what the group entries of a list admit.
func admits(l *rules.List, res *regions.Result) *admitted {
	a := &admitted{tcp: map[uint16]int{}}
	logins := loginPorts()
	for _, sl := range slicesOf(res) {
		for _, g := range sl.rs {
			e := &l.Entries[g.Owner]
			if e.Origin.Layer != rules.LayerSecurityGroup || e.Action != policy.Accept {
				continue
			}
			a.any = true
			switch {
			case sl.ports:
				if g.ProtoLo <= policy.NumTCP && policy.NumTCP <= g.ProtoHi {
					for _, p := range logins {
						if g.PortLo <= p && p <= g.PortHi {
							a.tcp[p]++
						}
					}
				}
			case !sl.is6 && g.ProtoLo <= policy.NumICMP && policy.NumICMP <= g.ProtoHi:
				a.icmp = true
			case sl.is6 && g.ProtoLo <= policy.NumICMPv6 && policy.NumICMPv6 <= g.ProtoHi:
				a.icmp6 = true
			}
		}
	}
	return a
}

// loginPorts returns the TCP login ports of the catalogue, by OS.
func loginPorts() map[string]uint16 {
	out := map[string]uint16{}
	for _, c := range catalog.CommonPorts() {
		if c.LoginFor != "" && c.Protocol == policy.TCP {
			if rs := c.Ports.Ranges(); len(rs) > 0 {
				out[c.LoginFor] = rs[0].Lo
			}
		}
	}
	return out
}

// instanceFindings returns the findings about an instance as a whole.
func instanceFindings(in Input, ingress, egress *admitted) []Finding {
	var out []Finding
	add := func(k Kind, sev Severity, d policy.Direction, msg string) {
		out = append(out, Finding{Kind: k, Severity: sev, InstanceID: in.InstanceID, Direction: d, PolicyIndex: -1, Message: msg})
	}
	os := strings.ToLower(in.OSType)
	logins := loginPorts()
	port, ok := logins[os]
	if !ok {
		os, port = "linux", logins["linux"]
	}
	login := "SSH"
	if os == "windows" {
		login = "remote desktop"
	}
	if ingress.tcp[port] == 0 {
		add(KindNoLoginPort, SeverityMedium, policy.Ingress, fmt.Sprintf(
			"no security group of %s admits TCP %d (%s to a %s instance) from any address, so logging in fails; add an inbound ACCEPT of TCP %d from your network (or bind a group such as %s-login) above any rule that drops it",
			in.InstanceID, port, login, os, port, os))
	}
	if !ingress.icmp && !ingress.icmp6 {
		add(KindNoPing, SeverityLow, policy.Ingress, fmt.Sprintf(
			"no security group of %s admits inbound ICMP or ICMPv6, so ping to its addresses fails; add an inbound ACCEPT of ICMP (and ICMPv6) from the networks that should reach it (the ping template)",
			in.InstanceID))
	}
	if !egress.any {
		add(KindNoEgress, SeverityMedium, policy.Egress, fmt.Sprintf(
			"no security group of %s admits any outbound traffic, so it cannot reach Internet services; add an outbound ACCEPT ALL ALL to 0.0.0.0/0 and ::/0 (every login template has it) or the destinations it needs",
			in.InstanceID))
	}
	return out
}
