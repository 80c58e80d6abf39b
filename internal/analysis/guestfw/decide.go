package guestfw

import (
	"cmp"
	"fmt"
	"slices"
)

// okind is how evaluation of a chain can end.
type okind uint8

const (
	oAccept okind = iota
	oDrop
	oReject
	oUnknown // an outcome that is not known: a rule not understood, DNAT, a queue
	oReturn  // the end of the chain, or a return
	okinds
)

// outcome is one way evaluation of a chain can end, with its witness: the
// first line found that ends it so and the chains taken to it.
type outcome struct {
	line  int
	text  string
	steps []Step
	seq   int // discovery order, for choosing the line an uncertain answer names
}

// outset is the set of the ways evaluation can end, one witness each.
type outset struct {
	has [okinds]bool
	o   [okinds]outcome
}

func (s *outset) add(k okind, o outcome) {
	if !s.has[k] {
		s.has[k], s.o[k] = true, o
	}
}

// eval evaluates the chains for one packet, memoizing each chain's
// outcomes: the packet is the same wherever a chain is reached from.
type eval struct {
	ctx     *pctx
	memo    map[*chain]*outset
	onStack map[*chain]bool
	notes   []Note
	noted   map[noteKey]bool
	diverge map[int]bool // unsettled lines whose outcome differs either way
	seq     int
}

type noteKey struct {
	line   int
	reason string
}

func (e *eval) note(line int, text, reason string) {
	if k := (noteKey{line, reason}); !e.noted[k] {
		e.noted[k] = true
		e.notes = append(e.notes, Note{Line: line, Text: text, Reason: reason})
	}
}

func (e *eval) next() int { e.seq++; return e.seq }

func prefix(s Step, steps []Step) []Step {
	return append([]Step{s}, steps...)
}

// match evaluates a rule's conditions: no as soon as one fails, otherwise
// maybe if one cannot be settled or the rule was not fully understood.
func (e *eval) match(r *rule) (tri, string) {
	res, why := yes, ""
	for _, c := range r.conds {
		m, reason := c.match(e.ctx)
		if m == no {
			return no, ""
		}
		if m == maybe && res == yes {
			res, why = maybe, reason
		}
	}
	if r.problem != "" && res != no {
		return maybe, "not understood: " + r.problem
	}
	return res, why
}

// chain evaluates c from its first rule.
func (e *eval) chain(c *chain) *outset {
	if s := e.memo[c]; s != nil {
		return s
	}
	s := &outset{}
	if e.onStack[c] {
		s.add(oUnknown, outcome{line: c.line, text: c.text, seq: e.next(),
			steps: []Step{{Table: c.table, Chain: c.name, Action: "loop"}}})
		e.note(c.line, c.text, "chain "+c.name+" is reached again from itself; a loop is not evaluated")
		return s
	}
	if c.issue != "" {
		e.note(c.line, c.text, c.issue)
		s.add(oUnknown, outcome{line: c.line, text: c.text, seq: e.next(),
			steps: []Step{{Table: c.table, Chain: c.name, Line: c.line, Action: "not understood"}}})
		e.memo[c] = s
		return s
	}
	e.onStack[c] = true
	defer delete(e.onStack, c)
	// hits are the rules that matched or may have, with the outcomes each
	// adds: they tell afterwards which unsettled rule the answer turns on.
	type hit struct {
		r     *rule
		maybe bool
		mask  uint8
		cont  bool
	}
	var hits []hit
	ended := false
	for _, r := range c.rules {
		m, why := e.match(r)
		if m == no {
			continue
		}
		if m == maybe && (r.problem != "" || r.tgt.kind != tContinue) {
			// A rule that only counts or logs changes nothing either way.
			e.note(r.line, r.text, why)
		}
		mask, cont, unsure := e.target(c, r, &r.tgt, s)
		hits = append(hits, hit{r: r, maybe: m == maybe || unsure, mask: mask, cont: cont})
		if m == yes && !unsure && !cont {
			ended = true
			break
		}
	}
	suffix := uint8(0)
	if !ended {
		suffix = 1 << oReturn
		s.add(oReturn, outcome{seq: e.next(), steps: []Step{{Table: c.table, Chain: c.name, Action: "end of chain"}}})
	}
	for j := len(hits) - 1; j >= 0; j-- {
		h := hits[j]
		taken := h.mask
		if h.cont {
			taken |= suffix
		}
		if h.maybe {
			if taken != suffix {
				e.diverge[h.r.line] = true
			}
			suffix |= taken
		} else {
			suffix = taken
		}
	}
	e.memo[c] = s
	return s
}

