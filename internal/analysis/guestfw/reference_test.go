package guestfw

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refWalk is a naive evaluator of one chain: it follows jumps with the Go
// call stack and takes each unsettled rule as the assignment says. It
// returns the outcome (or oReturn) and the deciding rule's line.
func refWalk(c *chain, ctx *pctx, assign map[int]bool) (okind, int) {
	for _, r := range c.rules {
		m := yes
		for _, cd := range r.conds {
			switch v, _ := cd.match(ctx); v {
			case no:
				m = no
			case maybe:
				if m == yes {
					m = maybe
				}
			}
			if m == no {
				break
			}
		}
		if m == no || (m == maybe && !assign[r.line]) {
			continue
		}
		switch r.tgt.kind {
		case tContinue:
			continue
		case tAccept:
			return oAccept, r.line
		case tDrop:
			return oDrop, r.line
		case tReject:
			return oReject, r.line
		case tReturn:
			return oReturn, r.line
		case tJump:
			if k, line := refWalk(r.tgt.ref, ctx, assign); k != oReturn {
				return k, line
			}
		case tGoto:
			return refWalk(r.tgt.ref, ctx, assign)
		default:
			panic(fmt.Sprintf("reference evaluator: target kind %d", r.tgt.kind))
		}
	}
	return oReturn, 0
}

// refDecide decides with a filter table only: INPUT or OUTPUT.
func refDecide(rs *Ruleset, p Packet, assign map[int]bool) (Verdict, int) {
	ctx := newCtx(p, rs)
	name := "INPUT"
	if p.Direction == Outbound {
		name = "OUTPUT"
	}
	for _, c := range rs.chains {
		if c.base && c.name == name {
			k, line := refWalk(c, ctx, assign)
			if k == oReturn {
				return c.policy, 0
			}
			return verdictOf[k], line
		}
	}
	return Accept, 0
}

// randomRuleset writes an iptables-save filter table with user chains that
// jump only forward (no loops), rules on protocols, ports, sources, states
// and (unsettled without a source port) source ports.
func randomRuleset(rng *rand.Rand) string {
	var b strings.Builder
	policy := []string{"ACCEPT", "DROP"}
	fmt.Fprintf(&b, "*filter\n:INPUT %s [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT %s [0:0]\n", policy[rng.IntN(2)], policy[rng.IntN(2)])
	chains := 1 + rng.IntN(5)
	for i := range chains {
		fmt.Fprintf(&b, ":C%d - [0:0]\n", i)
	}
	rule := func(chain string, first int) {
		var parts []string
		proto := ""
		switch rng.IntN(4) {
		case 0:
			proto = "tcp"
		case 1:
			proto = "udp"
		}
		if proto != "" {
			parts = append(parts, "-p "+proto)
		}
		if rng.IntN(3) == 0 {
			neg := ""
			if rng.IntN(3) == 0 {
				neg = "! "
			}
			parts = append(parts, fmt.Sprintf("%s-s 10.%d.0.0/16", neg, rng.IntN(3)))
		}
		if proto != "" && rng.IntN(2) == 0 {
			lo := 20 + rng.IntN(10)
			parts = append(parts, fmt.Sprintf("-m %s --dport %d:%d", proto, lo, lo+rng.IntN(5)))
		}
		if proto != "" && rng.IntN(6) == 0 {
			parts = append(parts, fmt.Sprintf("-m %s --sport %d", proto, 1000+rng.IntN(3)))
		}
		if rng.IntN(4) == 0 {
			parts = append(parts, []string{"-m conntrack --ctstate NEW", "-m conntrack --ctstate RELATED,ESTABLISHED", "-m state ! --state NEW"}[rng.IntN(3)])
		}
		targets := []string{"-j ACCEPT", "-j DROP", "-j REJECT", "-j RETURN", `-j LOG --log-prefix "x "`}
		if first < chains {
			k := first + rng.IntN(chains-first)
			targets = append(targets, fmt.Sprintf("-j C%d", k), fmt.Sprintf("-g C%d", k))
		}
		parts = append(parts, targets[rng.IntN(len(targets))])
		fmt.Fprintf(&b, "-A %s %s\n", chain, strings.Join(parts, " "))
	}
	for _, base := range []string{"INPUT", "OUTPUT"} {
		for range rng.IntN(6) {
			rule(base, 0)
		}
	}
	for i := range chains {
		for range rng.IntN(5) {
			rule(fmt.Sprintf("C%d", i), i+1)
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// TestDecideAgainstReference compares Decide with the naive evaluator on
// random rulesets: every verdict the reference reaches under some choice of
// the unsettled rules is possible in Decide, and with no unsettled rule on
// the way both agree on the verdict and the deciding line.
func TestDecideAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	packets := []string{"in tcp 10.1.2.3 10.0.0.5 22", "in udp 10.0.2.3 10.0.0.5 25", "in tcp 192.0.2.1 10.0.0.5 27 est",
		"in tcp 10.1.2.3 10.0.0.5 24 sport=1001", "out udp 10.0.0.5 10.2.0.1 21", "out gre 10.0.0.5 10.0.0.9", "in icmp 10.1.0.1 10.0.0.5 type=8"}
	exact, checked := 0, 0
	for range 3000 {
		text := randomRuleset(rng)
		rs, err := ParseIptablesSave(text)
		if err != nil || len(rs.Issues()) > 0 {
			t.Fatalf("random ruleset: %v %v\n%s", err, rs.Issues(), text)
		}
		for _, s := range packets {
			p := pkt(s)
			ctx := newCtx(p, rs)
			var unsettled []int
			for _, c := range rs.chains {
				for _, r := range c.rules {
					m := yes
					for _, cd := range r.conds {
						if v, _ := cd.match(ctx); v == no {
							m = no
							break
						} else if v == maybe {
							m = maybe
						}
					}
					if m == maybe {
						unsettled = append(unsettled, r.line)
					}
				}
			}
			ref := map[Verdict]bool{}
			var refLine int
			for bits := range 1 << len(unsettled) {
				assign := map[int]bool{}
				for i, line := range unsettled {
					assign[line] = bits&(1<<i) != 0
				}
				v, line := refDecide(rs, p, assign)
				ref[v], refLine = true, line
			}
			got := rs.Decide(p)
			checked++
			for v := range ref {
				if !slices.Contains(got.Possible, v) {
					t.Fatalf("Decide(%v).Possible = %v, but the reference reaches %v\n%s", p, got.Possible, v, text)
				}
			}
			if len(unsettled) == 0 {
				var only Verdict
				for v := range ref {
					only = v
				}
				if got.Verdict != only || got.Line != refLine {
					t.Fatalf("Decide(%v) = %v (line %d), reference %v (line %d)\n%s", p, got.Verdict, got.Line, only, refLine, text)
				}
			}
			if len(got.Possible) == len(ref) {
				exact++
			}
		}
	}
	if exact < checked*95/100 {
		t.Errorf("Decide is as precise as the reference in %d of %d decisions; want at least 95%%", exact, checked)
	}
}
