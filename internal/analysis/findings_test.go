package analysis_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

func mustPol(tb testing.TB, s string) *policy.Policy {
	tb.Helper()
	p, err := policy.ParsePolicy(s)
	if err != nil {
		tb.Fatalf("ParsePolicy(%q): %v", s, err)
	}
	return &p
}

// parsePol is mustPol outside a test's goroutine: it panics.
func parsePol(s string) *policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return &p
}

// groupList builds the list of direction d of group gid from policies
// written as policy.ParsePolicy reads them (CIDR peers only).
func groupList(tb testing.TB, d policy.Direction, gid string, policies ...string) rules.List {
	tb.Helper()
	l := rules.List{Direction: d}
	for i, s := range policies {
		e, err := rules.PolicyEntry(d, gid, i, mustPol(tb, s), nil, rules.Addresses{})
		if err != nil {
			tb.Fatal(err)
		}
		l.Entries = append(l.Entries, e)
	}
	return l
}

// kinds returns "KIND@index" of each finding, in order.
func kinds(fs []analysis.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s@%d", f.Kind, f.PolicyIndex)
	}
	return out
}

func findings(tb testing.TB, in analysis.Input) []analysis.Finding {
	tb.Helper()
	if in.Ingress.Direction == 0 {
		in.Ingress.Direction = policy.Ingress
	}
	if in.Egress.Direction == 0 {
		in.Egress.Direction = policy.Egress
	}
	fs, err := analysis.Findings(in)
	if err != nil {
		tb.Fatalf("Findings: %v", err)
	}
	return fs
}

