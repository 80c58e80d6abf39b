package guestfw

import (
	"fmt"
	"strconv"
	"strings"
)

// protoNumber returns the number of a protocol name iptables and nft print
// (from /etc/protocols).
func protoNumber(k string) (uint8, bool) {
	switch k {
	case "icmp":
		return 1, true
	case "igmp":
		return 2, true
	case "ipip":
		return 4, true
	case "tcp":
		return 6, true
	case "egp":
		return 8, true
	case "udp":
		return 17, true
	case "dccp":
		return 33, true
	case "ipv6":
		return 41, true
	case "rsvp":
		return 46, true
	case "gre":
		return 47, true
	case "esp":
		return 50, true
	case "ah":
		return 51, true
	case "icmpv6", "ipv6-icmp":
		return 58, true
	case "ospf":
		return 89, true
	case "vrrp":
		return 112, true
	case "l2tp":
		return 115, true
	case "sctp":
		return 132, true
	case "udplite":
		return 136, true
	}
	return 0, false
}

func parseProto(s string) (uint8, error) {
	if n, ok := protoNumber(strings.ToLower(s)); ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown protocol %q", s)
	}
	return uint8(n), nil
}

// servicePort returns the port of a service name nft and older iptables
// print for well-known ports (from /etc/services).
func servicePort(k string) (uint16, bool) {
	switch k {
	case "ftp-data":
		return 20, true
	case "ftp":
		return 21, true
	case "ssh":
		return 22, true
	case "telnet":
		return 23, true
	case "smtp":
		return 25, true
	case "domain":
		return 53, true
	case "bootps":
		return 67, true
	case "bootpc":
		return 68, true
	case "tftp":
		return 69, true
	case "http":
		return 80, true
	case "kerberos":
		return 88, true
	case "pop3":
		return 110, true
	case "sunrpc":
		return 111, true
	case "ntp":
		return 123, true
	case "netbios-ns":
		return 137, true
	case "netbios-dgm":
		return 138, true
	case "netbios-ssn":
		return 139, true
	case "imap", "imap2":
		return 143, true
	case "snmp":
		return 161, true
	case "ldap":
		return 389, true
	case "https":
		return 443, true
	case "microsoft-ds":
		return 445, true
	case "submission":
		return 587, true
	case "submissions":
		return 465, true
	case "dhcpv6-client":
		return 546, true
	case "dhcpv6-server":
		return 547, true
	case "ipp":
		return 631, true
	case "ldaps":
		return 636, true
	case "imaps":
		return 993, true
	case "pop3s":
		return 995, true
	case "mysql":
		return 3306, true
	case "ms-wbt-server":
		return 3389, true
	case "postgresql":
		return 5432, true
	case "mdns":
		return 5353, true
	case "http-alt", "webcache":
		return 8080, true
	}
	return 0, false
}

func parsePortNumber(s string) (uint16, error) {
	if n, ok := servicePort(strings.ToLower(s)); ok {
		return n, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("unknown port %q", s)
	}
	return uint16(n), nil
}

// icmpName returns the ICMP type and code (-1: every code) of a name as
// iptables and nft spell it; icmpv6Name is its ICMPv6 twin.
func icmpName(k string) (icmpType, bool) {
	switch k {
	case "echo-reply", "pong":
		return icmpType{0, -1}, true
	case "destination-unreachable":
		return icmpType{3, -1}, true
	case "network-unreachable":
		return icmpType{3, 0}, true
	case "host-unreachable":
		return icmpType{3, 1}, true
	case "protocol-unreachable":
		return icmpType{3, 2}, true
	case "port-unreachable":
		return icmpType{3, 3}, true
	case "fragmentation-needed":
		return icmpType{3, 4}, true
	case "source-route-failed":
		return icmpType{3, 5}, true
	case "network-unknown":
		return icmpType{3, 6}, true
	case "host-unknown":
		return icmpType{3, 7}, true
	case "network-prohibited":
		return icmpType{3, 9}, true
	case "host-prohibited":
		return icmpType{3, 10}, true
	case "TOS-network-unreachable":
		return icmpType{3, 11}, true
	case "TOS-host-unreachable":
		return icmpType{3, 12}, true
	case "communication-prohibited":
		return icmpType{3, 13}, true
	case "host-precedence-violation":
		return icmpType{3, 14}, true
	case "precedence-cutoff":
		return icmpType{3, 15}, true
	case "source-quench":
		return icmpType{4, -1}, true
	case "redirect":
		return icmpType{5, -1}, true
	case "network-redirect":
		return icmpType{5, 0}, true
	case "host-redirect":
		return icmpType{5, 1}, true
	case "TOS-network-redirect":
		return icmpType{5, 2}, true
	case "TOS-host-redirect":
		return icmpType{5, 3}, true
	case "echo-request", "ping":
		return icmpType{8, -1}, true
	case "router-advertisement":
		return icmpType{9, -1}, true
	case "router-solicitation":
		return icmpType{10, -1}, true
	case "time-exceeded", "ttl-exceeded":
		return icmpType{11, -1}, true
	case "ttl-zero-during-transit":
		return icmpType{11, 0}, true
	case "ttl-zero-during-reassembly":
		return icmpType{11, 1}, true
	case "parameter-problem":
		return icmpType{12, -1}, true
	case "ip-header-bad":
		return icmpType{12, 0}, true
	case "required-option-missing":
		return icmpType{12, 1}, true
	case "timestamp-request":
		return icmpType{13, -1}, true
	case "timestamp-reply":
		return icmpType{14, -1}, true
	case "info-request":
		return icmpType{15, -1}, true
	case "info-reply":
		return icmpType{16, -1}, true
	case "address-mask-request":
		return icmpType{17, -1}, true
	case "address-mask-reply":
		return icmpType{18, -1}, true
	}
	return icmpType{}, false
}

