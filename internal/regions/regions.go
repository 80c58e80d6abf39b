// Package regions compiles an effective rule list (rules.List) into
// disjoint regions of the packet space, each owned by the entry that
// decides every packet in it (first match wins). Looking a packet up in the
// regions gives the same deciding entry as the evaluator; the agent turns
// them into nftables interval maps, whose elements must not overlap, and
// the analysis engine can read which entries own nothing (an entry owning
// no region is covered by earlier ones). The package does no I/O.
//
// The packet space of one direction is cut in four slices, by family and by
// whether the protocol has ports:
//
//   - V4Ports, V6Ports: TCP (6) and UDP (17), with the destination port. In
//     these slices the protocol space is {6, 17}: a region with ProtoLo 6
//     and ProtoHi 17 covers both and no protocol in between.
//   - V4NoPorts, V6NoPorts: every other protocol number, without a port
//     dimension (PortLo and PortHi are 0). In these slices the protocol
//     space is 0-255 without 6 and 17: a region 0-255 covers every
//     protocol but TCP and UDP.
//
// Addresses are the peer's (the source of inbound traffic, the destination
// of outbound), AddrLo to AddrHi inclusive, as arbitrary ranges. Space no
// entry matches (the implicit final DROP) has no region.
package regions

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Region is a box of one slice of the packet space: the protocols ProtoLo
// to ProtoHi, the destination ports PortLo to PortHi (0 and 0 in the
// slices without ports) and the peer addresses AddrLo to AddrHi, all
// inclusive, of one family. Owner is the index in the list's Entries of the
// entry deciding every packet of the box (or, for Union, 0).
type Region struct {
	ProtoLo, ProtoHi uint8
	PortLo, PortHi   uint16
	AddrLo, AddrHi   netip.Addr
	Owner            int
}

// Contains reports whether the packet of peer address a, protocol proto
// and destination port port lies in r, r being a region of a slice the
// packet belongs to.
func (r Region) Contains(a netip.Addr, proto uint8, port uint16) bool {
	return r.ProtoLo <= proto && proto <= r.ProtoHi &&
		r.PortLo <= port && port <= r.PortHi &&
		r.AddrLo.Compare(a) <= 0 && a.Compare(r.AddrHi) <= 0
}

// Result is the regions of a list, per slice, sorted by address, then
// protocol, then port. Truncated is set, and the slices are empty, when
// the regions would have exceeded the limit asked for (or the work of
// finding them a bound proportional to it): the caller then needs another
// form of the list.
type Result struct {
	V4Ports, V4NoPorts, V6Ports, V6NoPorts []Region
	Truncated                              bool
}

// Len returns the number of regions.
func (r *Result) Len() int {
	return len(r.V4Ports) + len(r.V4NoPorts) + len(r.V6Ports) + len(r.V6NoPorts)
}

// Slice returns the regions of the slice a packet of peer a and protocol
// proto belongs to.
func (r *Result) Slice(a netip.Addr, proto uint8) []Region {
	ports := proto == policy.NumTCP || proto == policy.NumUDP
	switch {
	case a.Is4() && ports:
		return r.V4Ports
	case a.Is4():
		return r.V4NoPorts
	case ports:
		return r.V6Ports
	}
	return r.V6NoPorts
}

// Lookup returns the owner of the region holding the packet of peer
// address a (an IPv4-mapped address is taken as IPv4, a zone ignored),
// protocol proto and destination port port (ignored unless the protocol is
// TCP or UDP), or −1 when no region holds it (the implicit final DROP). It
// scans the slice: it is meant for tests and analysis, not for packets.
func (r *Result) Lookup(a netip.Addr, proto uint8, port uint16) int {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return -1
	}
	if proto != policy.NumTCP && proto != policy.NumUDP {
		port = 0
	}
	for _, g := range r.Slice(a, proto) {
		if g.Contains(a, proto, port) {
			return g.Owner
		}
	}
	return -1
}

