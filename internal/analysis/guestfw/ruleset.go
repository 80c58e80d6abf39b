package guestfw

import (
	"cmp"
	"fmt"
	"slices"
)

// hook is a netfilter hook.
type hook uint8

const (
	hookNone hook = iota
	hookIngress
	hookPrerouting
	hookInput
	hookForward
	hookOutput
	hookPostrouting
	hookEgress
)

var hookNames = [...]string{hookNone: "", hookIngress: "ingress", hookPrerouting: "prerouting", hookInput: "input",
	hookForward: "forward", hookOutput: "output", hookPostrouting: "postrouting", hookEgress: "egress"}

func (h hook) String() string { return hookNames[h] }

// family is the address family a table applies to.
type family uint8

const (
	famIP     family = iota + 1 // IPv4 only
	famIP6                      // IPv6 only
	famInet                     // both
	famOther                    // arp, bridge: never sees the guest's own IP traffic
	famNetdev                   // netdev: ingress and egress of a device
)

var familyNames = [...]string{famIP: "ip", famIP6: "ip6", famInet: "inet", famOther: "other", famNetdev: "netdev"}

func (f family) String() string {
	if f >= famIP && f <= famNetdev {
		return familyNames[f]
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

func (f family) covers(v6 bool) bool {
	switch f {
	case famIP:
		return !v6
	case famIP6:
		return v6
	case famInet, famNetdev:
		return true
	}
	return false
}

// Ruleset is a guest firewall read from text. It is immutable once parsed
// and safe for concurrent use by Decide.
type Ruleset struct {
	format Format
	chains []*chain
	issues []Issue // every line not understood, in order
	// global are the issues outside any chain (an unknown statement at the
	// top or in a table): they could change anything, so every decision is
	// uncertain while there are some.
	global []Issue
	// hasDNAT and hasSNAT report rules that rewrite destinations or sources:
	// without them, conntrack's DNAT and SNAT states never hold.
	hasDNAT, hasSNAT bool
}

// Issues returns every line not understood, in the order of the text.
func (r *Ruleset) Issues() []Issue { return slices.Clone(r.issues) }

// Format is the kind of text the ruleset was read from.
func (r *Ruleset) Format() Format { return r.format }

// Chain describes one chain of a ruleset.
type Chain struct {
	Family   string // ip, ip6, inet (iptables-save: ip or ip6), netdev, …
	Table    string
	Name     string
	Line     int
	Hook     string // "" for a chain that is only jumped to
	Priority int
	Type     string // filter, nat, route; "" for a regular chain
	Policy   Verdict
	Rules    int
	// Evaluated reports whether packets to or from the guest itself pass
	// this chain (as a base chain at one of their hooks, or reachable from
	// one); false for FORWARD chains and the chains only they reach.
	Evaluated bool
}

// Chains lists the ruleset's chains in the order of the text.
func (r *Ruleset) Chains() []Chain {
	reach := map[*chain]bool{}
	var visit func(c *chain)
	visit = func(c *chain) {
		if reach[c] {
			return
		}
		reach[c] = true
		for _, ru := range c.rules {
			for _, t := range ru.tgt.all() {
				if t.ref != nil {
					visit(t.ref)
				}
			}
		}
	}
	for _, c := range r.chains {
		if c.base && c.hook.local() {
			visit(c)
		}
	}
	out := make([]Chain, 0, len(r.chains))
	for _, c := range r.chains {
		out = append(out, Chain{Family: c.family.String(), Table: c.table, Name: c.name, Line: c.line, Hook: c.hook.String(),
			Priority: c.prio, Type: c.typ, Policy: c.policy, Rules: len(c.rules), Evaluated: reach[c]})
	}
	return out
}

// local reports whether packets to or from the guest's own processes pass h.
func (h hook) local() bool { return h != hookNone && h != hookForward }

// chain is one chain: a base chain attached to a hook, or a regular chain
// reached by jumps.
type chain struct {
	family      family
	table, name string
	line        int
	text        string // the line declaring the chain
	base        bool
	hook        hook
	prio        int
	typ         string  // filter, nat, route
	policy      Verdict // Accept or Drop for a base chain
	devices     []string
	issue       string // set when the chain's own declaration was not understood
	rules       []*rule
}

func (c *chain) label() string { return c.table + " " + c.name }

// rule is one rule: its matches, all of which must hold, and its target.
type rule struct {
	line  int
	text  string
	conds []cond
	// problem is why part of the rule was not understood; the conditions
	// parsed before it are kept, and the rest counts as unknown.
	problem string
	tgt     target
}

type targetKind uint8

const (
	tContinue targetKind = iota // no verdict: counter, log, comment only
	tAccept
	tDrop
	tReject
	tReturn
	tJump
	tGoto
	tNatDone // SNAT, MASQUERADE: ends the nat chain, the packet goes on
	tUnknown // DNAT, QUEUE, a target not understood: the outcome is unknown
	tVmap
)

// target is what a rule does when it matches.
type target struct {
	kind   targetKind
	name   string // chain of a jump or goto
	ref    *chain
	reason string // for tUnknown
	text   string // how the rule wrote it
	vmap   []vmapEntry
}

type vmapEntry struct {
	c cond
	t target
}

// all returns t and the targets of its verdict map.
func (t *target) all() []*target {
	out := []*target{t}
	for i := range t.vmap {
		out = append(out, &t.vmap[i].t)
	}
	return out
}

// link resolves jumps and gotos within each table; an unknown chain is a
// problem of the rule that names it.
func (r *Ruleset) link() {
	byName := map[[2]string]*chain{}
	for _, c := range r.chains {
		byName[[2]string{c.family.String() + " " + c.table, c.name}] = c
	}
	for _, c := range r.chains {
		for _, ru := range c.rules {
			for _, t := range ru.tgt.all() {
				if t.kind != tJump && t.kind != tGoto {
					continue
				}
				ref := byName[[2]string{c.family.String() + " " + c.table, t.name}]
				if ref == nil {
					t.kind, t.reason = tUnknown, fmt.Sprintf("%s names chain %q, which the table does not have", t.text, t.name)
					r.addIssue(ru.line, ru.text, t.reason)
					continue
				}
				if ref.base {
					t.kind, t.reason = tUnknown, fmt.Sprintf("%s names base chain %q, which cannot be jumped to", t.text, t.name)
					r.addIssue(ru.line, ru.text, t.reason)
					continue
				}
				t.ref = ref
			}
		}
	}
	slices.SortStableFunc(r.issues, func(a, b Issue) int { return cmp.Compare(a.Line, b.Line) })
}

func (r *Ruleset) addIssue(line int, text, reason string) {
	r.issues = append(r.issues, Issue{Line: line, Text: text, Reason: reason})
}

func (r *Ruleset) addGlobal(line int, text, reason string) {
	r.addIssue(line, text, reason)
	r.global = append(r.global, Issue{Line: line, Text: text, Reason: reason})
}
