package guestfw

import (
	"slices"
	"strings"
	"testing"
)

// A row names the sample, the packet (see pkt), the verdict and the
// deciding line (0: a chain's policy, or nothing), and for an uncertain
// answer the line a note must name and the verdicts still possible.
type decideRow struct {
	name     string
	file     string
	packet   string
	want     Verdict
	line     int
	note     int       // a line that must be among the notes; 0: no requirement
	possible []Verdict // nil: just want
}

func runDecide(t *testing.T, rows []decideRow) {
	t.Helper()
	cache := map[string]*Ruleset{}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			rs := cache[tc.file]
			if rs == nil {
				rs = load(t, tc.file)
				cache[tc.file] = rs
			}
			p := pkt(tc.packet)
			got := rs.Decide(p)
			if got.Verdict != tc.want || got.Line != tc.line {
				t.Fatalf("Decide(%v) = %v (line %d), want %v (line %d)\npath: %v\nnotes: %v", p, got.Verdict, got.Line, tc.want, tc.line, got.Path, got.Notes)
			}
			possible := tc.possible
			if possible == nil {
				possible = []Verdict{tc.want}
			}
			if !slices.Equal(got.Possible, possible) {
				t.Errorf("Decide(%v).Possible = %v, want %v", p, got.Possible, possible)
			}
			if alts := len(got.Alternatives); (len(got.Possible) > 1 && alts != len(got.Possible)) || (len(got.Possible) == 1 && alts != 0) {
				t.Errorf("Decide(%v).Alternatives = %v, want one per possible verdict %v", p, got.Alternatives, got.Possible)
			}
			if tc.note != 0 && !slices.ContainsFunc(got.Notes, func(n Note) bool { return n.Line == tc.note }) {
				t.Errorf("Decide(%v).Notes = %v, want one on line %d", p, got.Notes, tc.note)
			}
			if got.Line == 0 && got.Text == "" {
				t.Errorf("Decide(%v).Text is empty: nothing says what decided", p)
			}
			if got.Line != 0 {
				if lt := lineOf(t, tc.file, got.Line); lt != got.Text {
					t.Errorf("Decide(%v).Text = %q, want line %d as written: %q", p, got.Text, got.Line, lt)
				}
			}
		})
	}
}

