package guestfw

import (
	"testing"
)

// The large sample has 1,000 rules: a deny list and ten service chains
// reached from INPUT, the way generated rulesets look.
const largeSample = "large.iptables"

func TestLargeSample(t *testing.T) {
	rs := load(t, largeSample)
	rules := 0
	for _, c := range rs.Chains() {
		rules += c.Rules
	}
	if rules != 1000 || len(rs.Issues()) != 0 {
		t.Fatalf("large sample: %d rules, issues %v; want 1000 rules and no issue", rules, rs.Issues())
	}
	// ssh passes every service chain and is accepted near the end.
	if got := rs.Decide(pkt("in tcp 203.0.113.5 10.0.0.5 22")); got.Verdict != Accept || got.Line != 1015 {
		t.Fatalf("Decide(ssh) = %v, want ACCEPT by line 1015", got)
	}
	if got := rs.Decide(pkt("in tcp 198.18.7.1 10.0.0.5 22")); got.Verdict != Drop {
		t.Fatalf("Decide(deny-listed) = %v, want DROP", got)
	}
}

func BenchmarkParseIptablesSave1000(b *testing.B) {
	text := string(mustRead(b, largeSample))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := ParseIptablesSave(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecide1000(b *testing.B) {
	rs := load(b, largeSample)
	p := pkt("in tcp 203.0.113.5 10.0.0.5 22") // passes every rule
	for b.Loop() {
		rs.Decide(p)
	}
}

func BenchmarkParseAndDecide1000(b *testing.B) {
	text := string(mustRead(b, largeSample))
	p := pkt("in tcp 203.0.113.5 10.0.0.5 22")
	for b.Loop() {
		rs, err := ParseIptablesSave(text)
		if err != nil {
			b.Fatal(err)
		}
		rs.Decide(p)
	}
}
