// Package catalog holds Palisade's reference data: the ready-made policy
// sets a group can be created from, the common server ports, the ports ISPs
// commonly block and the ports too sensitive to open to the Internet. It is
// pure data; every value returned is a fresh copy.
package catalog

import (
	"slices"

	"github.com/palisade-sg/palisade/internal/policy"
)

// GroupTemplates returns the catalogue of ready-made policy sets a group can
// be created from: open-all, open-common (as the cloud's console builds it),
// linux-login, windows-login, web, and the typical scenarios (ssh, rdp, ping,
// ftp, telnet, mysql, sql-server, cidr-allow-deny). Scenario templates hold
// inbound policies only. The result is a fresh copy.
func GroupTemplates() []GroupTemplate {
	p := mustPolicy
	both := func(rule, desc string) []policy.Policy {
		return []policy.Policy{p(rule + " 0.0.0.0/0 # " + desc), p(rule + " ::/0 # " + desc)}
	}
	allOut := both("ACCEPT ALL ALL", "all outbound traffic")
	cat := func(parts ...[]policy.Policy) []policy.Policy { return slices.Concat(parts...) }
	return []GroupTemplate{
		{
			Name: "open-all", Title: "Open all ports",
			Description: "All ports are opened to the public and private networks. This may present security risks.",
			Ingress:     both("ACCEPT ALL ALL", "all inbound traffic"),
			Egress:      allOut,
		},
		{
			Name: "open-common", Title: "Open ports 22, 80, 443, 3389 and ICMP",
			Description: "Host login and web service ports open to the Internet; all ports open to private networks.",
			Ingress: cat(
				both("ACCEPT TCP 3389", "Windows remote desktop"),
				both("ACCEPT TCP 22", "Linux SSH login"),
				both("ACCEPT TCP 80,443", "web service"),
				[]policy.Policy{
					p("ACCEPT ICMP ALL 0.0.0.0/0 # ping"),
					p("ACCEPT ICMPv6 ALL ::/0 # ping"),
					p("ACCEPT ALL ALL 10.0.0.0/8 # private network"),
					p("ACCEPT ALL ALL 172.16.0.0/12 # private network"),
					p("ACCEPT ALL ALL 192.168.0.0/16 # private network"),
				}),
			Egress: allOut,
		},
		{Name: "linux-login", Title: "Linux login", Description: "SSH (TCP 22) from anywhere; all outbound.",
			Ingress: both("ACCEPT TCP 22", "Linux SSH login"), Egress: allOut},
		{Name: "windows-login", Title: "Windows login", Description: "Remote desktop (TCP 3389) from anywhere; all outbound.",
			Ingress: both("ACCEPT TCP 3389", "Windows remote desktop"), Egress: allOut},
		{Name: "web", Title: "Web server", Description: "HTTP and HTTPS (TCP 80, 443) from anywhere; all outbound.",
			Ingress: both("ACCEPT TCP 80,443", "web service"), Egress: allOut},
		{Name: "ssh", Title: "SSH to Linux", Description: "Typical scenario: TCP 22 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT TCP 22 0.0.0.0/0 # SSH")}},
		{Name: "rdp", Title: "RDP to Windows", Description: "Typical scenario: TCP 3389 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT TCP 3389 0.0.0.0/0 # remote desktop")}},
		{Name: "ping", Title: "Ping from the Internet", Description: "Typical scenario: ICMP and ICMPv6 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT ICMP ALL 0.0.0.0/0 # ping"), p("ACCEPT ICMPv6 ALL ::/0 # ping")}},
		{Name: "ftp", Title: "FTP server", Description: "Typical scenario: TCP 20-21 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT TCP 20-21 0.0.0.0/0 # FTP")}},
		{Name: "telnet", Title: "Telnet", Description: "Typical scenario: TCP 23 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT TCP 23 0.0.0.0/0 # Telnet")}},
		{Name: "mysql", Title: "MySQL server", Description: "Typical scenario: TCP 3306 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT TCP 3306 0.0.0.0/0 # MySQL")}},
		{Name: "sql-server", Title: "SQL Server", Description: "Typical scenario: TCP 1433 from anywhere.",
			Ingress: []policy.Policy{p("ACCEPT TCP 1433 0.0.0.0/0 # SQL Server")}},
		{Name: "cidr-allow-deny", Title: "Allow a network to one port, deny it another",
			Description: "Typical scenario: TCP 22 ACCEPT and TCP 3389 DROP from 192.168.1.0/24.",
			Ingress:     []policy.Policy{p("ACCEPT TCP 22 192.168.1.0/24 # allow SSH"), p("DROP TCP 3389 192.168.1.0/24 # deny remote desktop")}},
	}
}