// Owned returns, for each of n entries, the number of regions it owns. An
// entry owning none decides no packet: earlier entries cover all it
// matches. It is meaningless for a truncated result.
func (r *Result) Owned(n int) []int {
	out := make([]int, n)
	for _, s := range [][]Region{r.V4Ports, r.V4NoPorts, r.V6Ports, r.V6NoPorts} {
		for _, g := range s {
			if g.Owner >= 0 && g.Owner < n {
				out[g.Owner]++
			}
		}
	}
	return out
}

// Compute returns the regions of l, each owned by the index of the first
// entry matching its packets. More than limit regions (limit < 1 is no
// limit) give a truncated result. It fails on an invalid entry, reporting
// every one.
func Compute(l rules.List, limit int) (*Result, error) {
	if !l.Direction.Valid() {
		return nil, fmt.Errorf("invalid direction %d", l.Direction)
	}
	return compute(l.Entries, limit, false)
}

// Union returns the regions covering every packet some entry matches, all
// owned by 0: the union of the entries as disjoint boxes, merged where
// cheap. limit is as for Compute.
func Union(entries []rules.Entry, limit int) (*Result, error) {
	return compute(entries, limit, true)
}

func compute(entries []rules.Entry, limit int, union bool) (*Result, error) {
	if err := check(entries); err != nil {
		return nil, err
	}
	if limit < 1 {
		limit = int(^uint(0) >> 2)
	}
	res := &Result{}
	for _, is6 := range []bool{false, true} {
		f := newFamily(entries, is6, union)
		ports, noPorts, ok := f.regions(limit - res.Len())
		if !ok {
			return &Result{Truncated: true}, nil
		}
		if is6 {
			res.V6Ports, res.V6NoPorts = ports, noPorts
		} else {
			res.V4Ports, res.V4NoPorts = ports, noPorts
		}
	}
	return res, nil
}

// check reports every invalid entry: its action, services and address
// sets of the wrong family.
func check(entries []rules.Entry) error {
	var errs []error
	for i := range entries {
		e := &entries[i]
		if !e.Action.Valid() {
			errs = append(errs, fmt.Errorf("entry %d: invalid action %d", i, e.Action))
		}
		for si, s := range e.Services {
			if !s.Valid() {
				errs = append(errs, fmt.Errorf("entry %d service %d: invalid %v %v", i, si, s.Protocol, s.Ports))
			}
		}
		if !familyOnly(e.V4, false) {
			errs = append(errs, fmt.Errorf("entry %d: IPv6 addresses in its IPv4 set", i))
		}
		if !familyOnly(e.V6, true) {
			errs = append(errs, fmt.Errorf("entry %d: IPv4 addresses in its IPv6 set", i))
		}
	}
	return errors.Join(errs...)
}

// familyOnly reports whether s (nil is empty) holds addresses of one
// family only.
func familyOnly(s *netipx.IPSet, is6 bool) bool {
	if s == nil {
		return true
	}
	rs := s.Ranges()
	return len(rs) == 0 || rs[0].From().Is6() == is6 && rs[len(rs)-1].To().Is6() == is6
}

// nextProto returns the protocol after p in a slice's protocol space (which
// skips 6 and 17 in the slices without ports, and is {6, 17} in the others),
// and false after the last.
func nextProto(p uint8, ports bool) (uint8, bool) {
	if ports {
		return policy.NumUDP, p == policy.NumTCP
	}
	for p < 255 {
		p++
		if p != policy.NumTCP && p != policy.NumUDP {
			return p, true
		}
	}
	return 0, false
}

// sortRegions orders regions by address, protocol and port.
func sortRegions(rs []Region) {
	slices.SortFunc(rs, func(a, b Region) int {
		if c := a.AddrLo.Compare(b.AddrLo); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ProtoLo, b.ProtoLo); c != 0 {
			return c
		}
		return cmp.Compare(a.PortLo, b.PortLo)
	})
}