// TestGroupFindings checks the findings about one group's lists.
func TestGroupFindings(t *testing.T) {
	const sg = "sg-aaaaaaaa"
	tests := []struct {
		name            string
		ingress, egress []string
		blocked         bool
		want            []string          // KIND@index in order
		message         map[string]string // KIND@index: the message contains
		policies        map[string]string // KIND@index: the policies named, as PolicyRef strings joined by "; "
	}{
		{name: "nothing to say", ingress: []string{"ACCEPT TCP 80,443 0.0.0.0/0", "ACCEPT TCP 22 10.0.0.0/8"}},
		{name: "redundant by one wider accept", ingress: []string{"ACCEPT TCP ALL 10.0.0.0/8", "ACCEPT TCP 22 10.1.0.0/16"},
			want:     []string{"REDUNDANT@1"},
			policies: map[string]string{"REDUNDANT@1": sg + " policy 1 (ACCEPT); " + sg + " policy 0 (ACCEPT)"}},
		{name: "shadowed by a drop", ingress: []string{"DROP ALL ALL 0.0.0.0/0", "ACCEPT TCP 22 10.0.0.0/8"},
			want:    []string{"SHADOWED@1"},
			message: map[string]string{"SHADOWED@1": "with the other action (DROP)"}},
		{name: "covered by two policies of both actions", ingress: []string{"DROP TCP 22 10.0.0.0/9", "ACCEPT TCP 22 10.128.0.0/9", "ACCEPT TCP 22 10.0.0.0/8"},
			want:     []string{"SHADOWED@2"},
			message:  map[string]string{"SHADOWED@2": "and " + sg + " policy 1 (ACCEPT) with its own (ACCEPT)"},
			policies: map[string]string{"SHADOWED@2": sg + " policy 2 (ACCEPT); " + sg + " policy 0 (DROP); " + sg + " policy 1 (ACCEPT)"}},
		{name: "covered by two halves, same action", ingress: []string{"ACCEPT TCP 8000-8100 10.0.0.0/8", "ACCEPT TCP 8101-8200 10.0.0.0/8", "ACCEPT TCP 8050-8150 10.2.0.0/16"},
			want: []string{"REDUNDANT@2"}},
		{name: "partly covered is not reported", ingress: []string{"DROP TCP 22 10.0.0.0/9", "ACCEPT TCP 22 10.0.0.0/8"}},
		{name: "partly covered in ports is not reported", ingress: []string{"ACCEPT TCP 8000-8100 10.0.0.0/8", "ACCEPT TCP 8100-8101 10.0.0.0/8"}},
		{name: "other family does not cover", ingress: []string{"DROP ALL ALL ::/0", "ACCEPT TCP 22 10.0.0.0/8"}},
		{name: "ICMP does not cover TCP", ingress: []string{"DROP ICMP ALL 0.0.0.0/0", "ACCEPT TCP 22 10.0.0.0/8"}},
		{name: "exposed ssh", ingress: []string{"ACCEPT TCP 22 0.0.0.0/0"}, want: []string{"EXPOSED_PORT@0"},
			message: map[string]string{"EXPOSED_PORT@0": "port(s) 22 "}},
		{name: "exposed through ALL ALL", ingress: []string{"ACCEPT ALL ALL ::/0"}, want: []string{"EXPOSED_PORT@0"},
			message: map[string]string{"EXPOSED_PORT@0": "port(s) 22,3389,3306,1433,6379,5432,27017,9200,11211,23,445,2375 "}},
		{name: "exposed through a range, except what a drop takes", ingress: []string{"DROP TCP 22 0.0.0.0/0", "ACCEPT TCP 1-5000 0.0.0.0/0"},
			want:    []string{"EXPOSED_PORT@1", "ISP_BLOCKED_PORT@1"},
			message: map[string]string{"EXPOSED_PORT@1": "port(s) 3389,3306,1433,23,445,2375 "}},
		{name: "not exposed when shadowed for the port", ingress: []string{"DROP TCP 22 0.0.0.0/0", "ACCEPT TCP 22,80 0.0.0.0/0"}},
		{name: "not exposed from a network", ingress: []string{"ACCEPT TCP 22 10.0.0.0/8"}},
		{name: "not exposed outbound", egress: []string{"ACCEPT TCP 22 0.0.0.0/0"}},
		{name: "ISP-blocked port", ingress: []string{"ACCEPT TCP 445 10.0.0.0/8"}, want: []string{"ISP_BLOCKED_PORT@0"}},
		{name: "port 25 blocked", egress: []string{"ACCEPT TCP 25 0.0.0.0/0"}, blocked: true, want: []string{"PORT25_BLOCKED@0"}},
		{name: "port 25 unblocked", egress: []string{"ACCEPT TCP 25 0.0.0.0/0"}},
		{name: "widened CIDR", ingress: []string{"ACCEPT TCP 80 0.0.0.0/8"}, want: []string{"WIDENED_CIDR@0"}},
		{name: "both directions, ingress first", ingress: []string{"ACCEPT TCP 80 1.2.3.0/24", "ACCEPT TCP 80 1.2.3.4"},
			egress: []string{"ACCEPT ALL ALL 0.0.0.0/0", "DROP UDP 53 0.0.0.0/0"},
			want:   []string{"REDUNDANT@1", "SHADOWED@1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := findings(t, analysis.Input{
				Ingress:       groupList(t, policy.Ingress, sg, tt.ingress...),
				Egress:        groupList(t, policy.Egress, sg, tt.egress...),
				Port25Blocked: tt.blocked,
			})
			if got := kinds(fs); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("Findings = %v, want %v\n%v", got, tt.want, fs)
			}
			for _, f := range fs {
				k := fmt.Sprintf("%s@%d", f.Kind, f.PolicyIndex)
				if f.SecurityGroupID != sg || f.InstanceID != "" || !f.Severity.Valid() || f.Message == "" {
					t.Errorf("%s: finding %+v, want group %s, no instance, a severity and a message", k, f, sg)
				}
				if want, ok := tt.message[k]; ok && !strings.Contains(f.Message, want) {
					t.Errorf("%s: message %q, want it to contain %q", k, f.Message, want)
				}
				if want, ok := tt.policies[k]; ok {
					var got []string
					for _, r := range f.Policies {
						got = append(got, r.String())
					}
					if strings.Join(got, "; ") != want {
						t.Errorf("%s: policies %q, want %q", k, strings.Join(got, "; "), want)
					}
				}
			}
		})
	}
}

