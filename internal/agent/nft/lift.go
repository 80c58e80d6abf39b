package nft

import (
	"strconv"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Entries whose peer is a reference — a security group, an address
// template or template group — change their addresses whenever the
// reference does: an instance joins or leaves a group. In the regions form
// such a change deletes elements of every list's concatenated interval
// map, each deletion costing the kernel milliseconds in maps of hundreds
// of elements; additions cost microseconds. So, where the verdict stays
// exact, an entry with a reference peer is "lifted" out of the regions: it
// becomes rules of the list's chain, before the map lookups, matching its
// protocols and ports and looking the peer up in a named interval set of
// the reference's addresses (one per reference and family, shared by
// every list of the table), counting into a named counter of its own. A
// change of membership then changes the elements of one small set; the
// lists' maps, built from the other entries, do not change.
//
// Lifting entry E is exact when every entry before E that matches some
// packet E could match — E's protocols and ports, any peer address of
// the families it could hold — is lifted too: the lifted rules are tried
// in list order, so a packet that a lifted entry matches meets the first
// lifted entry that matches it, and no entry before that one matches it
// (it would be lifted and tried first); a packet no lifted entry matches
// is decided by the map lookups of the other entries, as the list would
// decide it without the lifted entries, which do not match it. The
// decision depends on the entries' actions, protocols, ports and sources,
// not on a reference's addresses, so a membership change does not change
// it. An entry that an earlier lifted entry of the same reference covers
// (every protocol and port of it) matches no packet first: it is lifted
// without rules (its hit stays zero).
//
// Each lifted rule is one more rule tried per classified packet, so at
// most maxLiftRules rules are lifted per list; the entries after that stay
// in the regions.

// maxLiftRules is the most lifted rules of one list.
const maxLiftRules = 32

// lifting is what becomes of an entry.
type lifting uint8

const (
	inRegions lifting = iota // in the maps (or the collapsed form's sets)
	lifted                   // rules of its own, before the map lookups
	covered                  // lifted without rules: an earlier lifted entry of its reference covers it
)

// reference reports whether e's peer is a reference.
func reference(e *rules.Entry) bool {
	switch e.Source.Kind {
	case rules.SourceSecurityGroup, rules.SourceAddressTemplate, rules.SourceAddressTemplateGroup:
		return e.Source.ID != ""
	}
	return false
}

// families returns the families of the packets e could match: both for a
// reference, whose addresses may come to hold either, else those of its
// addresses.
func families(e *rules.Entry) (v4, v6 bool) {
	if reference(e) {
		return true, true
	}
	return !empty(e.V4), !empty(e.V6)
}

// empty reports whether s (nil is empty) holds no address.
func empty(s *netipx.IPSet) bool { return s == nil || len(s.Ranges()) == 0 }

// entryShape is what lift looks at in an entry: the families it could match
// and its services, with their ports as ranges.
type entryShape struct {
	v4, v6   bool
	services []rules.Service
	ports    [][]policy.PortRange
}

func shapeOf(e *rules.Entry) entryShape {
	sh := entryShape{services: e.Services, ports: make([][]policy.PortRange, len(e.Services))}
	sh.v4, sh.v6 = families(e)
	for i, s := range e.Services {
		sh.ports[i] = s.Ports.Ranges()
	}
	return sh
}

// applies reports whether service s can match a packet of family is6.
func applies(s rules.Service, is6 bool) bool {
	v4, v6 := s.Protocol.Families()
	return is6 && v6 || !is6 && v4
}

// servicesMeet reports whether two services, in family is6, match a
// common protocol and port (pa and pb their ports as ranges).
func servicesMeet(a, b rules.Service, pa, pb []policy.PortRange, is6 bool) bool {
	if !applies(a, is6) || !applies(b, is6) {
		return false
	}
	na, namedA := a.Protocol.Number()
	nb, namedB := b.Protocol.Number()
	switch {
	case !namedA || !namedB:
		return true
	case na != nb:
		return false
	case !a.Protocol.HasPorts() || a.Ports.All() || b.Ports.All():
		return true
	}
	for _, x := range pa {
		for _, y := range pb {
			if x.Lo <= y.Hi && y.Lo <= x.Hi {
				return true
			}
		}
	}
	return false
}

// meets reports whether an entry f (before e) matches a packet that e,
// lifted, could match: e's services in a family f's addresses can be of.
func meets(f, e *entryShape) bool {
	for _, fam := range []struct {
		is6, has bool
	}{{false, f.v4}, {true, f.v6}} {
		if !fam.has {
			continue
		}
		for i, a := range f.services {
			for j, b := range e.services {
				if servicesMeet(a, b, f.ports[i], e.ports[j], fam.is6) {
					return true
				}
			}
		}
	}
	return false
}

// covers reports whether service a matches every packet service b does.
func covers(a, b rules.Service) bool {
	na, namedA := a.Protocol.Number()
	nb, namedB := b.Protocol.Number()
	switch {
	case !namedA:
		return true
	case !namedB || na != nb:
		return false
	case !a.Protocol.HasPorts() || a.Ports.All():
		return true
	case b.Ports.All():
		return false
	}
	for _, y := range b.Ports.Ranges() {
		in := false
		for _, x := range a.Ports.Ranges() {
			if x.Lo <= y.Lo && y.Hi <= x.Hi {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// coveredBy reports whether every service of e is covered by one of l's.
func coveredBy(e, l *rules.Entry) bool {
	for _, b := range e.Services {
		ok := false
		for _, a := range l.Services {
			if covers(a, b) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// liftRules returns the most rules lifted entry e can have
// (liftedRules): per family it applies to, one per port range of a TCP or
// UDP service, one for another protocol, two (a shape with ports and one
// without) for ALL.
func liftRules(e *rules.Entry) int {
	n := 0
	for _, s := range e.Services {
		per := 1
		switch _, named := s.Protocol.Number(); {
		case !named:
			per = 2
		case s.Protocol.HasPorts() && !s.Ports.All():
			per = len(s.Ports.Ranges())
		}
		for _, is6 := range []bool{false, true} {
			if applies(s, is6) {
				n += per
			}
		}
	}
	return n
}

// lift decides, for each entry of a list, whether it is lifted.
func lift(entries []rules.Entry) []lifting {
	out := make([]lifting, len(entries))
	budget := maxLiftRules
	var kept []entryShape // entries in the regions so far
	var up []int          // entries lifted with rules so far
	for i := range entries {
		e := &entries[i]
		if budget == 0 {
			break // the rest stay in the regions
		}
		if !reference(e) {
			kept = append(kept, shapeOf(e))
			continue
		}
		sh := shapeOf(e)
		exact := true
		for k := range kept {
			if meets(&kept[k], &sh) {
				exact = false
				break
			}
		}
		if !exact {
			kept = append(kept, sh)
			continue
		}
		shadowed := false
		for _, u := range up {
			if entries[u].Source == e.Source && coveredBy(e, &entries[u]) {
				shadowed = true
				break
			}
		}
		switch n := liftRules(e); {
		case shadowed:
			out[i] = covered
		case n <= budget:
			out[i] = lifted
			budget -= n
			up = append(up, i)
		default:
			budget = 0
		}
	}
	return out
}

// addrSetName names the set of a reference's addresses of one family.
func addrSetName(src rules.Source, is6 bool) string {
	if is6 {
		return part(src.ID) + ".addr6"
	}
	return part(src.ID) + ".addr4"
}

// addrSet returns the set of addresses s of one family.
func addrSet(name string, s *netipx.IPSet, is6 bool) elemSet {
	set := elemSet{name: name, typ: "ipv4_addr", interval: true}
	if is6 {
		set.typ = "ipv6_addr"
	}
	if s != nil {
		for _, r := range s.Ranges() {
			set.elems = append(set.elems, elem{key: []string{addrs(r.From(), r.To())}})
		}
	}
	return set
}

// fragRule is a rule a segment adds to a shape's chain of every list
// that holds it: its match, and for a lifted entry's rule the statements
// after it (its counter and verdict) apart, so that a rule matching what
// an earlier one of the chain matches is left out: the earlier one takes
// every packet it would.
type fragRule struct {
	match, then string
	lifted      bool
}

func (r fragRule) String() string {
	if r.then == "" {
		return r.match
	}
	return r.match + " " + r.then
}

// liftedRules returns the rules of lifted entry e of a list of direction
// dir, counting into hit, per key shape (shapes): for TCP and UDP, one per
// port range; for another protocol one; for ALL one in every shape; none
// in a family whose set of the reference is empty.
func liftedRules(e *rules.Entry, dir policy.Direction, hit string) [4][]fragRule {
	side := "saddr"
	if dir == policy.Egress {
		side = "daddr"
	}
	then := "counter name " + strconv.Quote(hit) + " " + verdict(e.Action)
	var out [4][]fragRule
	for k, sh := range shapes(dir) {
		set, peer := e.V4, "ip "+side+" @"+addrSetName(e.Source, false)
		if sh.is6 {
			set, peer = e.V6, "ip6 "+side+" @"+addrSetName(e.Source, true)
		}
		if empty(set) {
			continue
		}
		add := func(match string) { out[k] = append(out[k], fragRule{match: match, then: then, lifted: true}) }
		for _, s := range e.Services {
			if !applies(s, sh.is6) {
				continue
			}
			n, named := s.Protocol.Number()
			proto := "meta l4proto " + strconv.Itoa(int(n)) + " "
			switch {
			case !named:
				add(peer)
			case s.Protocol.HasPorts() != sh.ports:
			case !sh.ports || s.Ports.All():
				add(proto + peer)
			default:
				for _, r := range s.Ports.Ranges() {
					add(proto + "th dport " + span(int(r.Lo), int(r.Hi)) + " " + peer)
				}
			}
		}
	}
	return out
}
