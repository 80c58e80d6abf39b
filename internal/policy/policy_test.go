package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProtocol(t *testing.T) {
	tests := []struct {
		in   string
		want Protocol
		err  bool
	}{
		{"TCP", TCP, false}, {"tcp", TCP, false}, {" udp ", UDP, false}, {"icmp", ICMP, false},
		{"ICMPV6", ICMPv6, false}, {"icmpv6", ICMPv6, false}, {"gre", GRE, false}, {"all", AnyProtocol, false},
		{"", 0, true}, {"SCTP", 0, true}, {"6", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseProtocol(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseProtocol(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil {
			if back := MustParseProtocol(got.String()); back != got {
				t.Errorf("round trip %v -> %v", got, back)
			}
		}
	}
	if ICMPv6.String() != "ICMPv6" || AnyProtocol.String() != "ALL" {
		t.Errorf("canonical names: %v %v", ICMPv6, AnyProtocol)
	}
}

func TestParsePortSet(t *testing.T) {
	tests := []struct {
		name, in, want string
		kind           ErrorKind
	}{
		{"all", "all", "ALL", 0},
		{"single", "22", "22", 0},
		{"range", "8000-8080", "8000-8080", 0},
		{"list", "80,443,8000-8010", "80,443,8000-8010", 0},
		{"spaces", " 80 , 443 ", "80,443", 0},
		{"degenerate range", "22-22", "22", 0},
		{"max", "65535", "65535", 0},
		{"empty", "", "", Missing},
		{"zero", "0", "", OutOfRange},
		{"too big", "70000", "", OutOfRange},
		{"reversed", "8080-8000", "", OutOfRange},
		{"empty item", "80,,443", "", Malformed},
		{"trailing comma", "80,", "", Malformed},
		{"letters", "http", "", Malformed},
		{"negative", "-5", "", Malformed},
		{"half range", "80-", "", Malformed},
		{"sign", "+80", "", Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePortSet(tt.in)
			if tt.kind != 0 {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Kind != tt.kind || fe.Field != "Port" || fe.Value != tt.in {
					t.Fatalf("ParsePortSet(%q) err = %v, want %v naming Port and the value", tt.in, err, tt.kind)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("ParsePortSet(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPortSetRangesAndContains(t *testing.T) {
	p := MustParsePortSet("443,80-90,85-100,101")
	got := p.Ranges()
	want := []PortRange{{80, 101}, {443, 443}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Ranges() = %v, want %v", got, want)
	}
	for port, in := range map[uint16]bool{79: false, 80: true, 101: true, 102: false, 443: true, 444: false} {
		if p.Contains(port) != in {
			t.Errorf("Contains(%d) = %v, want %v", port, !in, in)
		}
	}
}

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		field, in, want string
		err             bool
	}{
		{"CidrBlock", "10.0.0.0/8", "10.0.0.0/8", false},
		{"CidrBlock", "10.1.2.3/8", "10.1.2.3/8", false},
		{"CidrBlock", " 8.8.8.8 ", "8.8.8.8", false},
		{"CidrBlock", "8.8.8.8/32", "8.8.8.8/32", false},
		{"CidrBlock", "0.0.0.0/8", "0.0.0.0/0", false},
		{"CidrBlock", "::/0", "", true},
		{"CidrBlock", "10.0.0.0/33", "", true},
		{"CidrBlock", "10.0.0", "", true},
		{"Ipv6CidrBlock", "::/0", "::/0", false},
		{"Ipv6CidrBlock", "2001:db8::1/32", "2001:db8::1/32", false},
		{"Ipv6CidrBlock", "2001:DB8::/32", "2001:DB8::/32", false},
		{"Ipv6CidrBlock", "::/64", "::/0", false},
		{"Ipv6CidrBlock", "2001:db8::1", "2001:db8::1", false},
		{"Ipv6CidrBlock", "10.0.0.0/8", "", true},
		{"Ipv6CidrBlock", "::ffff:10.0.0.1", "", true},
		{"Ipv6CidrBlock", "fe80::1%eth0", "", true},
	}
	for _, tt := range tests {
		parse := ParseCIDR
		if tt.field == "Ipv6CidrBlock" {
			parse = ParseCIDR6
		}
		got, err := parse(tt.in)
		if tt.err {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Value != tt.in {
				t.Errorf("%s %q: err = %v, want a FieldError naming field and value", tt.field, tt.in, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%s %q = %q, %v; want %q", tt.field, tt.in, got, err, tt.want)
		}
	}
}

func TestPeerNormalisedButEchoedAsWritten(t *testing.T) {
	tests := []struct{ a, b, canonical string }{
		{"8.8.8.8", "8.8.8.8/32", "8.8.8.8"},
		{"10.1.2.3/8", "10.0.0.0/8", "10.0.0.0/8"},
		{"0.0.0.0/8", "0.0.0.0/0", "0.0.0.0/0"},
	}
	for _, tt := range tests {
		a, b := MustParseCIDR(tt.a), MustParseCIDR(tt.b)
		if !a.Equal(b) || a.Canonical() != tt.canonical || b.Canonical() != tt.canonical {
			t.Errorf("%q and %q: Equal = %v, Canonical = %q, %q; want equal, %q", tt.a, tt.b, a.Equal(b), a.Canonical(), b.Canonical(), tt.canonical)
		}
	}
	p := MustParsePolicy("ACCEPT TCP 22 8.8.8.8/32")
	q := MustParsePolicy("ACCEPT TCP 22 8.8.8.8")
	if !p.SameRule(q) || p.Raw().CidrBlock != "8.8.8.8/32" || q.Raw().CidrBlock != "8.8.8.8" {
		t.Errorf("SameRule = %v, echoes %q and %q", p.SameRule(q), p.Raw().CidrBlock, q.Raw().CidrBlock)
	}
}

func MustParseCIDR(s string) Peer {
	p, err := ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return p
}

func MustParsePolicy(s string) Policy {
	p, err := ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

func TestParseRawErrors(t *testing.T) {
	base := Raw{Protocol: "TCP", Port: "22", CidrBlock: "0.0.0.0/0", Action: "ACCEPT"}
	tests := []struct {
		name  string
		edit  func(*Raw)
		field string
		kind  ErrorKind
	}{
		{"bad protocol", func(r *Raw) { r.Protocol = "SCTP" }, "Protocol", Malformed},
		{"port without protocol", func(r *Raw) { r.Protocol = "" }, "Protocol", Missing},
		{"bad port", func(r *Raw) { r.Port = "0" }, "Port", OutOfRange},
		{"port on icmp", func(r *Raw) { r.Protocol = "ICMP" }, "Port", Malformed},
		{"port on gre", func(r *Raw) { r.Protocol = "GRE"; r.Port = "80" }, "Port", Malformed},
		{"port on all", func(r *Raw) { r.Protocol = "ALL"; r.Port = "1-100" }, "Port", Malformed},
		{"no peer", func(r *Raw) { r.CidrBlock = "" }, "CidrBlock", Missing},
		{"two peers", func(r *Raw) { r.Ipv6CidrBlock = "::/0" }, "Ipv6CidrBlock", Coexist},
		{"bad sg", func(r *Raw) { r.CidrBlock = ""; r.SecurityGroupId = "sg-XYZ" }, "SecurityGroupId", Malformed},
		{"bad action", func(r *Raw) { r.Action = "ALLOW" }, "Action", Malformed},
		{"no action", func(r *Raw) { r.Action = "" }, "Action", Missing},
		{"template and protocol", func(r *Raw) { r.ServiceId = "ppm-12345678" }, "Protocol", Coexist},
		{"icmp v6 peer", func(r *Raw) { r.Protocol = "ICMP"; r.Port = ""; r.CidrBlock = ""; r.Ipv6CidrBlock = "::/0" }, "Protocol", Coexist},
		{"long description", func(r *Raw) { r.PolicyDescription = strings.Repeat("x", 101) }, "PolicyDescription", TooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			_, err := ParseRaw(r)
			fes := FieldErrors(err)
			if len(fes) == 0 || fes[0].Field != tt.field || fes[0].Kind != tt.kind {
				t.Fatalf("ParseRaw(%+v) = %v; want %s %v", r, err, tt.field, tt.kind)
			}
		})
	}
	// No Protocol, Port or service template is every protocol.
	r := base
	r.Protocol, r.Port = "", ""
	if p, err := ParseRaw(r); err != nil || p.Protocol != AnyProtocol || !p.Ports.All() {
		t.Errorf("ParseRaw without protocol and port = %v, %v; want ALL ALL", p, err)
	}
	// Every problem reported at once.
	_, err := ParseRaw(Raw{Protocol: "X", Port: "0", Action: "Y"})
	if n := len(FieldErrors(err)); n < 3 {
		t.Errorf("want every problem reported, got %d: %v", n, err)
	}
}

func TestPolicyRoundTrip(t *testing.T) {
	for _, s := range []string{
		"ACCEPT TCP 22 0.0.0.0/0",
		"DROP UDP 53,1000-2000 10.0.0.0/8 # block dns",
		"ACCEPT ICMP ALL 192.168.1.1",
		"ACCEPT ICMPv6 ALL ::/0",
		"ACCEPT ALL ALL sg-1a2b3c4d",
		"DROP GRE ALL ipm-abcdefgh",
		"ACCEPT TCP 80,443 ipmg-abcdefgh",
		"ACCEPT ppm-12345678 2001:db8::/32",
		"DROP ppmg-12345678 8.8.8.8",
	} {
		p, err := ParsePolicy(s)
		if err != nil {
			t.Fatalf("ParsePolicy(%q): %v", s, err)
		}
		if p.String() != s {
			t.Errorf("ParsePolicy(%q).String() = %q", s, p.String())
		}
		q, err := ParseRaw(p.Raw())
		if err != nil || !q.SameRule(p) || q.Description != p.Description {
			t.Errorf("ParseRaw(Raw()) of %q = %v, %v", s, q, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%q): %v", s, err)
		}
	}
}

func TestProtocolMatches(t *testing.T) {
	tests := []struct {
		p    Protocol
		num  uint8
		is6  bool
		want bool
	}{
		{TCP, 6, false, true}, {TCP, 6, true, true}, {TCP, 17, false, false},
		{ICMP, 1, false, true}, {ICMP, 1, true, false}, {ICMPv6, 58, true, true}, {ICMPv6, 58, false, false},
		{AnyProtocol, 99, true, true}, {GRE, 47, false, true},
	}
	for _, tt := range tests {
		if got := tt.p.Matches(tt.num, tt.is6); got != tt.want {
			t.Errorf("%v.Matches(%d, %v) = %v, want %v", tt.p, tt.num, tt.is6, got, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{
		"sg-1a2b3c4d": true, "sg-1A2b3c4d": false, "sg-1a2b3c4": false, "sg-1a2b3c4de": false, "ins-1a2b3c4d": false, "sg-1a2b-c4d": false,
	} {
		if ValidID(PrefixSecurityGroup, s) != want {
			t.Errorf("ValidID(sg-, %q) = %v", s, !want)
		}
	}
}