// instanceLists builds an instance's lists: the platform rules, then the
// groups in order, each written as "sg-…: POLICY; POLICY".
func instanceLists(tb testing.TB, d policy.Direction, blocked bool, platform []netip.Prefix, groups ...string) rules.List {
	tb.Helper()
	es, err := rules.Platform(d, blocked, platform)
	if err != nil {
		tb.Fatal(err)
	}
	l := rules.List{Direction: d, Entries: es}
	for _, g := range groups {
		id, body, _ := strings.Cut(g, ": ")
		var ps []string
		if body != "" {
			ps = strings.Split(body, "; ")
		}
		l.Entries = append(l.Entries, groupList(tb, d, id, ps...).Entries...)
	}
	return l
}

// TestInstanceFindings checks the findings about an instance's effective
// lists: across groups, against platform rules, and about the instance as
// a whole.
func TestInstanceFindings(t *testing.T) {
	const ins = "ins-aaaaaaaa"
	open := "sg-open0000: ACCEPT ALL ALL 0.0.0.0/0"
	tests := []struct {
		name            string
		os              string
		blocked         bool
		platform        []string
		ingress, egress []string
		want            []string
		policies        map[string]string
	}{
		{name: "a login, ping and outbound", os: "linux",
			ingress: []string{"sg-web00000: ACCEPT TCP 22 10.0.0.0/8; ACCEPT ICMP ALL 10.0.0.0/8"}, egress: []string{open}},
		{name: "nothing at all", os: "linux", want: []string{"NO_LOGIN_PORT@-1", "NO_PING@-1", "NO_EGRESS@-1"}},
		{name: "windows needs 3389", os: "windows",
			ingress: []string{"sg-web00000: ACCEPT TCP 22 10.0.0.0/8; ACCEPT ICMPv6 ALL ::/0"}, egress: []string{open},
			want: []string{"NO_LOGIN_PORT@-1"}},
		{name: "login dropped by an earlier group", os: "linux",
			ingress: []string{"sg-deny0000: DROP TCP 22 0.0.0.0/0; DROP TCP 22 ::/0", "sg-web00000: ACCEPT TCP 22 10.0.0.0/8; ACCEPT ICMP ALL 10.0.0.0/8"},
			egress:  []string{open},
			want:    []string{"SHADOWED@0", "NO_LOGIN_PORT@-1"},
			policies: map[string]string{
				"SHADOWED@0": "sg-web00000 policy 0 (ACCEPT); sg-deny0000 policy 0 (DROP)",
			}},
		{name: "platform addresses do not count as egress", os: "linux", platform: []string{"169.254.0.0/16"},
			ingress: []string{"sg-web00000: ACCEPT TCP 22 10.0.0.0/8; ACCEPT ICMP ALL 10.0.0.0/8"},
			want:    []string{"NO_EGRESS@-1"}},
		{name: "a policy covered by a platform address", os: "linux", platform: []string{"169.254.0.0/16"},
			ingress: []string{"sg-web00000: ACCEPT TCP 22 169.254.1.0/24; ACCEPT TCP 22 10.0.0.0/8; ACCEPT ICMP ALL 10.0.0.0/8"}, egress: []string{open},
			want:     []string{"REDUNDANT@0"},
			policies: map[string]string{"REDUNDANT@0": "sg-web00000 policy 0 (ACCEPT); platform rule PLATFORM_ADDRESS (ACCEPT)"}},
		{name: "outbound 25 under the platform block", os: "linux", blocked: true,
			ingress: []string{"sg-web00000: ACCEPT TCP 22 10.0.0.0/8; ACCEPT ICMP ALL 10.0.0.0/8"},
			egress:  []string{"sg-mail0000: ACCEPT TCP 25 0.0.0.0/0", "sg-open0000: ACCEPT TCP 80,443 0.0.0.0/0"},
			want:    []string{"SHADOWED@0", "PORT25_BLOCKED@0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var plat []netip.Prefix
			for _, p := range tt.platform {
				plat = append(plat, netip.MustParsePrefix(p))
			}
			fs := findings(t, analysis.Input{
				InstanceID: ins, OSType: tt.os, Port25Blocked: tt.blocked,
				Ingress: instanceLists(t, policy.Ingress, tt.blocked, plat, tt.ingress...),
				Egress:  instanceLists(t, policy.Egress, tt.blocked, plat, tt.egress...),
			})
			if got := kinds(fs); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("Findings = %v, want %v\n%v", got, tt.want, fs)
			}
			for _, f := range fs {
				k := fmt.Sprintf("%s@%d", f.Kind, f.PolicyIndex)
				if f.InstanceID != ins {
					t.Errorf("%s: InstanceID %q, want %s", k, f.InstanceID, ins)
				}
				if f.PolicyIndex < 0 && !strings.Contains(f.Message, "add ") {
					t.Errorf("%s: message %q does not say how to fix it", k, f.Message)
				}
				if want, ok := tt.policies[k]; ok {
					var got []string
					for _, r := range f.Policies {
						got = append(got, r.String())
					}
					if strings.Join(got, "; ") != want {
						t.Errorf("%s: policies %q, want %q", k, strings.Join(got, "; "), want)
					}
				}
			}
		})
	}
}