// target adds to s the ways rule r's target t can end chain c. It returns
// them as a mask, whether evaluation can go on with the next rule, and
// whether that is itself unsettled (a verdict map with an unsettled key).
func (e *eval) target(c *chain, r *rule, t *target, s *outset) (mask uint8, cont, unsure bool) {
	step := Step{Table: c.table, Chain: c.name, Line: r.line, Action: t.text}
	here := func(k okind) (uint8, bool, bool) {
		s.add(k, outcome{line: r.line, text: r.text, steps: []Step{step}, seq: e.next()})
		return 1 << k, false, false
	}
	switch t.kind {
	case tContinue:
		return 0, true, false
	case tAccept, tNatDone:
		return here(oAccept)
	case tDrop:
		return here(oDrop)
	case tReject:
		return here(oReject)
	case tReturn:
		return here(oReturn)
	case tUnknown:
		e.note(r.line, r.text, t.reason)
		return here(oUnknown)
	case tJump, tGoto:
		sub := e.chain(t.ref)
		for k := range okinds {
			if !sub.has[k] {
				continue
			}
			if k == oReturn && t.kind == tJump {
				cont = true
				continue
			}
			mask |= 1 << k
			o := sub.o[k]
			s.add(k, outcome{line: o.line, text: o.text, steps: prefix(step, o.steps), seq: o.seq})
		}
		return mask, cont, false
	case tVmap:
		for i := range t.vmap {
			en := &t.vmap[i]
			m, why := en.c.match(e.ctx)
			if m == no {
				continue
			}
			if m == maybe {
				e.note(r.line, r.text, why)
				unsure = true
			}
			em, ec, _ := e.target(c, r, &en.t, s)
			mask |= em
			if m == yes {
				return mask, ec, unsure
			}
		}
		return mask, true, unsure
	}
	return 0, false, false
}

// base evaluates a base chain: its end applies its policy.
func (e *eval) base(c *chain) *outset {
	in := e.chain(c)
	out := *in
	if out.has[oReturn] {
		out.has[oReturn] = false
		o := out.o[oReturn]
		k := oAccept
		if c.policy == Drop {
			k = oDrop
		}
		steps := slices.Clone(o.steps)
		if last := &steps[len(steps)-1]; len(steps) == 1 && last.Chain == c.name && last.Line == 0 {
			last.Action = "policy " + lower(c.policy)
		} else {
			// A return (or a goto's chain ending) brought the packet back.
			steps = append(steps, Step{Table: c.table, Chain: c.name, Action: "policy " + lower(c.policy)})
		}
		out.add(k, outcome{text: fmt.Sprintf("policy %s of %s %s", lower(c.policy), c.table, c.name), steps: steps, seq: o.seq})
	}
	if len(c.devices) > 0 {
		m, why := devicesMatch(c.devices, e.ctx)
		switch m {
		case no:
			return &outset{has: [okinds]bool{oAccept: true}, o: [okinds]outcome{oAccept: {seq: e.next(),
				text: "chain " + c.name + " is not on the packet's device"}}}
		case maybe:
			e.note(c.line, c.text, why)
			out.add(oAccept, outcome{text: "chain " + c.name + " is not on the packet's device", seq: e.next()})
		}
	}
	return &out
}

func lower(v Verdict) string {
	if v == Drop {
		return "drop"
	}
	return "accept"
}

// hookOrder is the hooks a packet to or from the guest passes, in order.
func hookOrder(d Direction) []hook {
	if d == Inbound {
		return []hook{hookIngress, hookPrerouting, hookInput}
	}
	return []hook{hookOutput, hookPostrouting, hookEgress}
}

// path returns the base chains the packet passes, in order: hook, then
// priority, then the order of the text.
func (r *Ruleset) path(p Packet, v6 bool) []*chain {
	order := hookOrder(p.Direction)
	var out []*chain
	for _, c := range r.chains {
		if !c.base || !slices.Contains(order, c.hook) || !c.family.covers(v6) {
			continue
		}
		if c.typ == "nat" && !p.New {
			continue // only a connection's first packet passes the nat chains
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b *chain) int {
		if d := cmp.Compare(slices.Index(order, a.hook), slices.Index(order, b.hook)); d != 0 {
			return d
		}
		return cmp.Compare(a.prio, b.prio)
	})
	return out
}

