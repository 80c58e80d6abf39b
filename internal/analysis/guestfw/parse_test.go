package guestfw

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// ipt wraps rules in a filter table whose INPUT policy is DROP, with the
// user chains named (space-separated), rules starting on line 5 plus one
// per user chain.
func ipt(userChains string, rules ...string) string {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for _, c := range strings.Fields(userChains) {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	for _, r := range rules {
		b.WriteString(r + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// nftInput wraps rules in an inet filter input chain with policy drop,
// rules starting on line 4.
func nftInput(extra string, rules ...string) string {
	return "table inet t {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\t" +
		strings.Join(rules, "\n\t\t") + "\n\t}\n" + extra + "}\n"
}

type textRow struct {
	name   string
	text   string
	packet string
	want   Verdict
	line   int
	issue  int // a line that must be among Issues; 0: none may be
}

func runText(t *testing.T, parse func(string) (*Ruleset, error), rows []textRow) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := parse(tc.text)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tc.issue == 0 && len(rs.Issues()) > 0 {
				t.Fatalf("Issues = %v, want none", rs.Issues())
			}
			if tc.issue != 0 && !slices.ContainsFunc(rs.Issues(), func(i Issue) bool { return i.Line == tc.issue }) {
				t.Fatalf("Issues = %v, want one on line %d", rs.Issues(), tc.issue)
			}
			p := pkt(tc.packet)
			got := rs.Decide(p)
			if got.Verdict != tc.want || got.Line != tc.line {
				t.Fatalf("Decide(%v) = %v (line %d), want %v (line %d)\npath: %v\nnotes: %v", p, got.Verdict, got.Line, tc.want, tc.line, got.Path, got.Notes)
			}
			if got.Verdict == Uncertain && len(got.Notes) == 0 {
				t.Errorf("Decide(%v) is uncertain with no note saying why", p)
			}
			lines := strings.Split(tc.text, "\n")
			for _, n := range got.Notes {
				if n.Line < 1 || n.Line > len(lines) || strings.TrimSpace(lines[n.Line-1]) != n.Text {
					t.Errorf("Decide(%v) note %v: its text is not line %d as written", p, n, n.Line)
				}
			}
		})
	}
}