// TestUnresolvedFindings: a policy whose match space is unknown is
// reported as such and covers nothing; its own ports are still checked.
func TestUnresolvedFindings(t *testing.T) {
	const sg = "sg-aaaaaaaa"
	ref := mustPol(t, "ACCEPT TCP 445 ipm-aaaaaaaa")
	l := groupList(t, policy.Ingress, sg, "ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 22 10.1.0.0/16")
	// Policy 1 is the reference, left out; the list's second policy is index 2.
	l.Entries[1].Origin.PolicyIndex = 2
	fs := findings(t, analysis.Input{Ingress: l, Unresolved: []analysis.Unresolved{{GroupID: sg, Direction: policy.Ingress, PolicyIndex: 1, Policy: ref, Reason: "address template ipm-aaaaaaaa cannot be resolved offline"}}})
	want := []string{"UNRESOLVED@1", "ISP_BLOCKED_PORT@1", "REDUNDANT@2"}
	if got := kinds(fs); !slices.Equal(got, want) {
		t.Fatalf("Findings = %v, want %v", got, want)
	}
	if fs[0].Severity != analysis.SeverityInfo || !strings.Contains(fs[0].Message, "cannot be resolved offline") {
		t.Errorf("unresolved finding %+v, want INFO naming the reason", fs[0])
	}
}

// TestMatchesNothing: a policy whose match space is empty is reported as
// such, not as covered.
func TestMatchesNothing(t *testing.T) {
	const sg = "sg-aaaaaaaa"
	icmp6 := []rules.Service{{Protocol: policy.ICMPv6, Ports: policy.AllPorts()}}
	tmpl, err := rules.PolicyEntry(policy.Ingress, sg, 0, mustPol(t, "ACCEPT ppm-aaaaaaaa 10.0.0.0/8"), icmp6, rules.Addresses{})
	if err != nil {
		t.Fatal(err)
	}
	var none netipx.IPSetBuilder
	addrs, err := rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: "sg-bbbbbbbb"}, &none)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := rules.PolicyEntry(policy.Ingress, sg, 1, mustPol(t, "ACCEPT TCP 80 sg-bbbbbbbb"), nil, addrs)
	if err != nil {
		t.Fatal(err)
	}
	fs := findings(t, analysis.Input{Ingress: rules.List{Direction: policy.Ingress, Entries: []rules.Entry{tmpl, ref}}})
	if got, want := kinds(fs), []string{"MATCHES_NOTHING@0", "MATCHES_NOTHING@1"}; !slices.Equal(got, want) {
		t.Fatalf("Findings = %v, want %v", got, want)
	}
	if !strings.Contains(fs[1].Message, "group sg-bbbbbbbb has no instance address") {
		t.Errorf("message %q, want the empty group named", fs[1].Message)
	}
}

// TestSeverity checks the severities' order and text.
func TestSeverity(t *testing.T) {
	for _, s := range []string{"high", "MEDIUM", "Low", "info"} {
		v, err := analysis.ParseSeverity(s)
		if err != nil || !strings.EqualFold(v.String(), s) {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, v, err)
		}
	}
	if _, err := analysis.ParseSeverity("critical"); err == nil {
		t.Error("ParseSeverity(critical) succeeded")
	}
	if !(analysis.SeverityHigh > analysis.SeverityMedium && analysis.SeverityMedium > analysis.SeverityLow && analysis.SeverityLow > analysis.SeverityInfo) {
		t.Error("severities out of order")
	}
}