// Decide tells what the guest firewall does to p.
func (r *Ruleset) Decide(p Packet) Result {
	if err := p.Validate(); err != nil {
		return Result{Verdict: Uncertain, Possible: []Verdict{Uncertain}, Text: err.Error()}
	}
	v6 := p.Is6()
	if (r.format == IptablesSave && v6) || (r.format == Ip6tablesSave && !v6) {
		fam := "IPv4"
		if v6 {
			fam = "IPv6"
		}
		return Result{Verdict: Uncertain, Possible: []Verdict{Uncertain},
			Text: fmt.Sprintf("%s holds no %s rules; the guest's %s firewall was not given", r.format, fam, fam)}
	}
	e := &eval{ctx: newCtx(p, r), memo: map[*chain]*outset{}, onStack: map[*chain]bool{}, noted: map[noteKey]bool{}, diverge: map[int]bool{}}
	var final outset
	var accepts []accepted
	acceptAll := true
	for _, c := range r.path(p, v6) {
		s := e.base(c)
		for k := range okinds {
			if k != oAccept && s.has[k] {
				final.add(k, s.o[k])
			}
		}
		if !s.has[oAccept] {
			acceptAll = false
			break
		}
		accepts = append(accepts, accepted{s.o[oAccept], c})
	}
	if acceptAll {
		final.add(oAccept, joinAccepts(accepts, e.next()))
	}
	for _, g := range r.global {
		e.note(g.Line, g.Text, g.Reason+"; it is outside any chain, so it could change any decision")
		final.add(oUnknown, outcome{line: g.Line, text: g.Text, seq: 0})
	}
	return e.result(&final)
}

// accepted is the accept of one base chain.
type accepted struct {
	o outcome
	c *chain
}

// joinAccepts makes one accept of the accepts of every base chain passed:
// the deciding line is the last one a rule (not a policy) gave; failing
// that, the policy of the last filtering (not nat) chain.
func joinAccepts(accepts []accepted, seq int) outcome {
	if len(accepts) == 0 {
		return outcome{text: "no chain at the packet's hooks", seq: seq}
	}
	out := accepts[len(accepts)-1].o
	for i := len(accepts) - 1; i >= 0; i-- {
		if accepts[i].c.typ != "nat" {
			out = accepts[i].o
			break
		}
	}
	for i := len(accepts) - 1; i >= 0; i-- {
		if accepts[i].o.line != 0 {
			out = accepts[i].o
			break
		}
	}
	var steps []Step
	for _, a := range accepts {
		steps = append(steps, a.o.steps...)
	}
	out.steps, out.seq = steps, seq
	return out
}

var verdictOf = [okinds]Verdict{oAccept: Accept, oDrop: Drop, oReject: Reject, oUnknown: Uncertain}

func (e *eval) result(s *outset) Result {
	var res Result
	first := -1
	for k := range oReturn {
		if !s.has[k] {
			continue
		}
		res.Possible = append(res.Possible, verdictOf[k])
		o := s.o[k]
		res.Alternatives = append(res.Alternatives, Alternative{Verdict: verdictOf[k], Line: o.line, Text: o.text, Path: o.steps})
		if first < 0 || s.o[k].seq < s.o[first].seq {
			first = int(k)
		}
	}
	res.Verdict = Uncertain
	if len(res.Possible) == 1 {
		res.Verdict, res.Alternatives = res.Possible[0], nil
	}
	if first >= 0 {
		o := s.o[first]
		if s.has[oUnknown] {
			o = s.o[oUnknown]
		} else if res.Verdict == Uncertain {
			// Name the first unsettled line the answer turns on.
			for _, n := range e.notes {
				if e.diverge[n.Line] {
					o = outcome{line: n.Line, text: n.Text}
					break
				}
			}
		}
		res.Line, res.Text, res.Path = o.line, o.text, o.steps
	}
	res.Notes = e.notes
	slices.SortStableFunc(res.Notes, func(a, b Note) int { return cmp.Compare(a.Line, b.Line) })
	return res
}