func icmpv6Name(k string) (icmpType, bool) {
	switch k {
	case "destination-unreachable":
		return icmpType{1, -1}, true
	case "no-route":
		return icmpType{1, 0}, true
	case "communication-prohibited", "admin-prohibited":
		return icmpType{1, 1}, true
	case "beyond-scope":
		return icmpType{1, 2}, true
	case "address-unreachable":
		return icmpType{1, 3}, true
	case "port-unreachable":
		return icmpType{1, 4}, true
	case "failed-policy":
		return icmpType{1, 5}, true
	case "reject-route":
		return icmpType{1, 6}, true
	case "packet-too-big":
		return icmpType{2, -1}, true
	case "time-exceeded", "ttl-exceeded":
		return icmpType{3, -1}, true
	case "ttl-zero-during-transit":
		return icmpType{3, 0}, true
	case "ttl-zero-during-reassembly":
		return icmpType{3, 1}, true
	case "parameter-problem":
		return icmpType{4, -1}, true
	case "bad-header":
		return icmpType{4, 0}, true
	case "unknown-header-type":
		return icmpType{4, 1}, true
	case "unknown-option":
		return icmpType{4, 2}, true
	case "echo-request", "ping":
		return icmpType{128, -1}, true
	case "echo-reply", "pong":
		return icmpType{129, -1}, true
	case "mld-listener-query":
		return icmpType{130, -1}, true
	case "mld-listener-report":
		return icmpType{131, -1}, true
	case "mld-listener-done", "mld-listener-reduction":
		return icmpType{132, -1}, true
	case "router-solicitation", "nd-router-solicit":
		return icmpType{133, -1}, true
	case "router-advertisement", "nd-router-advert":
		return icmpType{134, -1}, true
	case "neighbour-solicitation", "neighbor-solicitation", "nd-neighbor-solicit":
		return icmpType{135, -1}, true
	case "neighbour-advertisement", "neighbor-advertisement", "nd-neighbor-advert":
		return icmpType{136, -1}, true
	case "redirect", "nd-redirect":
		return icmpType{137, -1}, true
	case "router-renumbering":
		return icmpType{138, -1}, true
	case "ind-neighbor-solicit":
		return icmpType{141, -1}, true
	case "ind-neighbor-advert":
		return icmpType{142, -1}, true
	case "mld2-listener-report":
		return icmpType{143, -1}, true
	}
	return icmpType{}, false
}

// parseICMPType parses a type name, a number, or (iptables) type/code.
func parseICMPType(s string, v6 bool) (icmpType, error) {
	lookup := icmpName
	if v6 {
		lookup = icmpv6Name
	}
	if t, ok := lookup(s); ok {
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

// ctStateBit returns the bit of a conntrack state name (--ctstate, --state,
// ct state), or of the NAT status bits this package settles.
func ctStateBit(k string) (uint16, bool) {
	switch k {
	case "NEW":
		return ctNew, true
	case "ESTABLISHED":
		return ctEstablished, true
	case "RELATED":
		return ctRelated, true
	case "INVALID":
		return ctInvalid, true
	case "UNTRACKED":
		return ctUntracked, true
	case "SNAT":
		return ctSNAT, true
	case "DNAT":
		return ctDNAT, true
	}
	return 0, false
}

func parseStates(list []string) (uint16, error) {
	var mask uint16
	for _, s := range list {
		b, ok := ctStateBit(strings.ToUpper(s))
		if !ok {
			return 0, fmt.Errorf("unknown conntrack state %q", s)
		}
		mask |= b
	}
	return mask, nil
}
