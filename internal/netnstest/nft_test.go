package netnstest

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// dropSSH drops new TCP connections to port 22 of instance 1 and counts
// what it lets through to port 80.
const dropSSH = `
table inet t {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		oifname "tap1" tcp dport 22 counter drop comment "ssh"
		oifname "tap1" tcp dport 80 counter accept comment "http"
		oifname "tap1" tcp dport 23 reject with icmpx admin-prohibited
		oifname "tap1" udp dport 24 reject
		oifname "tap1" meta l4proto { icmp, ipv6-icmp } drop
	}
}
`

func TestNftRulesetDropsSSHButNotHTTP(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	any6 := netip.IPv6Unspecified()
	Listen(t, i1.NS, netip.AddrPortFrom(any6, 22))
	http := Listen(t, i1.NS, netip.AddrPortFrom(any6, 80))
	if err := LoadNft(tp.Host, dropSSH); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []netip.Addr{i1.Addr4, i1.Addr6} {
		if got, err := DialTCP(i2.NS, netip.AddrPortFrom(dst, 22), 500*time.Millisecond); err != nil || got != TimedOut {
			t.Errorf("DialTCP(%v port 22) = %v, %v; want timed-out", dst, got, err)
		}
		if got, err := DialTCP(i2.NS, netip.AddrPortFrom(dst, 80), probeTimeout); err != nil || got != Reached {
			t.Errorf("DialTCP(%v port 80) = %v, %v; want reached", dst, got, err)
		}
		if got, err := DialTCP(i2.NS, netip.AddrPortFrom(dst, 23), probeTimeout); err != nil || got != Unreachable {
			t.Errorf("DialTCP(%v port 23) = %v, %v; want unreachable (rejected)", dst, got, err)
		}
		if got, err := UDPRoundTrip(i2.NS, netip.AddrPortFrom(dst, 24), []byte("x"), probeTimeout); err != nil || got != Refused {
			t.Errorf("UDPRoundTrip(%v port 24) = %v, %v; want refused (rejected)", dst, got, err)
		}
		if got, err := Ping(i2.NS, dst, 300*time.Millisecond); err != nil || got != TimedOut {
			t.Errorf("Ping(%v) = %v, %v; want timed-out (dropped)", dst, got, err)
		}
	}
	rs, err := NftJSON(tp.Host)
	if err != nil {
		t.Fatal(err)
	}
	ch := rs.Chain("inet", "t", "forward")
	if ch == nil {
		t.Fatalf("chain inet t forward not in the listed ruleset: %+v", rs.Chains)
	}
	got := map[string]uint64{}
	for _, r := range ch.Rules {
		if r.Comment != "" {
			got[r.Comment] = r.Packets()
		}
	}
	// Each refused SYN is retransmitted once or more within 500 ms, each
	// accepted connection counts only its SYN (the rest is established).
	if got["ssh"] < 2 || got["http"] != 2 {
		t.Errorf("counters = %v; want ssh >= 2 and http == 2", got)
	}
	if ch.Packets() != got["ssh"]+got["http"] {
		t.Errorf("chain packets = %d; want the sum of its counters %d", ch.Packets(), got["ssh"]+got["http"])
	}

	// The accepted connections are tracked in the host namespace.
	entries, err := Conntrack(tp.Host)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	for _, e := range entries {
		if e.Proto == "tcp" && e.Orig.DstPort == 80 {
			seen[e.Orig.Dst] = true
		}
	}
	if !seen[i1.Addr4] || !seen[i1.Addr6] {
		t.Errorf("conntrack entries %+v lack the port 80 connections to %v and %v", entries, i1.Addr4, i1.Addr6)
	}
	if len(http.Peers()) != 2 {
		t.Errorf("http server accepted %v; want 2 connections", http.Peers())
	}
}