// Lookup returns the group template of that name.
func Lookup(name string) (GroupTemplate, bool) {
	for _, t := range GroupTemplates() {
		if t.Name == name {
			return t, true
		}
	}
	return GroupTemplate{}, false
}

// mustPolicy parses a constant policy; it panics on error (a test covers
// every constant).
func mustPolicy(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic("catalog: " + err.Error())
	}
	return p
}

// GroupTemplate is a ready-made policy set a group can be created from.
type GroupTemplate struct {
	Name        string // "open-common"
	Title       string // short human title
	Description string
	Ingress     []policy.Policy
	Egress      []policy.Policy
}

// CommonPort is one entry of the reference list of common server ports
// (seed points 1 and 2).
type CommonPort struct {
	Protocol    policy.Protocol
	Ports       policy.PortSet
	Service     string
	Description string
	LoginFor    string // "linux" or "windows" for the login ports, else ""
}

// CommonPorts returns the reference list of common server ports, in port
// order. The result is a fresh copy.
func CommonPorts() []CommonPort {
	tcp := func(port, svc, desc string) CommonPort {
		return CommonPort{Protocol: policy.TCP, Ports: policy.MustParsePortSet(port), Service: svc, Description: desc}
	}
	udp := func(port, svc, desc string) CommonPort {
		return CommonPort{Protocol: policy.UDP, Ports: policy.MustParsePortSet(port), Service: svc, Description: desc}
	}
	login := func(p CommonPort, os string) CommonPort { p.LoginFor = os; return p }
	return []CommonPort{
		tcp("20-21", "FTP", "File transfer: 21 control, 20 data (active mode)"),
		login(tcp("22", "SSH", "Remote login to Linux instances; also SFTP"), "linux"),
		tcp("23", "Telnet", "Unencrypted remote login; prefer SSH"),
		tcp("25", "SMTP", "Mail transfer; outbound TCP 25 is blocked by the platform until the account unblocks it"),
		tcp("53", "DNS", "Name service over TCP (zone transfers, large answers)"),
		udp("53", "DNS", "Name service"),
		tcp("80", "HTTP", "Web service"),
		tcp("110", "POP3", "Mail retrieval"),
		udp("137-138", "NetBIOS", "Windows name and datagram service; commonly blocked by ISPs"),
		tcp("139", "NetBIOS/SMB", "Windows file sharing session service; commonly blocked by ISPs"),
		tcp("143", "IMAP", "Mail retrieval"),
		tcp("443", "HTTPS", "Web service over TLS"),
		tcp("1433", "SQL Server", "Microsoft SQL Server"),
		udp("1434", "SQL Server Browser", "Microsoft SQL Server instance discovery; commonly blocked by ISPs"),
		tcp("3306", "MySQL", "MySQL and MariaDB"),
		login(tcp("3389", "RDP", "Remote desktop to Windows instances"), "windows"),
		tcp("5432", "PostgreSQL", "PostgreSQL"),
		tcp("6379", "Redis", "Redis"),
		tcp("8080", "HTTP alternate", "Proxies and Tomcat's default port"),
		tcp("27017", "MongoDB", "MongoDB"),
	}
}

// ISPBlockedPorts returns, for TCP and UDP, the ports that ISPs commonly
// block even where the platform does not (seed point 5).
func ISPBlockedPorts() map[policy.Protocol][]uint16 {
	return map[policy.Protocol][]uint16{policy.TCP: ISPBlocked(policy.TCP), policy.UDP: ISPBlocked(policy.UDP)}
}

// ISPBlocked returns the ports of protocol p that ISPs commonly block (seed
// point 5); none for protocols without ports.
func ISPBlocked(p policy.Protocol) []uint16 {
	switch p {
	case policy.TCP:
		return []uint16{42, 135, 137, 138, 139, 445, 593, 1025, 1434, 1068, 3127, 3128, 3129, 3130, 4444, 5554, 9996}
	case policy.UDP:
		return []uint16{1026, 1027, 1434, 1068, 5554, 9996, 1028, 1433, 135, 136, 137, 138, 139}
	}
	return nil
}

// SensitivePorts returns the TCP login, database, cache and remote
// administration ports that should not be open to the whole Internet.
func SensitivePorts() []uint16 {
	return []uint16{22, 3389, 3306, 1433, 6379, 5432, 27017, 9200, 11211, 23, 445, 2375}
}

// DefaultGroupPolicies returns the policies of a project's default group,
// for each direction: all IPv4 traffic.
func DefaultGroupPolicies() []policy.Policy {
	return []policy.Policy{mustPolicy("ACCEPT ALL ALL 0.0.0.0/0")}
}
