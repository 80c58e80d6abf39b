package policy

import (
	"errors"
	"net/netip"
	"strings"

	"go4.org/netipx"
)

// ServiceEntry is one entry of a service template (ppm-): a protocol and,
// for TCP and UDP, its ports.
type ServiceEntry struct {
	Protocol Protocol
	Ports    PortSet
}

// ParseServiceEntry parses a service template entry, case-insensitively:
// a protocol alone ("icmp", "gre", "all", or "tcp" for every TCP port) or a
// protocol with ports after a colon ("tcp:80", "udp:53", "tcp:8000-8080",
// "tcp:80,443", "tcp:all"). Only TCP and UDP take ports other than ALL.
func ParseServiceEntry(s string) (ServiceEntry, error) {
	name, ports, hasPorts := strings.Cut(strings.TrimSpace(s), ":")
	p, err := ParseProtocol(name)
	if err != nil {
		return ServiceEntry{}, fieldErr("Service", s, Malformed, "protocol must be one of tcp, udp, icmp, icmpv6, gre, all")
	}
	ps := AllPorts()
	if hasPorts {
		if ps, err = ParsePortSet(ports); err != nil {
			kind, reason := Malformed, err.Error()
			var fe *FieldError
			if errors.As(err, &fe) {
				kind, reason = fe.Kind, fe.Reason
			}
			return ServiceEntry{}, fieldErr("Service", s, kind, "ports: %s", reason)
		}
	}
	if !p.HasPorts() && !ps.All() {
		return ServiceEntry{}, fieldErr("Service", s, Malformed, "protocol %s takes no port", p)
	}
	return ServiceEntry{Protocol: p, Ports: ps}, nil
}

// String returns the entry in the form ParseServiceEntry reads, in lower
// case: "tcp:80,443", "udp" (every UDP port), "icmpv6".
func (e ServiceEntry) String() string {
	name := strings.ToLower(e.Protocol.String())
	if !e.Protocol.HasPorts() || e.Ports.All() {
		return name
	}
	return name + ":" + e.Ports.String()
}

// ParseAddressEntry parses an address template entry (ipm-): an IP address
// ("10.0.0.1"), a CIDR block ("10.0.0.0/24", host bits cleared) or a range of
// one family, first not above last ("10.0.0.1-10.0.0.100"). It returns the
// addresses covered. A zone or an IPv4-mapped IPv6 address is refused:
// address families do not mix.
func ParseAddressEntry(s string) (netipx.IPRange, error) {
	t := strings.TrimSpace(s)
	if lo, hi, ok := strings.Cut(t, "-"); ok {
		a, err1 := parseEntryAddr(lo)
		b, err2 := parseEntryAddr(hi)
		r := netipx.IPRangeFrom(a, b)
		if err1 != nil || err2 != nil || !r.IsValid() {
			return netipx.IPRange{}, fieldErr("Address", s, Malformed, "is not an address range (FIRST-LAST, one family, first not above last)")
		}
		return r, nil
	}
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil || p.Addr().Is4In6() {
			return netipx.IPRange{}, fieldErr("Address", s, Malformed, "is not a CIDR block")
		}
		return netipx.RangeOfPrefix(p.Masked()), nil
	}
	a, err := parseEntryAddr(t)
	if err != nil {
		return netipx.IPRange{}, fieldErr("Address", s, Malformed, "is not an IP address, CIDR block or range")
	}
	return netipx.IPRangeFrom(a, a), nil
}

func parseEntryAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err == nil && (a.Zone() != "" || a.Is4In6()) {
		err = errors.New("zone or IPv4-mapped address")
	}
	return a, err
}