// The pools random lists are drawn from: few values, many overlaps.
var (
	poolV4     = []string{"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "192.168.0.0/16"}
	poolV6     = []string{"::/0", "2001:db8::/32", "2001:db8::/33", "2001:db8:8000::/33", "2001:db8:1::/48"}
	poolRanges = []string{"10.0.0.5-10.1.2.3", "10.1.2.4-10.200.0.0", "2001:db8::5-2001:db8:1::9"}
	poolPorts  = []string{"ALL", "22", "80", "22,80", "20-30", "1-1024", "1000-3389", "3306", "25", "80-90,443"}
	poolProto  = []string{"TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"}
)

// randomList returns a random list of direction d: maybe platform rules,
// then up to three groups of policies with CIDR peers, reference-like
// address sets and service templates.
func randomList(rng *rand.Rand, d policy.Direction, n int) rules.List {
	pick := func(pool []string) string { return pool[rng.IntN(len(pool))] }
	l := rules.List{Direction: d}
	if rng.IntN(3) == 0 {
		var plat []netip.Prefix
		for range rng.IntN(2) {
			plat = append(plat, netip.MustParsePrefix(pick(append(poolV4, poolV6...))))
		}
		es, err := rules.Platform(d, rng.IntN(2) == 0, plat)
		if err != nil {
			panic(err)
		}
		l.Entries = append(l.Entries, es...)
	}
	groups := []string{"sg-aaaaaaaa", "sg-bbbbbbbb", "sg-cccccccc"}[:1+rng.IntN(3)]
	index := map[string]int{}
	for i := range n {
		gid := groups[min(i*len(groups)/max(n, 1), len(groups)-1)]
		action := []string{"ACCEPT", "DROP"}[rng.IntN(2)]
		proto := pick(poolProto)
		ports := "ALL"
		if proto == "TCP" || proto == "UDP" {
			ports = pick(poolPorts)
		}
		var (
			p     *policy.Policy
			svcs  []rules.Service
			addrs rules.Addresses
		)
		switch rng.IntN(5) {
		case 0:
			p = parsePol(fmt.Sprintf("%s %s %s sg-r%07d", action, proto, ports, i))
			var b netipx.IPSetBuilder
			for range rng.IntN(3) {
				switch rng.IntN(3) {
				case 0:
					b.AddRange(netipx.MustParseIPRange(pick(poolRanges)))
				case 1:
					b.AddPrefix(netip.MustParsePrefix(pick(poolV4)))
				default:
					b.AddPrefix(netip.MustParsePrefix(pick(poolV6)))
				}
			}
			var err error
			if addrs, err = rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: p.Peer.ID}, &b); err != nil {
				panic(err)
			}
		case 1:
			peer := pick(poolV4)
			if rng.IntN(2) == 0 {
				peer = pick(poolV6)
			}
			p = parsePol(fmt.Sprintf("%s ppm-s%07d %s", action, i, peer))
			for range 1 + rng.IntN(3) {
				pr := policy.MustParseProtocol(pick(poolProto))
				ps := policy.AllPorts()
				if pr.HasPorts() {
					ps = policy.MustParsePortSet(pick(poolPorts))
				}
				svcs = append(svcs, rules.Service{Protocol: pr, Ports: ps})
			}
		default:
			peer := pick(poolV4)
			if proto == "ICMPv6" || proto != "ICMP" && rng.IntN(2) == 0 {
				peer = pick(poolV6)
			}
			p = parsePol(fmt.Sprintf("%s %s %s %s", action, proto, ports, peer))
		}
		e, err := rules.PolicyEntry(d, gid, index[gid], p, svcs, addrs)
		if err != nil {
			panic(err)
		}
		index[gid]++
		l.Entries = append(l.Entries, e)
	}
	return l
}

// packet is one representative of a cell of the universe.
type packet struct {
	addr  netip.Addr
	proto uint8
	port  uint16
}

