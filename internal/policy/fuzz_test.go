package policy

import (
	"errors"
	"testing"
)

func FuzzParsePortSet(f *testing.F) {
	for _, s := range []string{"ALL", "22", "8000-8080", "80,443,8000-8010", "0", "70000", "80,,443", "9-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePortSet(s)
		if err != nil {
			return
		}
		q, err := ParsePortSet(p.String())
		if err != nil || !q.Equal(p) {
			t.Fatalf("round trip of %q: %q -> %v, %v", s, p, q, err)
		}
		for _, r := range p.Ranges() {
			if r.Lo > r.Hi {
				t.Fatalf("bad range %v", r)
			}
		}
	})
}

func FuzzParseProtocol(f *testing.F) {
	for _, s := range []string{"tcp", "ICMPV6", "all", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProtocol(s)
		if err != nil {
			return
		}
		if q := MustParseProtocol(p.String()); q != p {
			t.Fatalf("round trip %q: %v -> %v", s, p, q)
		}
	})
}

func FuzzParseCIDR(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "8.8.8.8", "0.0.0.0/3", "::/0", "2001:db8::1/64", "1.2.3.4/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Peer, error){ParseCIDR, ParseCIDR6} {
			p, err := parse(s)
			if err != nil {
				continue
			}
			q, err := parse(p.String())
			c, errc := parse(p.Canonical())
			// A widened prefix (0.0.0.0/3) reads back as the whole family
			// without the note of what was written.
			if _, widened := p.Widened(); !widened && q != p {
				t.Fatalf("round trip %q: %v -> %v", s, p, q)
			}
			if err != nil || !q.Equal(p) || q.String() != p.String() || errc != nil || !c.Equal(p) {
				t.Fatalf("round trip %q: %v -> %v, %v", s, p, q, err)
			}
		}
	})
}

func FuzzParseActionDirection(f *testing.F) {
	for _, s := range []string{"accept", "DROP", "ingress", "OUTBOUND", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAction(s); err == nil {
			if b, err := ParseAction(a.String()); err != nil || b != a {
				t.Fatalf("action round trip %q", s)
			}
		}
		if d, err := ParseDirection(s); err == nil {
			if e, err := ParseDirection(d.String()); err != nil || e != d {
				t.Fatalf("direction round trip %q", s)
			}
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"ACCEPT TCP 22 0.0.0.0/0", "DROP ppm-12345678 sg-1a2b3c4d # x", "accept icmpv6 all ::/0", "ACCEPT ICMP 80 1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePolicy(s)
		if err != nil {
			return
		}
		q, err := ParsePolicy(p.String())
		if err != nil || !q.SameRule(p) || q.Description != p.Description {
			t.Fatalf("round trip %q: %q -> %q, %v", s, p, q, err)
		}
		if _, err := ParseRaw(p.Raw()); err != nil {
			t.Fatalf("Raw of %q does not parse: %v", s, err)
		}
	})
}

func FuzzParseServiceEntry(f *testing.F) {
	for _, s := range []string{"tcp:80", "udp:53", "tcp:8000-8080", "TCP:80,443", "icmp", "all", "tcp", "tcp:all", "icmp:80", "gre:all", ":80", "tcp:", "tcp:0", "udp:9-1", "icmpv6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseServiceEntry(s)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "Service" || fe.Value != s {
				t.Fatalf("ParseServiceEntry(%q) error %v is not a Service FieldError", s, err)
			}
			return
		}
		if !e.Protocol.Valid() || !e.Ports.IsValid() || !e.Protocol.HasPorts() && !e.Ports.All() {
			t.Fatalf("ParseServiceEntry(%q) = %+v, invalid", s, e)
		}
		back, err := ParseServiceEntry(e.String())
		if err != nil || back.Protocol != e.Protocol || back.Ports.String() != e.Ports.String() && !(back.Ports.All() && e.Ports.All()) {
			t.Fatalf("round trip of %q: %q -> %+v, %v", s, e, back, err)
		}
	})
}

func FuzzParseAddressEntry(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/24", "10.0.0.7/24", "10.0.0.1-10.0.0.100", "2001:db8::/64", "2001:db8::1 - 2001:db8::9",
		"10.0.0.9-10.0.0.1", "10.0.0.1-2001:db8::1", "fe80::1%eth0", "::ffff:10.0.0.1", "1.2.3.4/33", "", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseAddressEntry(s)
		if err != nil {
			return
		}
		if !r.IsValid() || r.From().Zone() != "" {
			t.Fatalf("ParseAddressEntry(%q) = %v, invalid", s, r)
		}
		// A range's ends are written back as given unless one is an
		// IPv4-mapped address, which only a CIDR block can cover.
		if !r.From().Is4In6() && !r.To().Is4In6() {
			back, err := ParseAddressEntry(r.String())
			if err != nil || back != r {
				t.Fatalf("round trip of %q: %v -> %v, %v", s, r, back, err)
			}
		}
		if p, ok := r.Prefix(); ok {
			if back, err := ParseAddressEntry(p.String()); err != nil || back != r {
				t.Fatalf("prefix %v of %q -> %v, %v", p, s, back, err)
			}
		}
	})
}

// FuzzParseRaw drives the parser the API uses, with every field free, so
// that conflicting peers, templates beside Protocol/Port and odd families
// are reached.
func FuzzParseRaw(f *testing.F) {
	f.Add("TCP", "22", "0.0.0.0/0", "", "", "", "", "", "", "ACCEPT", "ssh")
	f.Add("icmpv6", "all", "", "::/0", "", "", "", "", "", "accept", "")
	f.Add("", "", "", "", "sg-1a2b3c4d", "", "", "ppm-12345678", "", "DROP", "")
	f.Add("UDP", "53,1000-2000", "", "", "", "ipm-abcdefgh", "ipmg-abcdefgh", "", "", "drop", "x")
	f.Add("ALL", "80", "10.0.0.1/8", "2001:db8::/32", "", "", "", "", "ppmg-12345678", "", "")
	f.Fuzz(func(t *testing.T, proto, port, cidr, cidr6, sg, addr, addrGroup, svc, svcGroup, action, desc string) {
		r := Raw{Protocol: proto, Port: port, CidrBlock: cidr, Ipv6CidrBlock: cidr6, SecurityGroupId: sg,
			AddressId: addr, AddressGroupId: addrGroup, ServiceId: svc, ServiceGroupId: svcGroup, Action: action, PolicyDescription: desc}
		p, err := ParseRaw(r)
		if err != nil {
			fes := FieldErrors(err)
			if len(fes) == 0 {
				t.Fatalf("ParseRaw(%+v) = %v, not a field error", r, err)
			}
			for _, fe := range fes {
				if fe.Field == "" || fe.Kind == 0 {
					t.Fatalf("ParseRaw(%+v): field error without field or kind: %#v", r, fe)
				}
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseRaw(%+v) = %v, which does not validate: %v", r, p, err)
		}
		q, err := ParseRaw(p.Raw())
		if err != nil || !q.SameRule(p) || q.Description != p.Description || q.Peer != p.Peer {
			t.Fatalf("round trip of %+v: %v -> %v, %v", r, p, q, err)
		}
	})
}
