package policy

import (
	"slices"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of ports, 1 ≤ Lo ≤ Hi ≤ 65535.
type PortRange struct {
	Lo, Hi uint16
}

// Contains reports whether port lies in r.
func (r PortRange) Contains(port uint16) bool { return r.Lo <= port && port <= r.Hi }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

// PortSet is the Port of a policy: either ALL, or a list of ports and ranges
// in the order given ("80,443,8000-8010"). The zero value is invalid; use
// AllPorts or ParsePortSet.
type PortSet struct {
	all   bool
	items []PortRange
}

// AllPorts is the port set "ALL".
func AllPorts() PortSet { return PortSet{all: true} }

// Ports returns the set of the given ranges, in order. It panics on an
// invalid range; it is meant for tests and constant tables.
func Ports(rs ...PortRange) PortSet {
	for _, r := range rs {
		if r.Lo == 0 || r.Lo > r.Hi {
			panic("policy.Ports: invalid range " + r.String())
		}
	}
	if len(rs) == 0 {
		panic("policy.Ports: no ranges")
	}
	return PortSet{items: slices.Clone(rs)}
}

// ParsePortSet parses "ALL" (any case), a port "22", a range "8000-8080", or
// a comma-separated list of those ("80,443,8000-8010").
func ParsePortSet(s string) (PortSet, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return PortSet{}, fieldErr("Port", s, Missing, "must not be empty (use ALL for every port)")
	}
	if strings.EqualFold(t, "all") {
		return AllPorts(), nil
	}
	parts := strings.Split(t, ",")
	items := make([]PortRange, 0, len(parts))
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			return PortSet{}, fieldErr("Port", s, Malformed, "has an empty item")
		}
		lo, hi, isRange := strings.Cut(part, "-")
		l, err := parsePort(s, lo)
		if err != nil {
			return PortSet{}, err
		}
		h := l
		if isRange {
			if h, err = parsePort(s, hi); err != nil {
				return PortSet{}, err
			}
			if l > h {
				return PortSet{}, fieldErr("Port", s, OutOfRange, "range %s has its start above its end", part)
			}
		}
		items = append(items, PortRange{Lo: l, Hi: h})
	}
	return PortSet{items: items}, nil
}

func parsePort(whole, s string) (uint16, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fieldErr("Port", whole, Malformed, "has an empty port in a range")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fieldErr("Port", whole, Malformed, "%q is not a port number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, fieldErr("Port", whole, OutOfRange, "port %s is outside 1-65535", s)
	}
	return uint16(n), nil
}

// MustParsePortSet is ParsePortSet that panics on error.
func MustParsePortSet(s string) PortSet {
	p, err := ParsePortSet(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsValid reports whether p is ALL or holds at least one range.
func (p PortSet) IsValid() bool { return p.all || len(p.items) > 0 }

// All reports whether p is ALL.
func (p PortSet) All() bool { return p.all }

// Items returns the ranges as given (nil for ALL).
func (p PortSet) Items() []PortRange { return slices.Clone(p.items) }

// Ranges returns the ports of p as sorted, merged, non-overlapping ranges;
// ALL is the single range 0-65535 (every port, 0 included, although a list
// of ports cannot name port 0).
func (p PortSet) Ranges() []PortRange {
	if p.all {
		return []PortRange{{Lo: 0, Hi: 65535}}
	}
	rs := slices.Clone(p.items)
	slices.SortFunc(rs, func(a, b PortRange) int { return int(a.Lo) - int(b.Lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && uint32(r.Lo) <= uint32(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Contains reports whether port is in p.
func (p PortSet) Contains(port uint16) bool {
	if p.all {
		return true
	}
	for _, r := range p.items {
		if r.Contains(port) {
			return true
		}
	}
	return false
}

// Equal reports whether p and q are written the same way.
func (p PortSet) Equal(q PortSet) bool { return p.all == q.all && slices.Equal(p.items, q.items) }

// String returns "ALL" or the comma-separated items in the order given.
func (p PortSet) String() string {
	if p.all {
		return "ALL"
	}
	var b strings.Builder
	for i, r := range p.items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler.
func (p PortSet) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *PortSet) UnmarshalText(b []byte) error {
	v, err := ParsePortSet(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