func TestEstablishedConnectionSurvivesRuleChange(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	srv := Listen(t, i1.NS, netip.AddrPortFrom(i1.Addr4, 80))
	if err := LoadNft(tp.Host, dropSSH); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(i2.NS, srv.Addr(), probeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := c.RoundTrip([]byte("before"), probeTimeout); err != nil || got != Reached {
		t.Fatalf("RoundTrip before the change = %v, %v; want reached", got, err)
	}
	// Drop new connections to port 80 ahead of the accept rule.
	if err := LoadNft(tp.Host, `insert rule inet t forward position 0 oifname "tap1" tcp dport 80 ct state new drop`); err != nil {
		t.Fatal(err)
	}
	if got, err := c.RoundTrip([]byte("after"), probeTimeout); err != nil || got != Reached {
		t.Errorf("RoundTrip on the established connection = %v, %v; want reached", got, err)
	}
	if got, err := DialTCP(i2.NS, srv.Addr(), 500*time.Millisecond); err != nil || got != TimedOut {
		t.Errorf("DialTCP(%v) after the change = %v, %v; want timed-out", srv.Addr(), got, err)
	}
	// Without the established rule the connection's segments are dropped too.
	if err := LoadNft(tp.Host, "flush chain inet t forward\nadd rule inet t forward tcp dport 80 drop\nadd rule inet t forward tcp sport 80 drop\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.RoundTrip([]byte("dropped"), 500*time.Millisecond); err != nil || got != TimedOut {
		t.Errorf("RoundTrip with every segment dropped = %v, %v; want timed-out", got, err)
	}
}

func TestParseNftJSON(t *testing.T) {
	const listed = `{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
{"table": {"family": "inet", "name": "t", "handle": 1}},
{"counter": {"family": "inet", "name": "named1", "table": "t", "handle": 3, "packets": 4, "bytes": 400}},
{"map": {"family": "inet", "name": "m", "table": "t", "type": ["ipv4_addr", "inet_proto", "inet_service"], "handle": 4, "map": "verdict", "flags": ["interval"],
 "elem": [[{"elem": {"val": {"concat": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, "tcp", {"range": [23, 80]}]}, "counter": {"packets": 7, "bytes": 700}}}, {"jump": {"target": "p1"}}],
          [{"elem": {"val": {"concat": ["192.168.1.1", "udp", 53]}, "counter": {"packets": 0, "bytes": 0}}}, {"accept": null}]],
 "stmt": [{"counter": null}]}},
{"set": {"family": "inet", "name": "s", "table": "t", "type": "ipv4_addr", "handle": 5, "flags": ["interval"], "elem": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, "10.9.9.9"]}},
{"chain": {"family": "inet", "table": "t", "name": "p1", "handle": 1}},
{"chain": {"family": "inet", "table": "t", "name": "forward", "handle": 2, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
{"rule": {"family": "inet", "table": "t", "chain": "p1", "handle": 6, "expr": [{"counter": {"packets": 7, "bytes": 700}}, {"accept": null}]}},
{"rule": {"family": "inet", "table": "t", "chain": "forward", "handle": 7, "comment": "hello", "expr": [{"vmap": {"key": {"concat": []}, "data": "@m"}}]}},
{"rule": {"family": "inet", "table": "t", "chain": "forward", "handle": 8, "expr": [{"counter": "named1"}]}},
{"rule": {"family": "inet", "table": "t", "chain": "forward", "handle": 9, "expr": [{"counter": {"packets": 5, "bytes": 10}}, {"counter": {"packets": 1, "bytes": 1}}, {"drop": null}]}}]}`
	rs, err := ParseNftJSON([]byte(listed))
	if err != nil {
		t.Fatal(err)
	}
	fw := rs.Chain("inet", "t", "forward")
	if fw == nil || fw.Hook != "forward" || fw.Policy != "accept" || len(fw.Rules) != 3 {
		t.Fatalf("forward chain = %+v", fw)
	}
	if got := fw.Packets(); got != 6 {
		t.Errorf("forward Packets() = %d, want 6", got)
	}
	if got := fw.Rules[0].Comment; got != "hello" {
		t.Errorf("rule comment = %q, want hello", got)
	}
	if got := fw.Rules[1].CounterRefs; len(got) != 1 || got[0] != "named1" {
		t.Errorf("counter refs = %v, want [named1]", got)
	}
	if got := rs.Counters["inet t named1"]; got != (Counter{4, 400}) {
		t.Errorf("named counter = %+v", got)
	}
	if got := rs.Chain("inet", "t", "p1").Packets(); got != 7 {
		t.Errorf("p1 Packets() = %d, want 7", got)
	}
	m := rs.Set("inet", "t", "m")
	if m == nil || m.Map != "verdict" || len(m.Elements) != 2 {
		t.Fatalf("map m = %+v", m)
	}
	tests := []struct {
		name, key, value string
		packets          uint64
	}{
		{"prefix and range", "10.0.0.0/8 . tcp . 23-80", "jump p1", 7},
		{"single values", "192.168.1.1 . udp . 53", "accept", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := m.Element(tc.key)
			if !ok || e.Value != tc.value || e.Counter == nil || e.Counter.Packets != tc.packets {
				t.Errorf("Element(%q) = %+v, %v; want value %q, %d packets", tc.key, e, ok, tc.value, tc.packets)
			}
		})
	}
	s := rs.Set("inet", "t", "s")
	if s == nil || s.Map != "" || len(s.Elements) != 2 || s.Elements[0].Key != "10.0.0.0/8" || s.Elements[1].Key != "10.9.9.9" {
		t.Errorf("set s = %+v", s)
	}
}

