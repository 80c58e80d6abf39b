package guestfw

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzPackets are decided on every ruleset a fuzzer parses.
func fuzzPackets() []string {
	return []string{
		"in tcp 203.0.113.5 10.0.0.5 22",
		"in tcp 203.0.113.5 10.0.0.5 22 est",
		"in tcp 10.1.2.3 10.0.0.5 8080 if=eth0",
		"in udp 203.0.113.5 10.0.0.5 68 sport=67",
		"in icmp 203.0.113.5 10.0.0.5 type=8",
		"in icmp 203.0.113.5 10.0.0.5",
		"in tcp 127.0.0.1 127.0.0.1 5432",
		"in udp 10.0.0.7 224.0.0.251 5353",
		"out tcp 10.0.0.5 203.0.113.5 25",
		"out gre 10.0.0.5 203.0.113.5",
		"in tcp 2001:db8::5 2001:db8::1 22 if=eth0",
		"in icmpv6 fe80::1 2001:db8::1 type=135",
		"out udp 2001:db8::1 2001:db8:bad::1 53",
	}
}

func seedSamples(f *testing.F, suffix ...string) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		if !slices.ContainsFunc(suffix, func(s string) bool { return strings.HasSuffix(p, s) }) || strings.HasSuffix(p, largeSample) {
			continue // the large sample is for the benchmark: too slow a seed
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

// checkDecisions decides every fuzz packet and checks that each result is
// consistent: a certain verdict is the only one possible, an uncertain one
// says why, and every line named exists.
func checkDecisions(t *testing.T, rs *Ruleset, text string) {
	lines := strings.Count(text, "\n") + 1
	for _, is := range rs.Issues() {
		if is.Line < 1 || is.Line > lines || is.Reason == "" {
			t.Fatalf("issue %v: line out of range 1..%d or no reason", is, lines)
		}
	}
	_ = rs.Chains()
	for _, s := range fuzzPackets() {
		p := pkt(s)
		r := rs.Decide(p)
		if r.Verdict < Accept || r.Verdict > Uncertain || len(r.Possible) == 0 {
			t.Fatalf("Decide(%v) = %v, possible %v: not a verdict", p, r.Verdict, r.Possible)
		}
		if r.Verdict != Uncertain && (len(r.Possible) != 1 || r.Possible[0] != r.Verdict) {
			t.Fatalf("Decide(%v) = %v but possible %v", p, r.Verdict, r.Possible)
		}
		if r.Verdict == Uncertain && len(r.Possible) == 1 && r.Possible[0] == Uncertain && len(r.Notes) == 0 && r.Text == "" {
			t.Fatalf("Decide(%v) is uncertain and says nothing about why", p)
		}
		if r.Line < 0 || r.Line > lines {
			t.Fatalf("Decide(%v) names line %d of %d", p, r.Line, lines)
		}
		for _, n := range r.Notes {
			if n.Line < 1 || n.Line > lines {
				t.Fatalf("Decide(%v) notes line %d of %d", p, n.Line, lines)
			}
			if want := strings.TrimSpace(strings.Split(text, "\n")[n.Line-1]); n.Text != want {
				t.Fatalf("Decide(%v) note %v: text is not line %d, %q", p, n, n.Line, want)
			}
		}
	}
}

func FuzzParseIptablesSave(f *testing.F) {
	seedSamples(f, ".iptables")
	f.Add("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n")
	f.Add("*nat\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n-A PREROUTING -j X\n-A X -g X\nCOMMIT\n")
	f.Fuzz(func(t *testing.T, text string) {
		for _, parse := range []func(string) (*Ruleset, error){ParseIptablesSave, ParseIp6tablesSave} {
			rs, err := parse(text)
			if err != nil {
				continue
			}
			checkDecisions(t, rs, text)
		}
	})
}

func FuzzParseNft(f *testing.F) {
	seedSamples(f, ".nft")
	f.Add("table inet t {\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n\t\ttcp dport vmap { 22 : accept }\n\t}\n}\n")
	f.Add("table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.0/8 }\n\t}\n\tchain a {\n\t\tjump b\n\t}\n\tchain b {\n\t\tgoto a\n\t}\n}\n")
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := ParseNft(text)
		if err != nil {
			return
		}
		checkDecisions(t, rs, text)
		if f, err := DetectFormat(text); err == nil && f == NftRuleset {
			if _, err := Parse(text); err != nil {
				t.Fatalf("Parse of nft text = %v; ParseNft read it", err)
			}
		}
	})
}