func TestDecideSimple(t *testing.T) {
	const f = "simple.iptables"
	runDecide(t, []decideRow{
		{name: "ssh from the office", file: f, packet: "in tcp 10.1.2.3 10.0.0.5 22", want: Accept, line: 10},
		{name: "ssh from elsewhere hits the policy", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22", want: Drop},
		{name: "established traffic passes", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306 est", want: Accept, line: 7},
		{name: "web port in a multiport list", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 443", want: Accept, line: 11},
		{name: "web port in a multiport range", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 8005", want: Accept, line: 11},
		{name: "just past the range", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 8011", want: Drop},
		{name: "mysql rejected", file: f, packet: "in tcp 10.1.2.3 10.0.0.5 3306", want: Reject, line: 12},
		{name: "udp hits the policy", file: f, packet: "in udp 10.1.2.3 10.0.0.5 53", want: Drop},
		{name: "ping with its type", file: f, packet: "in icmp 10.1.2.3 10.0.0.5 type=8", want: Accept, line: 9},
		{name: "another icmp type", file: f, packet: "in icmp 10.1.2.3 10.0.0.5 type=13", want: Drop},
		{name: "icmp without a type is uncertain", file: f, packet: "in icmp 10.1.2.3 10.0.0.5", want: Uncertain, line: 9, note: 9, possible: []Verdict{Accept, Drop}},
		{name: "loopback", file: f, packet: "in tcp 127.0.0.1 127.0.0.1 5432", want: Accept, line: 6},
		{name: "loopback named", file: f, packet: "in tcp 10.0.0.5 10.0.0.5 5432 if=lo", want: Accept, line: 6},
		{name: "outbound smtp rejected", file: f, packet: "out tcp 10.0.0.5 198.51.100.1 25", want: Reject, line: 13},
		{name: "outbound https by policy", file: f, packet: "out tcp 10.0.0.5 198.51.100.1 443", want: Accept},
		{name: "IPv6 is not in iptables-save", file: f, packet: "in tcp 2001:db8::5 2001:db8::1 22", want: Uncertain, possible: []Verdict{Uncertain}},
	})
}

func TestDecideDocker(t *testing.T) {
	const f = "docker.iptables"
	runDecide(t, []decideRow{
		// The nat DOCKER chain's -i docker0 RETURN is unsettled without an
		// interface, but both ways lead to the filter table.
		{name: "ssh", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22", want: Accept, line: 27, note: 12},
		{name: "ssh on a named interface", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22 if=eth0", want: Accept, line: 27},
		{name: "docker API dropped", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 2375 if=eth0", want: Drop, line: 28},
		{name: "other port by policy", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306 if=eth0", want: Drop},
		// A published port is DNATed to a container and forwarded: not a
		// question the guest's own firewall answers.
		{name: "published port is DNAT", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 8080 if=eth0", want: Uncertain, line: 13, note: 13, possible: []Verdict{Uncertain}},
		{name: "published port without interface", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 8080", want: Uncertain, line: 13, note: 13, possible: []Verdict{Drop, Uncertain}},
		{name: "from the docker bridge the DOCKER chain returns", file: f, packet: "in tcp 172.17.0.2 10.0.0.5 8080 if=docker0", want: Drop},
		{name: "established skips nat", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 8080 est", want: Accept, line: 26},
		{name: "outbound by policy", file: f, packet: "out tcp 10.0.0.5 203.0.113.5 443", want: Accept},
		// The raw table drops packets for a container's address that do not
		// come from the bridge, before any other table.
		{name: "container address from outside", file: f, packet: "in tcp 203.0.113.5 172.17.0.2 80 if=eth0", want: Drop, line: 47},
		// Without the interface the raw rule may not apply, but then the
		// INPUT policy drops the packet: DROP either way.
		{name: "container address, interface unknown", file: f, packet: "in tcp 203.0.113.5 172.17.0.2 80", want: Drop, line: 47, note: 47},
	})
}

func TestUncertainAlternatives(t *testing.T) {
	got := load(t, "ufw.iptables").Decide(pkt("in tcp 203.0.113.5 10.0.0.5 2222"))
	want := []Alternative{{Verdict: Accept, Line: 109}, {Verdict: Reject, Line: 108}}
	if len(got.Alternatives) != len(want) {
		t.Fatalf("Decide().Alternatives = %v, want %v", got.Alternatives, want)
	}
	for i, a := range got.Alternatives {
		if a.Verdict != want[i].Verdict || a.Line != want[i].Line || a.Text != lineOf(t, "ufw.iptables", a.Line) || len(a.Path) == 0 {
			t.Errorf("Alternatives[%d] = %+v, want %v by line %d with its text and path", i, a, want[i].Verdict, want[i].Line)
		}
	}
}

// TestDecideConcurrently runs Decide on one ruleset from several
// goroutines; run with -race it checks that Decide does not write to it.
func TestDecideConcurrently(t *testing.T) {
	rs := load(t, "ufw.iptables")
	want := rs.Decide(pkt("in tcp 203.0.113.5 10.0.0.5 22"))
	done := make(chan Result)
	for range 4 {
		go func() {
			var r Result
			for range 50 {
				r = rs.Decide(pkt("in tcp 203.0.113.5 10.0.0.5 22"))
			}
			done <- r
		}()
	}
	for range 4 {
		if got := <-done; got.Verdict != want.Verdict || got.Line != want.Line {
			t.Errorf("concurrent Decide = %v, want %v", got, want)
		}
	}
}

func TestDockerForwardChainsAreNotEvaluated(t *testing.T) {
	rs := load(t, "docker.iptables")
	evaluated := map[string]bool{}
	for _, c := range rs.Chains() {
		evaluated[c.Table+" "+c.Name] = c.Evaluated
	}
	for name, want := range map[string]bool{
		"nat PREROUTING": true, "nat DOCKER": true, "nat POSTROUTING": true, "filter INPUT": true, "filter OUTPUT": true,
		"raw PREROUTING": true, "filter FORWARD": false, "filter DOCKER": false, "filter DOCKER-USER": false,
		"filter DOCKER-ISOLATION-STAGE-1": false, "filter DOCKER-ISOLATION-STAGE-2": false,
	} {
		if got, ok := evaluated[name]; !ok || got != want {
			t.Errorf("chain %s: Evaluated = %v (present %v), want %v", name, got, ok, want)
		}
	}
	// Only the DNAT rule is an issue: it is understood, but not followed.
	if len(rs.Issues()) != 1 || rs.Issues()[0].Line != 13 {
		t.Errorf("Issues = %v, want the DNAT on line 13 only", rs.Issues())
	}
}

func TestDecideUfw(t *testing.T) {
	const f = "ufw.iptables"
	runDecide(t, []decideRow{
		{name: "ssh through before-input, not-local and user-input", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22", want: Accept, line: 101},
		{name: "https", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 443", want: Accept, line: 102},
		{name: "postgres from the private network", file: f, packet: "in tcp 10.2.0.9 10.0.0.5 5432", want: Accept, line: 103},
		{name: "postgres from outside", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 5432", want: Drop},
		{name: "closed port by the INPUT policy", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306", want: Drop},
		{name: "samba skips to the policy", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 445", want: Drop, line: 97},
		{name: "established", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306 est", want: Accept, line: 73},
		{name: "loopback", file: f, packet: "in tcp 127.0.0.1 127.0.0.1 3306", want: Accept, line: 72},
		{name: "ping", file: f, packet: "in icmp 203.0.113.5 10.0.0.5 type=8", want: Accept, line: 79},
		{name: "rate-limited port depends on recent", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 2222", want: Uncertain, line: 105, note: 105, possible: []Verdict{Accept, Reject}},
		{name: "dhcp reply without source port", file: f, packet: "in udp 203.0.113.5 10.0.0.5 68", want: Uncertain, line: 80, note: 80, possible: []Verdict{Accept, Drop}},
		{name: "dhcp reply from port 67", file: f, packet: "in udp 203.0.113.5 10.0.0.5 68 sport=67", want: Accept, line: 80},
		{name: "multicast not local returns", file: f, packet: "in udp 10.0.0.7 224.0.0.251 5353", want: Accept, line: 82},
		{name: "outbound tracked", file: f, packet: "out tcp 10.0.0.5 203.0.113.5 443", want: Accept, line: 99},
		{name: "outbound udp tracked", file: f, packet: "out udp 10.0.0.5 203.0.113.5 53", want: Accept, line: 100},
		{name: "outbound smtp rejected by a user rule", file: f, packet: "out tcp 10.0.0.5 203.0.113.5 25", want: Reject, line: 110},
		{name: "outbound gre by policy", file: f, packet: "out gre 10.0.0.5 203.0.113.5", want: Accept},
	})
}

func TestDecideIp6tables(t *testing.T) {
	const f = "ip6tables.iptables"
	runDecide(t, []decideRow{
		{name: "ssh from the admin prefix", file: f, packet: "in tcp 2001:db8:10::5 2001:db8::1 22", want: Accept, line: 13},
		{name: "ssh from elsewhere reset", file: f, packet: "in tcp 2001:db8:99::5 2001:db8::1 22", want: Reject, line: 15},
		{name: "https", file: f, packet: "in tcp 2001:db8:99::5 2001:db8::1 443", want: Accept, line: 14},
		{name: "udp rejected", file: f, packet: "in udp 2001:db8:99::5 2001:db8::1 53", want: Reject, line: 16},
		{name: "dhcpv6 to link-local", file: f, packet: "in udp fe80::1 fe80::2 546", want: Accept, line: 12},
		{name: "ping6", file: f, packet: "in icmpv6 2001:db8:99::5 2001:db8::1 type=128", want: Accept, line: 9},
		{name: "neighbour solicitation depends on the hop limit", file: f, packet: "in icmpv6 fe80::1 2001:db8::1 type=135", want: Uncertain, line: 10, note: 10, possible: []Verdict{Accept, Drop}},
		{name: "gre by policy", file: f, packet: "in gre 2001:db8:99::5 2001:db8::1", want: Drop},
		{name: "outbound to the bad prefix", file: f, packet: "out tcp 2001:db8::1 2001:db8:bad::1 443", want: Drop, line: 17},
		{name: "outbound elsewhere", file: f, packet: "out tcp 2001:db8::1 2001:db8:1::1 443", want: Accept},
		{name: "IPv4 is not in ip6tables-save", file: f, packet: "in tcp 10.1.2.3 10.0.0.5 22", want: Uncertain, possible: []Verdict{Uncertain}},
	})
}

func TestDecideFirewalld(t *testing.T) {
	const f = "firewalld.nft"
	runDecide(t, []decideRow{
		{name: "ssh through the public zone", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22", want: Accept, line: 156},
		{name: "ssh on eth0", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22 if=eth0", want: Accept, line: 156},
		{name: "cockpit", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 9090 if=eth0", want: Accept, line: 158},
		{name: "closed port rejected at the end of filter_INPUT", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306 if=eth0", want: Reject, line: 89},
		{name: "denied source", file: f, packet: "in tcp 198.51.100.9 10.0.0.5 22 if=eth0", want: Drop, line: 152},
		{name: "established by the verdict map", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306 est if=eth0", want: Accept, line: 83},
		{name: "loopback", file: f, packet: "in tcp 127.0.0.1 127.0.0.1 3306", want: Accept, line: 85},
		{name: "ping accepted by the zone", file: f, packet: "in icmp 203.0.113.5 10.0.0.5 type=8 if=eth0", want: Accept, line: 142},
		{name: "rate-limited rich rule", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 80 if=eth0", want: Uncertain, line: 159, note: 159, possible: []Verdict{Accept, Reject}},
		// IPv6 passes firewalld's reverse-path check (fib … oif missing
		// drop), which depends on the guest's routes: the answer is
		// uncertain, and says why.
		{name: "IPv6 reverse-path check", file: f, packet: "in tcp 2001:db8::5 2001:db8::1 22 if=eth0", want: Uncertain, line: 78, note: 78, possible: []Verdict{Accept, Drop}},
		{name: "dhcpv6 is IPv6 only", file: f, packet: "in udp 203.0.113.5 10.0.0.5 546 if=eth0", want: Reject, line: 89},
		{name: "outbound by policy", file: f, packet: "out tcp 10.0.0.5 203.0.113.5 443 if=eth0", want: Accept},
		{name: "outbound to a 6to4 private range", file: f, packet: "out tcp 2001:db8::1 2002:c0a8::1 443 if=eth0", want: Reject, line: 107},
	})
}

func TestDecideDebianNft(t *testing.T) {
	const f = "debian.nft"
	runDecide(t, []decideRow{
		{name: "ssh", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 22", want: Accept, line: 9},
		{name: "ssh from a blocklisted network is dropped by the earlier table", file: f, packet: "in tcp 192.0.2.5 10.0.0.5 22", want: Drop, line: 33},
		{name: "blocklisted single address", file: f, packet: "in tcp 198.51.100.7 10.0.0.5 22", want: Drop, line: 33},
		// An accept ends only its base chain: the inet filter input chain
		// still decides.
		{name: "accept in one table does not end the hook", file: f, packet: "in tcp 10.9.9.9 10.0.0.5 3306", want: Drop},
		{name: "accept in both tables", file: f, packet: "in tcp 10.9.9.9 10.0.0.5 22", want: Accept, line: 9},
		{name: "dns in an anonymous set", file: f, packet: "in udp 203.0.113.5 10.0.0.5 53", want: Accept, line: 10},
		{name: "a port in a set range", file: f, packet: "in udp 203.0.113.5 10.0.0.5 5005", want: Accept, line: 10},
		{name: "closed port by policy", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306", want: Drop},
		{name: "established", file: f, packet: "in tcp 203.0.113.5 10.0.0.5 3306 est", want: Accept, line: 4},
		{name: "ping", file: f, packet: "in icmp 203.0.113.5 10.0.0.5 type=8", want: Accept, line: 8},
		{name: "icmpv6 by protocol", file: f, packet: "in icmpv6 2001:db8::5 2001:db8::1 type=135", want: Accept, line: 7},
		{name: "IPv6 ssh: the ip table does not see it", file: f, packet: "in tcp 2001:db8::5 2001:db8::1 22", want: Accept, line: 9},
		{name: "outbound smtp", file: f, packet: "out tcp 10.0.0.5 203.0.113.5 25", want: Reject, line: 20},
		{name: "outbound https", file: f, packet: "out tcp 10.0.0.5 203.0.113.5 443", want: Accept},
	})
}

// lineOf returns line n of a sample, trimmed.
func lineOf(t *testing.T, file string, n int) string {
	t.Helper()
	lines := strings.Split(string(mustRead(t, file)), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("%s has no line %d", file, n)
	}
	return strings.TrimSpace(lines[n-1])
}