func TestIptablesConstructs(t *testing.T) {
	const ssh = "in tcp 203.0.113.5 10.0.0.5 22"
	runText(t, ParseIptablesSave, []textRow{
		{name: "negated source", text: ipt("X", "-A INPUT ! -s 10.0.0.0/8 -p tcp -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "negated source not matching", text: ipt("X", "-A INPUT ! -s 203.0.113.0/24 -p tcp -j ACCEPT"), packet: ssh, want: Drop},
		{name: "dotted mask", text: ipt("X", "-A INPUT -s 203.0.113.0/255.255.255.0 -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "non-contiguous mask is not understood", text: ipt("X", "-A INPUT -s 203.0.113.0/255.0.255.0 -j ACCEPT"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "port range", text: ipt("X", "-A INPUT -p tcp -m tcp --dport 20:30 -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "negated port", text: ipt("X", "-A INPUT -p tcp -m tcp ! --dport 22 -j ACCEPT"), packet: ssh, want: Drop},
		{name: "protocol number", text: ipt("X", "-A INPUT -p 6 -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "protocol all", text: ipt("X", "-A INPUT -p all -j REJECT"), packet: ssh, want: Reject, line: 6},
		{name: "negated protocol", text: ipt("X", "-A INPUT ! -p udp -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "state module", text: ipt("X", "-A INPUT -m state --state NEW -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "negated ctstate", text: ipt("X", "-A INPUT -m conntrack ! --ctstate NEW -j ACCEPT"), packet: ssh, want: Drop},
		{name: "syn", text: ipt("X", "-A INPUT -p tcp -m tcp ! --syn -j DROP", "-A INPUT -p tcp -j ACCEPT"), packet: ssh, want: Accept, line: 7},
		{name: "syn of an established packet", text: ipt("X", "-A INPUT -p tcp -m tcp --syn -j ACCEPT"), packet: ssh + " est", want: Drop},
		{name: "interface wildcard", text: ipt("X", "-A INPUT -i eth+ -j ACCEPT"), packet: ssh + " if=eth1", want: Accept, line: 6},
		{name: "other interface", text: ipt("X", "-A INPUT -i eth0 -j ACCEPT"), packet: ssh + " if=ens5", want: Drop},
		{name: "output interface on input is empty", text: ipt("X", "-A INPUT ! -o eth0 -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "jump and return", text: ipt("X", "-A INPUT -j X", "-A INPUT -p tcp -j ACCEPT", "-A X -p tcp -m tcp --dport 22 -j RETURN", "-A X -j DROP"), packet: ssh, want: Accept, line: 7},
		// A RETURN in a chain reached by -g returns past the goto, to the
		// chain that jumped to the goto's chain.
		{name: "goto returns to the caller's caller", text: ipt("X Y", "-A INPUT -j X", "-A INPUT -j ACCEPT", "-A X -g Y", "-A X -j DROP", "-A Y -j RETURN"), packet: ssh, want: Accept, line: 8},
		{name: "protocol module loaded by -p", text: ipt("", "-A INPUT -p tcp --dport 22 -j ACCEPT"), packet: ssh, want: Accept, line: 5},
		{name: "port option without a protocol", text: ipt("", "-A INPUT --dport 22 -j ACCEPT"), packet: ssh, want: Uncertain, line: 5, issue: 5},
		{name: "counters prefix", text: ipt("X", "[12:720] -A INPUT -p tcp -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "log goes on", text: ipt("X", `-A INPUT -j LOG --log-prefix "in: "`, "-A INPUT -j ACCEPT"), packet: ssh, want: Accept, line: 7},
		{name: "unknown module", text: ipt("X", "-A INPUT -m frobnicate --level 3 -j ACCEPT"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "unknown module after a failing match", text: ipt("X", "-A INPUT -p udp -m frobnicate --level 3 -j ACCEPT"), packet: ssh, want: Drop, issue: 6},
		{name: "unknown target", text: ipt("X", "-A INPUT -p tcp -j FROB"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "jump to an undeclared chain", text: ipt("X", "-A INPUT -p tcp -j nowhere"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "queue", text: ipt("X", "-A INPUT -p tcp -j NFQUEUE --queue-num 1"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "mark", text: ipt("X", "-A INPUT -m mark --mark 0x1 -j ACCEPT"), packet: ssh, want: Uncertain, line: 6},
		{name: "connection limit", text: ipt("X", "-A INPUT -p tcp -m connlimit --connlimit-above 10 -j REJECT", "-A INPUT -j ACCEPT"), packet: ssh, want: Uncertain, line: 6},
		{name: "ipset", text: ipt("X", "-A INPUT -m set --match-set blocked src -j DROP", "-A INPUT -j ACCEPT"), packet: ssh, want: Uncertain, line: 6},
		{name: "owner on output", text: ipt("X", "-A OUTPUT -m owner --uid-owner 1000 -j DROP"), packet: "out tcp 10.0.0.5 203.0.113.5 443", want: Uncertain, line: 6},
		{name: "a routing header the packet does not have", text: ipt("", "-A INPUT -m rt --rt-type 0 -j DROP", "-A INPUT -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "negated, still no routing header", text: ipt("", "-A INPUT -m rt ! --rt-type 0 -j DROP", "-A INPUT -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "iprange", text: ipt("X", "-A INPUT -m iprange --src-range 203.0.113.1-203.0.113.9 -j ACCEPT"), packet: ssh, want: Accept, line: 6},
		{name: "IPv6 address in iptables-save", text: ipt("X", "-A INPUT -s 2001:db8::/32 -j ACCEPT"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "line outside a table", text: "-A INPUT -j ACCEPT\n" + ipt("X", "-A INPUT -j ACCEPT"), packet: ssh, want: Uncertain, line: 1, issue: 1},
		{name: "rule on an undeclared chain", text: ipt("X", "-A NOPE -j ACCEPT", "-A INPUT -j ACCEPT"), packet: ssh, want: Uncertain, line: 6, issue: 6},
		{name: "legacy tables present", text: "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n" + ipt("", "-A INPUT -j ACCEPT"), packet: ssh, want: Uncertain, line: 1, issue: 1},
		{name: "table twice", text: ipt("", "-A INPUT -j ACCEPT") + ipt("", "-A INPUT -j DROP"), packet: ssh, want: Uncertain, line: 7, issue: 7},
		{name: "table without commit", text: strings.TrimSuffix(ipt("X", "-A INPUT -j ACCEPT"), "COMMIT\n"), packet: ssh, want: Uncertain, line: 1, issue: 1},
		{name: "raw table drop comes first", text: "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n" + ipt("X", "-A INPUT -j ACCEPT"), packet: ssh, want: Drop, line: 4},
		{name: "notrack is not followed", text: "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n" + ipt("X", "-A INPUT -j ACCEPT"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "mangle input runs before filter", text: "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n" + ipt("X", "-A INPUT -p tcp -j REJECT"), packet: ssh, want: Reject, line: 14},
	})
}

func TestNftConstructs(t *testing.T) {
	const ssh = "in tcp 203.0.113.5 10.0.0.5 22"
	runText(t, ParseNft, []textRow{
		{name: "th dport set", text: nftInput("", "meta l4proto { tcp, udp } th dport { 22, 53 } accept"), packet: ssh, want: Accept, line: 4},
		{name: "th dport of icmp is uncertain", text: nftInput("", "th dport 22 accept"), packet: "in icmp 203.0.113.5 10.0.0.5 type=8", want: Uncertain, line: 4},
		{name: "negated set", text: nftInput("", "ip saddr != { 10.0.0.0/8, 192.168.0.0/16 } drop", "accept"), packet: ssh, want: Drop, line: 4},
		{name: "ip match does not apply to IPv6", text: nftInput("", "ip saddr != 10.0.0.0/8 drop", "accept"), packet: "in tcp 2001:db8::5 2001:db8::1 22", want: Accept, line: 5},
		{name: "ip6 saddr", text: nftInput("", "ip6 saddr 2001:db8::/32 accept"), packet: "in tcp 2001:db8::5 2001:db8::1 22", want: Accept, line: 4},
		{name: "address range", text: nftInput("", "ip saddr 203.0.113.1-203.0.113.9 accept"), packet: ssh, want: Accept, line: 4},
		{name: "port comparison", text: nftInput("", "tcp dport < 1024 accept"), packet: ssh, want: Accept, line: 4},
		{name: "service name", text: nftInput("", "tcp dport ssh accept"), packet: ssh, want: Accept, line: 4},
		{name: "jump and return", text: nftInput("\tchain sub {\n\t\ttcp dport 22 return\n\t\tdrop\n\t}\n", "jump sub", "accept"), packet: ssh, want: Accept, line: 5},
		{name: "goto does not come back", text: nftInput("\tchain sub {\n\t}\n", "goto sub", "accept"), packet: ssh, want: Drop},
		{name: "vmap to a chain", text: nftInput("\tchain web {\n\t\taccept\n\t}\n", "tcp dport vmap { 22 : jump web, 23 : drop }"), packet: ssh, want: Accept, line: 7},
		{name: "vmap miss goes on", text: nftInput("", "tcp dport vmap { 80 : accept, 23 : drop }", "reject"), packet: ssh, want: Reject, line: 5},
		{name: "reject with tcp reset", text: nftInput("", "tcp dport 22 reject with tcp reset"), packet: ssh, want: Reject, line: 4},
		{name: "comment and counter", text: nftInput("", `tcp dport 22 counter packets 1 bytes 60 log prefix "ssh " level info accept comment "ssh"`), packet: ssh, want: Accept, line: 4},
		{name: "tcp flags mask test, new connection", text: nftInput("", "tcp flags & (fin|syn|rst|ack) != syn ct state new drop", "accept"), packet: ssh, want: Accept, line: 5},
		{name: "tcp flags mask test, not a syn", text: nftInput("", "tcp flags & (fin|syn|rst|ack) != syn ct state new drop", "accept"), packet: ssh + " est", want: Accept, line: 5},
		{name: "tcp flags masked value", text: nftInput("", "tcp flags syn / fin,syn,rst,ack accept"), packet: ssh, want: Accept, line: 4},
		{name: "tcp flags masked value, established", text: nftInput("", "tcp flags syn / fin,syn,rst,ack accept"), packet: ssh + " est", want: Drop},
		{name: "tcp flags any bit", text: nftInput("", "tcp flags syn accept"), packet: ssh, want: Accept, line: 4},
		{name: "tcp flags on bits not known", text: nftInput("", "tcp flags psh accept"), packet: ssh + " est", want: Uncertain, line: 4},
		{name: "tcp flags on udp", text: nftInput("", "tcp flags syn accept"), packet: "in udp 203.0.113.5 10.0.0.5 53", want: Drop},
		{name: "fib local", text: nftInput("", "fib daddr type local accept"), packet: ssh, want: Accept, line: 4},
		{name: "meta mark set goes on", text: nftInput("", "meta mark set 0x1", "accept"), packet: ssh, want: Accept, line: 5},
		{name: "meta mark match", text: nftInput("", "meta mark 0x1 accept"), packet: ssh, want: Uncertain, line: 4},
		{name: "ct mark match", text: nftInput("", "ct mark 0x1 drop", "accept"), packet: ssh, want: Uncertain, line: 4},
		{name: "named set", text: "table inet t {\n\tset ok {\n\t\ttype inet_service\n\t\telements = { 22, 443 }\n\t}\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n\t\ttcp dport @ok accept\n\t}\n}\n", packet: ssh, want: Accept, line: 8},
		{name: "dynamic set", text: "table inet t {\n\tset seen {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n\t}\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tip saddr @seen drop\n\t}\n}\n", packet: ssh, want: Uncertain, line: 8},
		{name: "undeclared set", text: nftInput("", "ip saddr @nope drop", "accept"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "unknown expression", text: nftInput("", "tcp dport 22 frobnicate accept"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "not understood, verdict before a comment", text: nftInput("", `tcp dport 22 frobnicate accept comment "x"`), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "not understood, no verdict readable", text: nftInput("", "tcp dport 22 frobnicate 3", "accept"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "iptables extension shown as a comment", text: nftInput("", "meta l4proto tcp tcp dport 22 ct state new # xt_recent counter packets 0 bytes 0 drop", "accept"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "a comment after a rule", text: nftInput("", "tcp dport 22 accept # ssh"), packet: ssh, want: Accept, line: 4},
		{name: "unknown expression after a failing match", text: nftInput("", "udp dport 22 frobnicate accept"), packet: ssh, want: Drop, issue: 4},
		{name: "concatenation is not understood", text: nftInput("", "ip saddr . tcp dport { 203.0.113.5 . 22 } accept"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "jump to a missing chain", text: nftInput("", "jump nowhere"), packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "dnat in a nat chain", text: "table ip nat {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\ttcp dport 22 dnat to 10.0.0.9:2222\n\t}\n}\n", packet: ssh, want: Uncertain, line: 4, issue: 4},
		{name: "dnat does not see established packets", text: "table ip nat {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\ttcp dport 22 dnat to 10.0.0.9:2222\n\t}\n}\n", packet: ssh + " est", want: Accept, issue: 4},
		// Two base chains at one hook: the lower priority runs first, and
		// its accept does not end the hook.
		{name: "priorities", text: "table inet a {\n\tchain late {\n\t\ttype filter hook input priority 10; policy accept;\n\t\tdrop\n\t}\n\tchain early {\n\t\ttype filter hook input priority -10; policy accept;\n\t\treject\n\t}\n}\n", packet: ssh, want: Reject, line: 8},
		{name: "priority expression", text: "table inet a {\n\tchain c {\n\t\ttype filter hook input priority raw + 1; policy drop;\n\t}\n}\n", packet: ssh, want: Drop},
		{name: "netdev chain on another device", text: "table netdev n {\n\tchain in {\n\t\ttype filter hook ingress device \"eth1\" priority 0; policy accept;\n\t\tdrop\n\t}\n}\n", packet: ssh + " if=eth0", want: Accept},
		{name: "netdev chain on the device", text: "table netdev n {\n\tchain in {\n\t\ttype filter hook ingress device \"eth0\" priority 0; policy accept;\n\t\tdrop\n\t}\n}\n", packet: ssh + " if=eth0", want: Drop, line: 4},
		{name: "dormant table", text: "table inet d {\n\tflags dormant\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n\t}\n}\n", packet: ssh, want: Accept},
		{name: "bridge table does not see the guest's packets", text: "table bridge b {\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n\t}\n}\n", packet: ssh, want: Accept},
		{name: "unknown table statement", text: "table inet t {\n\tfrobnicate 1\n}\n", packet: ssh, want: Uncertain, line: 2, issue: 2},
		{name: "define is not expanded", text: "define ports = { 22 }\n" + nftInput("", "accept"), packet: ssh, want: Uncertain, line: 1, issue: 1},
		{name: "flush ruleset", text: "flush ruleset\n" + nftInput("", "accept"), packet: ssh, want: Accept, line: 5},
		{name: "empty ruleset", text: "", packet: ssh, want: Accept},
		{name: "loop", text: nftInput("\tchain a {\n\t\tjump b\n\t}\n\tchain b {\n\t\tjump a\n\t}\n", "jump a", "accept"), packet: ssh, want: Uncertain, line: 7},
	})
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func(string) (*Ruleset, error)
		text  string
	}{
		{"iptables without a table", ParseIptablesSave, "-A INPUT -j ACCEPT\n"},
		{"nft unclosed table", ParseNft, "table inet t {\n\tchain c {\n"},
		{"nft unterminated string", ParseNft, "table inet t {\n\tchain c {\n\t\tiifname \"lo accept\n\t}\n}\n"},
		{"nft text without a table", ParseNft, "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"},
		{"nft unknown family", ParseNft, "table frob t {\n}\n"},
		{"nft stray brace", ParseNft, "}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := tc.parse(tc.text)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("parse = %v, %v; want a *ParseError", rs, err)
			}
			if pe.Line > 0 && pe.Text == "" {
				t.Errorf("ParseError %v names line %d without its text", pe, pe.Line)
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       Format
		err        bool
	}{
		{"nft", "table inet filter {\n}\n", NftRuleset, false},
		{"iptables header", "# Generated by iptables-save v1.8.9\n*filter\nCOMMIT\n", IptablesSave, false},
		{"ip6tables header", "# Generated by ip6tables-save v1.8.9\n*filter\nCOMMIT\n", Ip6tablesSave, false},
		{"v4 address", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n", IptablesSave, false},
		{"v6 address", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 2001:db8::/32 -j ACCEPT\nCOMMIT\n", Ip6tablesSave, false},
		{"cannot tell", "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n", 0, true},
		{"neither", "hello\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectFormat(tc.text)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("DetectFormat = %v, %v; want %v (error %v)", got, err, tc.want, tc.err)
			}
			if _, err := Parse(tc.text); (err != nil) != tc.err {
				t.Fatalf("Parse error = %v, want error %v", err, tc.err)
			}
		})
	}
}

func TestSamplesParseCleanly(t *testing.T) {
	// Every sample is read in full, but for the lines named here.
	want := map[string][]int{
		"simple.iptables": nil, "docker.iptables": {13}, "ufw.iptables": nil, "ip6tables.iptables": nil,
		"firewalld.nft": nil, "debian.nft": nil,
	}
	for name, lines := range want {
		t.Run(name, func(t *testing.T) {
			rs := load(t, name)
			var got []int
			for _, is := range rs.Issues() {
				got = append(got, is.Line)
			}
			if !slices.Equal(got, lines) {
				t.Errorf("Issues = %v, want lines %v", rs.Issues(), lines)
			}
		})
	}
}

func TestUfwPath(t *testing.T) {
	got := load(t, "ufw.iptables").Decide(pkt("in tcp 203.0.113.5 10.0.0.5 22"))
	var path []string
	for _, s := range got.Path {
		path = append(path, s.String())
	}
	want := []string{
		"filter INPUT line 39: -j ufw-before-input",
		"filter ufw-before-input line 84: -j ufw-user-input",
		"filter ufw-user-input line 101: -j ACCEPT",
	}
	if !slices.Equal(path, want) {
		t.Errorf("Decide().Path = %q, want %q", path, want)
	}
}

func TestInvalidPacket(t *testing.T) {
	rs := load(t, "simple.iptables")
	for _, tc := range []struct {
		name string
		p    Packet
	}{
		{"zero", Packet{}},
		{"tcp without port", func() Packet { p := pkt("in tcp 10.0.0.1 10.0.0.5 22"); p.DstPort = 0; return p }()},
		{"mixed families", func() Packet { p := pkt("in tcp 10.0.0.1 10.0.0.5 22"); p.Dst = pkt("in tcp ::1 ::1 22").Dst; return p }()},
		{"icmp over IPv6", pkt("in icmp 2001:db8::1 2001:db8::2")},
		{"ports on icmp", func() Packet { p := pkt("in icmp 10.0.0.1 10.0.0.5"); p.DstPort = 22; return p }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.p.Validate() == nil {
				t.Fatalf("Validate(%v) = nil, want an error", tc.p)
			}
			if got := rs.Decide(tc.p); got.Verdict != Uncertain || got.Text == "" {
				t.Errorf("Decide(%v) = %v, want UNCERTAIN naming the problem", tc.p, got)
			}
		})
	}
}

func TestAcceptNamesTheFilterPolicy(t *testing.T) {
	// An outbound packet passes raw OUTPUT, nat OUTPUT, filter OUTPUT and
	// nat POSTROUTING, all by policy: the filter chain's policy is named.
	got := load(t, "docker.iptables").Decide(pkt("out tcp 10.0.0.5 203.0.113.5 443"))
	if got.Verdict != Accept || got.Text != "policy accept of filter OUTPUT" || len(got.Path) != 4 {
		t.Errorf("Decide = %v, path %v; want ACCEPT by policy accept of filter OUTPUT through four chains", got, got.Path)
	}
}