func TestParseNftJSONRejectsUnreadableInput(t *testing.T) {
	tests := []struct{ name, in string }{
		{"not json", `nope`},
		{"no array", `{}`},
		{"counter without packets", `{"nftables": [{"chain": {"family": "inet", "table": "t", "name": "c"}}, {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 1, "expr": [{"counter": {"bytes": 1}}]}}]}`},
		{"rule of unknown chain", `{"nftables": [{"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 1, "expr": []}}]}`},
		{"unreadable element", `{"nftables": [{"set": {"family": "inet", "table": "t", "name": "s", "elem": [{"weird": 1}]}}]}`},
		{"map element not a pair", `{"nftables": [{"map": {"family": "inet", "table": "t", "name": "m", "map": "verdict", "elem": ["10.0.0.1"]}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rs, err := ParseNftJSON([]byte(tc.in)); err == nil {
				t.Errorf("ParseNftJSON(%s) = %+v, want an error", tc.in, rs)
			}
		})
	}
}

func TestParseConntrack(t *testing.T) {
	out := strings.Join([]string{
		"ipv4     2 tcp      6 431999 ESTABLISHED src=10.1.2.2 dst=10.1.1.2 sport=40000 dport=80 src=10.1.1.2 dst=10.1.2.2 sport=80 dport=40000 [ASSURED] mark=0 use=1",
		"ipv6     10 udp      17 29 src=fd00:1:2::2 dst=fd00:1:1::2 sport=5000 dport=53 [UNREPLIED] src=fd00:1:1::2 dst=fd00:1:2::2 sport=53 dport=5000 mark=0 zone=3 use=1",
		"ipv4     2 icmp     1 29 src=10.1.2.2 dst=10.1.1.2 type=8 code=0 id=77 src=10.1.1.2 dst=10.1.2.2 type=0 code=0 id=77 mark=0 use=1",
		"conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.",
	}, "\n")
	es, err := ParseConntrack(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("ParseConntrack: %d entries, want 3: %+v", len(es), es)
	}
	want := []struct {
		name        string
		proto       string
		state       string
		orig, reply ConntrackTuple
		flag        string
	}{
		{"tcp", "tcp", "ESTABLISHED",
			ConntrackTuple{Src: addr("10.1.2.2"), Dst: addr("10.1.1.2"), SrcPort: 40000, DstPort: 80},
			ConntrackTuple{Src: addr("10.1.1.2"), Dst: addr("10.1.2.2"), SrcPort: 80, DstPort: 40000}, "ASSURED"},
		{"udp", "udp", "",
			ConntrackTuple{Src: addr("fd00:1:2::2"), Dst: addr("fd00:1:1::2"), SrcPort: 5000, DstPort: 53},
			ConntrackTuple{Src: addr("fd00:1:1::2"), Dst: addr("fd00:1:2::2"), SrcPort: 53, DstPort: 5000}, "UNREPLIED"},
		{"icmp", "icmp", "",
			ConntrackTuple{Src: addr("10.1.2.2"), Dst: addr("10.1.1.2"), ICMPType: 8, ICMPID: 77},
			ConntrackTuple{Src: addr("10.1.1.2"), Dst: addr("10.1.2.2"), ICMPType: 0, ICMPID: 77}, ""},
	}
	for i, w := range want {
		t.Run(w.name, func(t *testing.T) {
			e := es[i]
			if e.Proto != w.proto || e.State != w.state || e.Orig != w.orig || e.Reply != w.reply {
				t.Errorf("entry = %+v; want proto %s state %q orig %+v reply %+v", e, w.proto, w.state, w.orig, w.reply)
			}
			if w.flag != "" && (len(e.Flags) != 1 || e.Flags[0] != w.flag) {
				t.Errorf("flags = %v, want [%s]", e.Flags, w.flag)
			}
		})
	}
	if es[1].Fields["zone"] != "3" || es[0].Family != "ipv4" || es[1].Family != "ipv6" {
		t.Errorf("fields = %v, families %s %s", es[1].Fields, es[0].Family, es[1].Family)
	}
	for _, bad := range []string{"ipv4 2 tcp 6 notanumber src=1.2.3.4", "ipv4 2 tcp 6 10 src=1.2.3.999 dst=1.2.3.4", "ipv4 2 tcp 6 10 ESTABLISHED bogus"} {
		if es, err := ParseConntrack(bad); err == nil {
			t.Errorf("ParseConntrack(%q) = %+v, want an error", bad, es)
		}
	}
}

func TestIptablesSaveInNamespace(t *testing.T) {
	t.Parallel()
	tp := New(t, Options{})
	if _, err := Exec(tp.Host, "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "2222", "-j", "DROP"); err != nil {
		t.Fatal(err)
	}
	out, err := IptablesSave(tp.Host)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-A FORWARD -p tcp -m tcp --dport 2222 -j DROP"; !strings.Contains(out, want) {
		t.Errorf("IptablesSave = %q; want it to contain %q", out, want)
	}
}