// cells returns one packet of every cell of the partition of the packet
// space that the list's own boundaries cut: per family, every address
// where some entry's set starts or ends (plus one), the family's first
// address; the protocols TCP and UDP with every port where a port range
// starts or ends (plus one), the sensitive ports and port 0; and the
// other protocols some entry names plus one that none does. Within a cell
// every entry matches every packet or none, so that the cells decide
// coverage exactly.
func cells(l rules.List) []packet {
	var addrs []netip.Addr
	addrs = append(addrs, netip.IPv4Unspecified(), netip.IPv6Unspecified())
	ports := []uint16{0}
	for _, p := range catalog.SensitivePorts() {
		ports = append(ports, p, p+1)
	}
	for i := range l.Entries {
		e := &l.Entries[i]
		for _, s := range []*netipx.IPSet{e.V4, e.V6} {
			if s == nil {
				continue
			}
			for _, r := range s.Ranges() {
				addrs = append(addrs, r.From())
				if n := r.To().Next(); n.IsValid() && n.Is4() == r.To().Is4() {
					addrs = append(addrs, n)
				}
			}
		}
		for _, s := range e.Services {
			if s.Protocol.HasPorts() && !s.Ports.All() {
				for _, r := range s.Ports.Ranges() {
					ports = append(ports, r.Lo)
					if r.Hi < 65535 {
						ports = append(ports, r.Hi+1)
					}
				}
			}
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	slices.Sort(ports)
	ports = slices.Compact(ports)
	var out []packet
	for _, a := range addrs {
		for _, proto := range []uint8{policy.NumTCP, policy.NumUDP} {
			for _, port := range ports {
				out = append(out, packet{a, proto, port})
			}
		}
		for _, proto := range []uint8{policy.NumICMP, policy.NumGRE, policy.NumICMPv6, 200} {
			out = append(out, packet{a, proto, 0})
		}
	}
	return out
}

// matches is the naive matcher: whether entry e matches packet k.
func matches(e *rules.Entry, k packet) bool {
	set := e.V4
	if k.addr.Is6() {
		set = e.V6
	}
	if set == nil || !set.Contains(k.addr) {
		return false
	}
	for _, s := range e.Services {
		if !s.Protocol.Matches(k.proto, k.addr.Is6()) {
			continue
		}
		if k.proto != policy.NumTCP && k.proto != policy.NumUDP || s.Protocol == policy.AnyProtocol || s.Ports.All() || s.Ports.Contains(k.port) {
			return true
		}
	}
	return false
}

// want is what brute force over the cells says of an entry: whether it
// matches any packet, whether it decides any, and, when it decides none,
// the entries deciding the packets it matches.
type want struct {
	matches, decides bool
	coverers         []int
	exposed          []uint16
}

func bruteForce(l rules.List) []want {
	out := make([]want, len(l.Entries))
	cs := make(map[int]map[int]bool, len(l.Entries))
	exposed := make([]map[uint16]bool, len(l.Entries))
	for _, k := range cells(l) {
		first := -1
		for i := range l.Entries {
			if !matches(&l.Entries[i], k) {
				continue
			}
			out[i].matches = true
			if first < 0 {
				first = i
				out[i].decides = true
				e := &l.Entries[i]
				all := netip.MustParsePrefix("0.0.0.0/0")
				set := e.V4
				if k.addr.Is6() {
					all, set = netip.MustParsePrefix("::/0"), e.V6
				}
				if l.Direction == policy.Ingress && e.Action == policy.Accept && e.Origin.Layer == rules.LayerSecurityGroup &&
					k.proto == policy.NumTCP && set.ContainsPrefix(all) && slices.Contains(catalog.SensitivePorts(), k.port) {
					if exposed[i] == nil {
						exposed[i] = map[uint16]bool{}
					}
					exposed[i][k.port] = true
				}
			}
			if cs[i] == nil {
				cs[i] = map[int]bool{}
			}
			cs[i][first] = true
		}
	}
	for i := range out {
		if !out[i].decides {
			for c := range cs[i] {
				out[i].coverers = append(out[i].coverers, c)
			}
			slices.Sort(out[i].coverers)
		}
		for _, p := range catalog.SensitivePorts() {
			if exposed[i][p] {
				out[i].exposed = append(out[i].exposed, p)
			}
		}
	}
	return out
}

// TestFindingsMatchBruteForce is the property test: over thousands of
// random lists, a policy is reported SHADOWED or REDUNDANT if and only if
// no packet of the exact universe is decided by it while some packet is
// matched by it, with the brute force's covering entries and kind; it is
// MATCHES_NOTHING if and only if it matches no packet; EXPOSED_PORT names
// exactly the sensitive ports it decides from the whole of a family.
func TestFindingsMatchBruteForce(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 500
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := range n {
		d := []policy.Direction{policy.Ingress, policy.Egress}[iter%2]
		l := randomList(rng, d, 1+rng.IntN(10))
		in := analysis.Input{Ingress: rules.List{Direction: policy.Ingress}, Egress: rules.List{Direction: policy.Egress}}
		if d == policy.Ingress {
			in.Ingress = l
		} else {
			in.Egress = l
		}
		fs := findings(t, in)
		byEntry := map[[2]any]map[analysis.Kind]analysis.Finding{}
		for _, f := range fs {
			key := [2]any{f.SecurityGroupID, f.PolicyIndex}
			if byEntry[key] == nil {
				byEntry[key] = map[analysis.Kind]analysis.Finding{}
			}
			byEntry[key][f.Kind] = f
		}
		bf := bruteForce(l)
		for i := range l.Entries {
			e := &l.Entries[i]
			if e.Origin.Layer != rules.LayerSecurityGroup {
				continue
			}
			got := byEntry[[2]any{e.Origin.GroupID, e.Origin.PolicyIndex}]
			w := bf[i]
			fail := func(format string, args ...any) {
				t.Helper()
				var lines []string
				for j := range l.Entries {
					lines = append(lines, fmt.Sprintf("  %d: %s", j, l.Entries[j].Describe()))
				}
				t.Fatalf("list %d entry %d (%s): %s\n%s\nfindings: %v", iter, i, e.Describe(), fmt.Sprintf(format, args...), strings.Join(lines, "\n"), kinds(fs))
			}
			_, nothing := got[analysis.KindMatchesNothing]
			if nothing != !w.matches {
				fail("MATCHES_NOTHING reported %v, brute force matches %v", nothing, w.matches)
			}
			sh, isSh := got[analysis.KindShadowed]
			rd, isRd := got[analysis.KindRedundant]
			covered := w.matches && !w.decides
			if (isSh || isRd) != covered {
				fail("SHADOWED %v REDUNDANT %v, brute force covered %v", isSh, isRd, covered)
			}
			if covered {
				other := false
				for _, c := range w.coverers {
					other = other || l.Entries[c].Action != e.Action
				}
				f := rd
				if other {
					f = sh
				}
				if isSh != other || isRd == other {
					fail("SHADOWED %v REDUNDANT %v, brute force coverers %v (other action: %v)", isSh, isRd, w.coverers, other)
				}
				var refs []string
				for _, c := range w.coverers {
					ce := &l.Entries[c]
					refs = append(refs, analysis.PolicyRef{SecurityGroupID: ce.Origin.GroupID, PolicyIndex: ce.Origin.PolicyIndex, Platform: ce.Origin.Platform, Action: ce.Action}.String())
				}
				var gotRefs []string
				for _, r := range f.Policies[1:] {
					gotRefs = append(gotRefs, r.String())
				}
				if !slices.Equal(gotRefs, refs) {
					fail("covering policies %v, brute force %v", gotRefs, refs)
				}
			}
			var gotExposed string
			if f, ok := got[analysis.KindExposedPort]; ok {
				gotExposed = f.Message
			}
			if len(w.exposed) == 0 && gotExposed != "" || len(w.exposed) > 0 && !strings.Contains(gotExposed, "port(s) "+joinPorts(w.exposed)+" ") {
				fail("EXPOSED_PORT %q, brute force exposes %v", gotExposed, w.exposed)
			}
		}
	}
}

func joinPorts(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ",")
}
