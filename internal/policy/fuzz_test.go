package policy

import "testing"

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
			if err != nil || q != p {
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
