package guestfw

import (
	"fmt"
	"strconv"
	"strings"
)

// protoNumbers are the protocol names iptables and nft print (from
// /etc/protocols).
var protoNumbers = map[string]uint8{
	"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17, "dccp": 33, "ipv6": 41, "rsvp": 46, "gre": 47,
	"esp": 50, "ah": 51, "icmpv6": 58, "ipv6-icmp": 58, "ospf": 89, "vrrp": 112, "l2tp": 115, "sctp": 132, "udplite": 136,
}

func parseProto(s string) (uint8, error) {
	if n, ok := protoNumbers[strings.ToLower(s)]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown protocol %q", s)
	}
	return uint8(n), nil
}

// serviceNames are the service names nft and older iptables print for
// well-known ports (from /etc/services).
var serviceNames = map[string]uint16{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67, "bootpc": 68,
	"tftp": 69, "http": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111, "ntp": 123, "netbios-ns": 137,
	"netbios-dgm": 138, "netbios-ssn": 139, "imap": 143, "imap2": 143, "snmp": 161, "ldap": 389, "https": 443,
	"microsoft-ds": 445, "submission": 587, "submissions": 465, "dhcpv6-client": 546, "dhcpv6-server": 547,
	"ipp": 631, "ldaps": 636, "imaps": 993, "pop3s": 995, "mysql": 3306, "ms-wbt-server": 3389,
	"postgresql": 5432, "mdns": 5353, "http-alt": 8080, "webcache": 8080,
}

func parsePortNumber(s string) (uint16, error) {
	if n, ok := serviceNames[strings.ToLower(s)]; ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("unknown port %q", s)
	}
	return uint16(n), nil
}

// icmpNames are ICMP type names with their code (-1: every code), as
// iptables and nft spell them.
var icmpNames = map[string]icmpType{
	"echo-reply": {0, -1}, "pong": {0, -1}, "destination-unreachable": {3, -1}, "network-unreachable": {3, 0},
	"host-unreachable": {3, 1}, "protocol-unreachable": {3, 2}, "port-unreachable": {3, 3},
	"fragmentation-needed": {3, 4}, "source-route-failed": {3, 5}, "network-unknown": {3, 6}, "host-unknown": {3, 7},
	"network-prohibited": {3, 9}, "host-prohibited": {3, 10}, "TOS-network-unreachable": {3, 11},
	"TOS-host-unreachable": {3, 12}, "communication-prohibited": {3, 13}, "host-precedence-violation": {3, 14},
	"precedence-cutoff": {3, 15}, "source-quench": {4, -1}, "redirect": {5, -1}, "network-redirect": {5, 0},
	"host-redirect": {5, 1}, "TOS-network-redirect": {5, 2}, "TOS-host-redirect": {5, 3}, "echo-request": {8, -1},
	"ping": {8, -1}, "router-advertisement": {9, -1}, "router-solicitation": {10, -1}, "time-exceeded": {11, -1},
	"ttl-exceeded": {11, -1}, "ttl-zero-during-transit": {11, 0}, "ttl-zero-during-reassembly": {11, 1},
	"parameter-problem": {12, -1}, "ip-header-bad": {12, 0}, "required-option-missing": {12, 1},
	"timestamp-request": {13, -1}, "timestamp-reply": {14, -1}, "info-request": {15, -1}, "info-reply": {16, -1},
	"address-mask-request": {17, -1}, "address-mask-reply": {18, -1},
}

var icmpv6Names = map[string]icmpType{
	"destination-unreachable": {1, -1}, "no-route": {1, 0}, "communication-prohibited": {1, 1},
	"admin-prohibited": {1, 1}, "beyond-scope": {1, 2}, "address-unreachable": {1, 3}, "port-unreachable": {1, 4},
	"failed-policy": {1, 5}, "reject-route": {1, 6}, "packet-too-big": {2, -1}, "time-exceeded": {3, -1},
	"ttl-exceeded": {3, -1}, "ttl-zero-during-transit": {3, 0}, "ttl-zero-during-reassembly": {3, 1},
	"parameter-problem": {4, -1}, "bad-header": {4, 0}, "unknown-header-type": {4, 1}, "unknown-option": {4, 2},
	"echo-request": {128, -1}, "ping": {128, -1}, "echo-reply": {129, -1}, "pong": {129, -1},
	"mld-listener-query": {130, -1}, "mld-listener-report": {131, -1}, "mld-listener-done": {132, -1},
	"mld-listener-reduction": {132, -1}, "router-solicitation": {133, -1}, "nd-router-solicit": {133, -1},
	"router-advertisement": {134, -1}, "nd-router-advert": {134, -1}, "neighbour-solicitation": {135, -1},
	"neighbor-solicitation": {135, -1}, "nd-neighbor-solicit": {135, -1}, "neighbour-advertisement": {136, -1},
	"neighbor-advertisement": {136, -1}, "nd-neighbor-advert": {136, -1}, "redirect": {137, -1},
	"nd-redirect": {137, -1}, "router-renumbering": {138, -1}, "ind-neighbor-solicit": {141, -1},
	"ind-neighbor-advert": {142, -1}, "mld2-listener-report": {143, -1},
}

// parseICMPType parses a type name, a number, or (iptables) type/code.
func parseICMPType(s string, v6 bool) (icmpType, error) {
	names := icmpNames
	if v6 {
		names = icmpv6Names
	}
	if t, ok := names[s]; ok {
		return t, nil
	}
	ts, cs, hasCode := strings.Cut(s, "/")
	t, err := strconv.ParseUint(ts, 10, 8)
	if err != nil {
		return icmpType{}, fmt.Errorf("unknown ICMP type %q", s)
	}
	out := icmpType{typ: uint8(t), code: -1}
	if hasCode {
		c, err := strconv.ParseUint(cs, 10, 8)
		if err != nil {
			return icmpType{}, fmt.Errorf("unknown ICMP code in %q", s)
		}
		out.code = int16(c)
	}
	return out, nil
}

// ctStateNames are conntrack state names (--ctstate, --state, ct state) and
// the ct status bits this package settles.
var ctStateNames = map[string]uint16{
	"NEW": ctNew, "ESTABLISHED": ctEstablished, "RELATED": ctRelated, "INVALID": ctInvalid,
	"UNTRACKED": ctUntracked, "SNAT": ctSNAT, "DNAT": ctDNAT,
}

func parseStates(list []string) (uint16, error) {
	var mask uint16
	for _, s := range list {
		b, ok := ctStateNames[strings.ToUpper(s)]
		if !ok {
			return 0, fmt.Errorf("unknown conntrack state %q", s)
		}
		mask |= b
	}
	return mask, nil
}
