package rules

import "net/netip"

// The plain matching of entries and lists, for the tests that check what
// an entry admits. Palisade itself matches through the evaluator (eval), and
// the differential tests through the independent reference: this third
// matcher lives only in the tests.

// Matches reports whether s admits a packet of IANA protocol proto, in the
// given family, to destination port port (ignored without ports).
func (s Service) Matches(proto uint8, is6 bool, port uint16) bool {
	return s.Protocol.Matches(proto, is6) && (!s.Protocol.HasPorts() || s.Ports.Contains(port))
}

// Matches reports whether e matches a packet with the peer address peer
// (IPv4-mapped addresses are taken as IPv4), IANA protocol proto and
// destination port port. It is plain rather than fast; the evaluator
// compiles lists for speed.
func (e *Entry) Matches(peer netip.Addr, proto uint8, port uint16) bool {
	peer = peer.Unmap().WithZone("")
	if !peer.IsValid() {
		return false
	}
	is6 := peer.Is6()
	set := e.V4
	if is6 {
		set = e.V6
	}
	if set == nil || !set.Contains(peer) {
		return false
	}
	for _, s := range e.Services {
		if s.Matches(proto, is6, port) {
			return true
		}
	}
	return false
}

// Decide returns the index of the first entry matching the packet, or −1
// when the implicit DROP decides. Like Entry.Matches it is plain; the
// evaluator compiles lists for speed.
func (l *List) Decide(peer netip.Addr, proto uint8, port uint16) int {
	for i := range l.Entries {
		if l.Entries[i].Matches(peer, proto, port) {
			return i
		}
	}
	return -1
}
