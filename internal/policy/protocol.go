package policy

import (
	"fmt"
	"strings"
)

// Protocol is a security-group policy protocol. The zero value is invalid.
type Protocol uint8

// The protocols a policy can name.
const (
	TCP Protocol = iota + 1
	UDP
	ICMP
	ICMPv6
	GRE
	AnyProtocol // "ALL"
)

var protocolNames = [...]string{TCP: "TCP", UDP: "UDP", ICMP: "ICMP", ICMPv6: "ICMPv6", GRE: "GRE", AnyProtocol: "ALL"}

// ParseProtocol parses a protocol name, case-insensitively.
func ParseProtocol(s string) (Protocol, error) {
	t := strings.TrimSpace(s)
	for p := TCP; p <= AnyProtocol; p++ {
		if strings.EqualFold(t, protocolNames[p]) {
			return p, nil
		}
	}
	return 0, fieldErr("Protocol", s, Malformed, "must be one of TCP, UDP, ICMP, ICMPv6, GRE, ALL")
}

// MustParseProtocol is ParseProtocol that panics on error, for tests and
// constant tables.
func MustParseProtocol(s string) Protocol {
	p, err := ParseProtocol(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Valid reports whether p is one of the defined protocols.
func (p Protocol) Valid() bool { return p >= TCP && p <= AnyProtocol }

// String returns the canonical name: TCP, UDP, ICMP, ICMPv6, GRE or ALL.
func (p Protocol) String() string {
	if p.Valid() {
		return protocolNames[p]
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// MarshalText implements encoding.TextMarshaler.
func (p Protocol) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid protocol %d", uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Protocol) UnmarshalText(b []byte) error {
	v, err := ParseProtocol(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// HasPorts reports whether policies of this protocol may name ports.
func (p Protocol) HasPorts() bool { return p == TCP || p == UDP }

// IANA protocol numbers.
const (
	NumICMP   uint8 = 1
	NumTCP    uint8 = 6
	NumUDP    uint8 = 17
	NumGRE    uint8 = 47
	NumICMPv6 uint8 = 58
)

// Number returns the IANA protocol number of p, and false for ALL, which
// stands for every protocol.
func (p Protocol) Number() (uint8, bool) {
	switch p {
	case TCP:
		return NumTCP, true
	case UDP:
		return NumUDP, true
	case ICMP:
		return NumICMP, true
	case ICMPv6:
		return NumICMPv6, true
	case GRE:
		return NumGRE, true
	}
	return 0, false
}

// Families reports which address families p can match: ICMP is IPv4's,
// ICMPv6 is IPv6's, every other protocol exists in both.
func (p Protocol) Families() (v4, v6 bool) {
	switch p {
	case ICMP:
		return true, false
	case ICMPv6:
		return false, true
	}
	return p.Valid(), p.Valid()
}
