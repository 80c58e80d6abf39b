package guestfw

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
)

// tokKind is the kind of an nft token.
type tokKind uint8

const (
	tWord tokKind = iota
	tString
	tLBrace
	tRBrace
	tSemi
	tComma
	tNewline
)

type tok struct {
	kind tokKind
	text string
	line int
}

// lexNft splits nft text into tokens; '#' starts a comment to the end of
// the line.
func lexNft(text string) ([]tok, error) {
	var out []tok
	line := 1
	for i := 0; i < len(text); {
		ch := text[i]
		switch {
		case ch == '\n':
			out = append(out, tok{tNewline, "\n", line})
			line++
			i++
		case ch == ' ' || ch == '\t' || ch == '\r':
			i++
		case ch == '\\' && i+1 < len(text) && text[i+1] == '\n':
			line++
			i += 2
		case ch == '#':
			j := i
			for j < len(text) && text[j] != '\n' {
				j++
			}
			// nft shows an iptables extension it cannot translate as a
			// comment in the middle of the rule ("# xt_recent"): the rest of
			// the rule is then not shown, so the rule is not understood.
			if c := strings.TrimSpace(text[i+1 : j]); strings.HasPrefix(c, "xt_") {
				out = append(out, tok{tWord, "#" + strings.Fields(c)[0], line})
			}
			i = j
		case ch == '"':
			j := i + 1
			var b strings.Builder
			for j < len(text) && text[j] != '"' {
				if text[j] == '\\' && j+1 < len(text) {
					j++
				}
				if text[j] == '\n' {
					return nil, &ParseError{Format: NftRuleset, Line: line, Text: lineAt(text, line), Reason: "unterminated string"}
				}
				b.WriteByte(text[j])
				j++
			}
			if j >= len(text) {
				return nil, &ParseError{Format: NftRuleset, Line: line, Text: lineAt(text, line), Reason: "unterminated string"}
			}
			out = append(out, tok{tString, b.String(), line})
			i = j + 1
		case ch == '{':
			out = append(out, tok{tLBrace, "{", line})
			i++
		case ch == '}':
			out = append(out, tok{tRBrace, "}", line})
			i++
		case ch == ';':
			out = append(out, tok{tSemi, ";", line})
			i++
		case ch == ',':
			out = append(out, tok{tComma, ",", line})
			i++
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n{};,\"", rune(text[j])) {
				j++
			}
			out = append(out, tok{tWord, text[i:j], line})
			i = j
		}
	}
	return out, nil
}

// lineAt returns line n of text, trimmed.
func lineAt(text string, n int) string {
	for l := range strings.Lines(text) {
		if n--; n == 0 {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// nftSet is a named set or map of a table.
type nftSet struct {
	items   []string
	dynamic string // why its contents are not known, if so
}

type nftParser struct {
	rs    *Ruleset
	toks  []tok
	i     int
	lines []string
	// the current table
	fam   family
	table string
	sets  map[string]*nftSet
}

// ParseNft reads the output of nft list ruleset (or a file in that syntax,
// such as nftables.conf without variables or includes).
func ParseNft(text string) (*Ruleset, error) {
	toks, err := lexNft(text)
	if err != nil {
		return nil, err
	}
	p := &nftParser{rs: &Ruleset{format: NftRuleset}, toks: toks, lines: strings.Split(text, "\n")}
	if err := p.top(); err != nil {
		if pe := (*ParseError)(nil); errors.As(err, &pe) && pe.Line > 0 {
			pe.Text = p.lineText(pe.Line)
		}
		return nil, err
	}
	p.rs.link()
	return p.rs, nil
}

func (p *nftParser) lineText(n int) string {
	if n >= 1 && n <= len(p.lines) {
		return strings.TrimSpace(p.lines[n-1])
	}
	return ""
}

func (p *nftParser) peek() *tok {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *nftParser) skipBlank() {
	for t := p.peek(); t != nil && (t.kind == tNewline || t.kind == tSemi); t = p.peek() {
		p.i++
	}
}

// statement returns the tokens up to the end of the statement (a newline or
// ';' outside braces, or a '}' closing the enclosing block, which is left
// unread), with newlines inside braces dropped.
func (p *nftParser) statement() []tok {
	var out []tok
	depth := 0
	for t := p.peek(); t != nil; t = p.peek() {
		switch t.kind {
		case tNewline, tSemi:
			if depth == 0 {
				p.i++
				return out
			}
			if t.kind == tNewline {
				p.i++
				continue
			}
		case tLBrace:
			depth++
		case tRBrace:
			if depth == 0 {
				return out
			}
			depth--
		}
		out = append(out, *t)
		p.i++
	}
	return out
}

// skipBlock reads "{" … "}" balanced, returning whether it was closed.
func (p *nftParser) skipBlock() bool {
	depth := 0
	for t := p.peek(); t != nil; t = p.peek() {
		p.i++
		switch t.kind {
		case tLBrace:
			depth++
		case tRBrace:
			depth--
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

func (p *nftParser) unclosed(line int, what string) error {
	return &ParseError{Format: NftRuleset, Line: line, Reason: what + " is not closed (missing })"}
}

func nftFamily(name string) (family, bool) {
	switch name {
	case "ip":
		return famIP, true
	case "ip6":
		return famIP6, true
	case "inet":
		return famInet, true
	case "arp", "bridge":
		return famOther, true
	case "netdev":
		return famNetdev, true
	}
	return 0, false
}

func (p *nftParser) top() error {
	seen := false
	for {
		p.skipBlank()
		t := p.peek()
		if t == nil {
			break
		}
		if t.kind == tWord && t.text == "table" {
			seen = true
			if err := p.tableBlock(); err != nil {
				return err
			}
			continue
		}
		if t.kind == tRBrace {
			return &ParseError{Format: NftRuleset, Line: t.line, Reason: "unexpected }"}
		}
		line := t.line
		st := p.statement()
		if len(st) == 2 && st[0].text == "flush" && st[1].text == "ruleset" {
			continue
		}
		if len(st) == 0 {
			p.i++ // a stray '}' is handled above; anything else moves on
			continue
		}
		p.rs.addGlobal(line, p.lineText(line), fmt.Sprintf("statement %q is not understood outside a table", st[0].text))
		// A block that follows is part of the statement.
		if t := p.peek(); t != nil && t.kind == tLBrace && !p.skipBlock() {
			return p.unclosed(line, "block")
		}
	}
	if !seen && len(p.rs.global) > 0 {
		return &ParseError{Format: NftRuleset, Line: p.rs.global[0].Line, Reason: "no table in the text; it is not nft list ruleset output"}
	}
	return nil
}

func (p *nftParser) tableBlock() error {
	start := p.toks[p.i]
	p.i++ // table
	var words []string
	for t := p.peek(); t != nil && t.kind == tWord; t = p.peek() {
		words = append(words, t.text)
		p.i++
	}
	if t := p.peek(); t == nil || t.kind != tLBrace || len(words) == 0 || len(words) > 2 {
		return &ParseError{Format: NftRuleset, Line: start.line, Reason: "table must be written table [FAMILY] NAME {"}
	}
	p.i++
	fam, name := famIP, words[len(words)-1]
	if len(words) == 2 {
		f, ok := nftFamily(words[0])
		if !ok {
			return &ParseError{Format: NftRuleset, Line: start.line, Reason: fmt.Sprintf("unknown table family %q", words[0])}
		}
		fam = f
	}
	p.fam, p.table, p.sets = fam, name, map[string]*nftSet{}
	first := len(p.rs.chains)
	dormant := false
	for {
		p.skipBlank()
		t := p.peek()
		if t == nil {
			return p.unclosed(start.line, "table "+name)
		}
		if t.kind == tRBrace {
			p.i++
			break
		}
		line := t.line
		if t.kind != tWord {
			p.statement()
			p.rs.addGlobal(line, p.lineText(line), "not understood in a table")
			continue
		}
		switch t.text {
		case "chain":
			if err := p.chainBlock(); err != nil {
				return err
			}
			continue
		case "set", "map":
			if err := p.setBlock(); err != nil {
				return err
			}
			continue
		case "ct", "counter", "quota", "limit", "secmark", "synproxy", "flowtable", "tunnel":
			// Stateful objects and flowtables filter nothing by themselves;
			// a rule that uses one says so.
			for t := p.peek(); t != nil && t.kind != tLBrace && t.kind != tNewline; t = p.peek() {
				p.i++
			}
			if t := p.peek(); t != nil && t.kind == tLBrace && !p.skipBlock() {
				return p.unclosed(line, "object")
			}
			continue
		}
		st := p.statement()
		switch {
		case st[0].text == "comment":
		case st[0].text == "flags":
			for _, f := range st[1:] {
				switch f.text {
				case "dormant":
					dormant = true
				case "owner", "persist", ",":
				default:
					p.rs.addGlobal(line, p.lineText(line), fmt.Sprintf("table flag %q is not understood", f.text))
				}
			}
		default:
			p.rs.addGlobal(line, p.lineText(line), fmt.Sprintf("%q is not understood in a table", st[0].text))
			if t := p.peek(); t != nil && t.kind == tLBrace && !p.skipBlock() {
				return p.unclosed(line, "block")
			}
		}
	}
	if dormant {
		for _, c := range p.rs.chains[first:] {
			c.base = false // a dormant table's chains are not attached
		}
	}
	return nil
}

func (p *nftParser) setBlock() error {
	start := p.toks[p.i]
	p.i++
	nt := p.peek()
	if nt == nil || nt.kind != tWord {
		return &ParseError{Format: NftRuleset, Line: start.line, Reason: start.text + " without a name"}
	}
	p.i++
	if t := p.peek(); t == nil || t.kind != tLBrace {
		return &ParseError{Format: NftRuleset, Line: start.line, Reason: start.text + " " + nt.text + " without {"}
	}
	p.i++
	s := &nftSet{}
	if start.text == "map" {
		s.dynamic = "named maps are not read"
	}
	for {
		p.skipBlank()
		t := p.peek()
		if t == nil {
			return p.unclosed(start.line, start.text+" "+nt.text)
		}
		if t.kind == tRBrace {
			p.i++
			break
		}
		st := p.statement()
		if len(st) == 0 {
			continue
		}
		switch st[0].text {
		case "type", "typeof":
			for _, w := range st {
				if w.text == "." {
					s.dynamic = "sets of concatenated keys are not read"
				}
			}
		case "flags":
			for _, w := range st[1:] {
				if w.text == "dynamic" || w.text == "timeout" {
					s.dynamic = "the set changes at run time"
				}
			}
		case "timeout":
			s.dynamic = "the set's elements expire"
		case "elements":
			for _, w := range st[1:] {
				if w.kind == tWord && w.text != "=" {
					s.items = append(s.items, w.text)
				}
				if w.kind == tWord && (w.text == "timeout" || w.text == "expires" || w.text == ":") {
					s.dynamic = "set elements with timeouts or values are not read"
				}
			}
		}
	}
	p.sets[nt.text] = s
	return nil
}

// namedPriority returns the value of a named priority of the ip, ip6 and
// inet families.
func namedPriority(name string) (int, bool) {
	switch name {
	case "raw":
		return -300, true
	case "mangle":
		return -150, true
	case "dstnat":
		return -100, true
	case "filter":
		return 0, true
	case "security":
		return 50, true
	case "srcnat":
		return 100, true
	}
	return 0, false
}

// parsePriority parses a priority as nft prints it: a number, a name, or
// a name plus or minus a number ("filter + 10").
func parsePriority(ws []string) (int, error) {
	s := strings.Join(ws, "")
	bad := fmt.Errorf("priority %q is not understood", strings.Join(ws, " "))
	name := s
	if k := strings.IndexAny(s, "+-"); k >= 0 {
		name = s[:k]
	}
	if v, ok := namedPriority(name); ok {
		rest := s[len(name):]
		if rest == "" {
			return v, nil
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			return 0, bad
		}
		return v + n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, bad
	}
	return n, nil
}

func nftHook(name string) (hook, bool) {
	switch name {
	case "ingress":
		return hookIngress, true
	case "prerouting":
		return hookPrerouting, true
	case "input":
		return hookInput, true
	case "forward":
		return hookForward, true
	case "output":
		return hookOutput, true
	case "postrouting":
		return hookPostrouting, true
	case "egress":
		return hookEgress, true
	}
	return hookNone, false
}

func (p *nftParser) chainBlock() error {
	start := p.toks[p.i]
	p.i++
	nt := p.peek()
	if nt == nil || (nt.kind != tWord && nt.kind != tString) {
		return &ParseError{Format: NftRuleset, Line: start.line, Reason: "chain without a name"}
	}
	p.i++
	if t := p.peek(); t == nil || t.kind != tLBrace {
		return &ParseError{Format: NftRuleset, Line: start.line, Reason: "chain " + nt.text + " without {"}
	}
	p.i++
	c := &chain{family: p.fam, table: p.table, name: nt.text, line: start.line, text: p.lineText(start.line)}
	p.rs.chains = append(p.rs.chains, c)
	setIssue := func(line int, reason string) {
		if c.issue == "" {
			c.issue = reason
		}
		p.rs.addIssue(line, p.lineText(line), reason)
	}
	for {
		p.skipBlank()
		t := p.peek()
		if t == nil {
			return p.unclosed(start.line, "chain "+nt.text)
		}
		if t.kind == tRBrace {
			p.i++
			break
		}
		line := t.line
		st := p.statement()
		if len(st) == 0 {
			continue
		}
		switch {
		case st[0].text == "type" && st[0].kind == tWord:
			if err := p.chainType(c, st); err != nil {
				setIssue(line, err.Error())
			}
		case st[0].text == "policy" && len(st) == 2:
			switch st[1].text {
			case "accept":
				c.policy = Accept
			case "drop":
				c.policy = Drop
			default:
				setIssue(line, fmt.Sprintf("chain policy %q is not accept or drop", st[1].text))
			}
		case st[0].text == "comment" && len(st) == 2 && st[1].kind == tString:
		default:
			r := &rule{line: line, text: p.lineText(line)}
			p.rule(r, st)
			if r.problem != "" {
				p.rs.addIssue(line, r.text, r.problem)
			} else if r.tgt.kind == tUnknown {
				p.rs.addIssue(line, r.text, r.tgt.reason)
			}
			c.rules = append(c.rules, r)
		}
	}
	if c.base && c.policy == 0 {
		c.policy = Accept
	}
	return nil
}

func (p *nftParser) chainType(c *chain, st []tok) error {
	if len(st) < 4 || st[2].text != "hook" {
		return fmt.Errorf("chain type must be written type TYPE hook HOOK … priority P")
	}
	c.typ = st[1].text
	if c.typ != "filter" && c.typ != "nat" && c.typ != "route" {
		return fmt.Errorf("chain type %q is not understood", c.typ)
	}
	h, ok := nftHook(st[3].text)
	if !ok {
		return fmt.Errorf("hook %q is not understood", st[3].text)
	}
	c.base, c.hook, c.policy = true, h, Accept
	if c.family == famOther {
		c.hook = hookNone // arp and bridge chains never see the guest's own IP packets
	}
	if c.family == famNetdev && h != hookIngress && h != hookEgress {
		return fmt.Errorf("netdev hook %q is not understood", st[3].text)
	}
	rest := st[4:]
	for len(rest) > 0 {
		switch rest[0].text {
		case "device":
			if len(rest) < 2 {
				return fmt.Errorf("device without a name")
			}
			c.devices = append(c.devices, rest[1].text)
			rest = rest[2:]
		case "devices":
			k := 1
			for ; k < len(rest) && rest[k].kind != tRBrace; k++ {
				if (rest[k].kind == tWord || rest[k].kind == tString) && rest[k].text != "=" {
					c.devices = append(c.devices, rest[k].text)
				}
			}
			rest = rest[min(k+1, len(rest)):]
		case "priority":
			var ws []string
			for _, w := range rest[1:] {
				ws = append(ws, w.text)
			}
			prio, err := parsePriority(ws)
			if err != nil {
				return err
			}
			c.prio = prio
			rest = nil
		default:
			return fmt.Errorf("%q is not understood in a chain type", rest[0].text)
		}
	}
	return nil
}

// ruleCursor walks a rule's tokens.
type ruleCursor struct {
	p    *nftParser
	r    *rule
	toks []tok
	i    int
}

func (rc *ruleCursor) peek() string {
	if rc.i < len(rc.toks) {
		return rc.toks[rc.i].text
	}
	return ""
}

func (rc *ruleCursor) more() bool { return rc.i < len(rc.toks) }

func (rc *ruleCursor) next() (tok, bool) {
	if rc.i >= len(rc.toks) {
		return tok{}, false
	}
	rc.i++
	return rc.toks[rc.i-1], true
}

func (rc *ruleCursor) fail(format string, a ...any) {
	if rc.r.problem == "" {
		rc.r.problem = fmt.Sprintf(format, a...)
	}
}

// value reads a value: a word, a comma list of words, an anonymous set in
// braces, or a named set (@NAME). It reports why its contents are not
// known, if so.
func (rc *ruleCursor) value() (items []string, unknown string, ok bool) {
	t, ok := rc.next()
	if !ok {
		return nil, "", false
	}
	switch t.kind {
	case tLBrace:
		for {
			u, ok := rc.next()
			if !ok {
				return nil, "", false
			}
			if u.kind == tRBrace {
				return items, "", true
			}
			if u.kind == tComma {
				continue
			}
			if u.kind == tLBrace || u.text == ":" || u.text == "." {
				return nil, "", false
			}
			items = append(items, u.text)
		}
	case tWord, tString:
		if name, isRef := strings.CutPrefix(t.text, "@"); isRef {
			s := rc.p.sets[name]
			if s == nil {
				return nil, "", false
			}
			return s.items, s.dynamic, true
		}
		items = append(items, t.text)
		for rc.i+1 < len(rc.toks) && rc.toks[rc.i].kind == tComma {
			items = append(items, rc.toks[rc.i+1].text)
			rc.i += 2
		}
		return items, "", true
	}
	return nil, "", false
}

// selector is a packet field a rule compares.
type selector struct {
	kind  string // addr, proto, port, iface, state, status, icmp, nfproto, pkttype, fibtype, maybe
	src   bool
	v6    bool
	in    bool
	fam   int8 // 0: none, 4 or 6: the family the field needs
	proto []uint8
	what  string
	why   string // for maybe
}

func maybeSel(what, why string) selector { return selector{kind: "maybe", what: what, why: why} }

// selector reads a selector at the cursor, or reports that there is none.
func (rc *ruleCursor) selector() (selector, bool) {
	w := rc.peek()
	two := func(fields map[string]selector) (selector, bool) {
		if rc.i+1 >= len(rc.toks) {
			return selector{}, false
		}
		f := rc.toks[rc.i+1].text
		s, ok := fields[f]
		if !ok {
			s = maybeSel(w+" "+f, "the "+w+" "+f+" field, which the check does not give")
		}
		if s.what == "" {
			s.what = w + " " + f
		}
		rc.i += 2
		return s, true
	}
	l4 := func(n uint8) map[string]selector {
		m := map[string]selector{"dport": {kind: "port", proto: []uint8{n}}, "sport": {kind: "port", src: true, proto: []uint8{n}}}
		if n == policy.NumTCP {
			m["flags"] = selector{kind: "tcpflags"}
		}
		return m
	}
	switch w {
	case "ip":
		return two(map[string]selector{"saddr": {kind: "addr", src: true, fam: 4}, "daddr": {kind: "addr", fam: 4},
			"protocol": {kind: "proto", fam: 4}})
	case "ip6":
		return two(map[string]selector{"saddr": {kind: "addr", src: true, v6: true, fam: 6}, "daddr": {kind: "addr", v6: true, fam: 6},
			"nexthdr": {kind: "proto", fam: 6}})
	case "tcp":
		return two(l4(policy.NumTCP))
	case "udp":
		return two(l4(policy.NumUDP))
	case "udplite":
		return two(l4(136))
	case "sctp":
		return two(l4(132))
	case "dccp":
		return two(l4(33))
	case "th":
		return two(map[string]selector{"dport": {kind: "port"}, "sport": {kind: "port", src: true}})
	case "icmp":
		return two(map[string]selector{"type": {kind: "icmp"}})
	case "icmpv6":
		return two(map[string]selector{"type": {kind: "icmp", v6: true}})
	case "meta":
		return two(map[string]selector{"l4proto": {kind: "proto"}, "nfproto": {kind: "nfproto"}, "protocol": {kind: "nfproto"},
			"iif": {kind: "iface", in: true}, "iifname": {kind: "iface", in: true}, "oif": {kind: "iface"}, "oifname": {kind: "iface"},
			"pkttype": {kind: "pkttype"}, "mark": maybeSel("", "a packet mark, which is not modelled"),
			"skuid": maybeSel("", "the owning user, which the check does not give"),
			"skgid": maybeSel("", "the owning group, which the check does not give")})
	case "iif", "iifname", "oif", "oifname":
		rc.i++
		return selector{kind: "iface", in: w[0] == 'i', what: w}, true
	case "pkttype":
		rc.i++
		return selector{kind: "pkttype", what: w}, true
	case "mark":
		rc.i++
		return maybeSel(w, "a packet mark, which is not modelled"), true
	case "ct":
		if rc.i+1 < len(rc.toks) && (rc.toks[rc.i+1].text == "original" || rc.toks[rc.i+1].text == "reply") && rc.i+2 < len(rc.toks) {
			what := "ct " + rc.toks[rc.i+1].text + " " + rc.toks[rc.i+2].text
			rc.i += 3
			return maybeSel(what, "connection details, which are not modelled"), true
		}
		return two(map[string]selector{"state": {kind: "state"}, "status": {kind: "status"},
			"mark": maybeSel("", "a connection mark, which is not modelled")})
	case "fib":
		start := rc.i
		rc.i++
		var flags []string
		for rc.more() {
			f := rc.peek()
			rc.i++
			if f == "type" || f == "oif" || f == "oifname" {
				what := strings.Join(tokTexts(rc.toks[start:rc.i]), " ")
				if f == "type" && len(flags) == 1 && (flags[0] == "saddr" || flags[0] == "daddr") {
					return selector{kind: "fibtype", src: flags[0] == "saddr", what: what}, true
				}
				return maybeSel(what, "a route lookup, which depends on the guest's routes"), true
			}
			if f != "." {
				flags = append(flags, f)
			}
		}
		rc.i = start
	}
	return selector{}, false
}

func tokTexts(ts []tok) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.text
	}
	return out
}

// build makes the condition "sel op items".
func (rc *ruleCursor) build(sel selector, op string, items []string) (cond, error) {
	negate := op == "!=" || op == "ne"
	var cs []cond
	if sel.fam != 0 {
		cs = append(cs, famCond{v6: sel.fam == 6})
	}
	if sel.kind == "maybe" {
		return maybeCond{fmt.Sprintf("%s matches on %s", sel.what, sel.why)}, nil
	}
	if op != "" && op != "==" && op != "eq" && op != "!=" && op != "ne" {
		if sel.kind != "port" || len(items) != 1 {
			return nil, fmt.Errorf("operator %s is not understood for %s", op, sel.what)
		}
	}
	switch sel.kind {
	case "addr":
		var set []addrRange
		for _, it := range items {
			r, err := parseNftAddr(it, sel.v6)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", sel.what, it, err)
			}
			set = append(set, r)
		}
		cs = append(cs, addrCond{src: sel.src, set: set, negate: negate})
	case "proto":
		var nums []uint8
		for _, it := range items {
			n, err := parseProto(it)
			if err != nil {
				return nil, err
			}
			nums = append(nums, n)
		}
		cs = append(cs, protoCond{nums: nums, negate: negate})
	case "port":
		var ranges []policy.PortRange
		if op != "" && op != "==" && op != "eq" && op != "!=" && op != "ne" {
			n, err := parsePortNumber(items[0])
			if err != nil {
				return nil, err
			}
			var r policy.PortRange
			switch op {
			case "<", "lt":
				if n == 0 {
					return constCond{no}, nil
				}
				r = policy.PortRange{Lo: 0, Hi: n - 1}
			case "<=", "le":
				r = policy.PortRange{Lo: 0, Hi: n}
			case ">", "gt":
				if n == 65535 {
					return constCond{no}, nil
				}
				r = policy.PortRange{Lo: n + 1, Hi: 65535}
			case ">=", "ge":
				r = policy.PortRange{Lo: n, Hi: 65535}
			default:
				return nil, fmt.Errorf("operator %s is not understood", op)
			}
			ranges = []policy.PortRange{r}
		} else {
			for _, it := range items {
				r, err := parseIptPorts(it, "-")
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", sel.what, it, err)
				}
				ranges = append(ranges, r...)
			}
		}
		protos := sel.proto
		cs = append(cs, portCond{src: sel.src, ranges: ranges, negate: negate, protos: protos, what: sel.what})
	case "iface":
		cs = append(cs, ifaceCond{in: sel.in, names: items, negate: negate, what: sel.what + " " + strings.Join(items, ",")})
	case "state":
		mask, err := parseStates(items)
		if err != nil {
			return nil, err
		}
		cs = append(cs, stateCond{mask: mask, negate: negate, what: "ct state " + strings.Join(items, ",")})
	case "status":
		cs = append(cs, ctStatus(items, negate, "ct status "+strings.Join(items, ",")))
	case "icmp":
		var types []icmpType
		for _, it := range items {
			t, err := parseICMPType(it, sel.v6)
			if err != nil {
				return nil, err
			}
			types = append(types, t)
		}
		cs = append(cs, icmpCond{v6: sel.v6, types: types, negate: negate, what: sel.what + " " + strings.Join(items, ",")})
	case "nfproto":
		if len(items) != 1 || (items[0] != "ipv4" && items[0] != "ipv6" && items[0] != "ip" && items[0] != "ip6") {
			return nil, fmt.Errorf("%s %s is not understood", sel.what, strings.Join(items, ","))
		}
		cs = append(cs, famCond{v6: strings.HasSuffix(items[0], "6"), negate: negate})
	case "pkttype":
		var mask uint16
		for _, it := range items {
			b, ok := map[string]uint16{"host": ptHost, "unicast": ptUnicast, "broadcast": ptBroadcast, "multicast": ptMulticast, "other": ptOther}[it]
			if !ok {
				return nil, fmt.Errorf("packet type %q is not understood", it)
			}
			mask |= b
		}
		cs = append(cs, pktTypeCond{mask: mask, negate: negate})
	case "fibtype":
		var mask uint16
		for _, it := range items {
			b, ok := addrTypeBit(strings.ToUpper(it))
			if !ok {
				return nil, fmt.Errorf("address type %q is not understood", it)
			}
			mask |= b
		}
		cs = append(cs, addrTypeCond{src: sel.src, mask: mask, negate: negate})
	default:
		return nil, fmt.Errorf("%s is not understood", sel.what)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return andCond(cs), nil
}

// andCond holds when all its conditions hold.
type andCond []cond

func (a andCond) match(c *pctx) (tri, string) {
	res, why := yes, ""
	for _, x := range a {
		m, r := x.match(c)
		if m == no {
			return no, ""
		}
		if m == maybe && res == yes {
			res, why = maybe, r
		}
	}
	return res, why
}

func parseNftAddr(s string, v6 bool) (addrRange, error) {
	if lo, hi, ok := strings.Cut(s, "-"); ok && !strings.Contains(s, "/") {
		l, err1 := netip.ParseAddr(lo)
		h, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil || l.Is6() != v6 || h.Is6() != v6 || h.Less(l) {
			return addrRange{}, fmt.Errorf("not a range of IPv%s addresses", map[bool]string{false: "4", true: "6"}[v6])
		}
		return addrRange{l, h}, nil
	}
	pfx, err := parseIptAddr(s)
	if err != nil {
		return addrRange{}, err
	}
	if pfx.Addr().Is6() != v6 {
		return addrRange{}, fmt.Errorf("not an IPv%s address", map[bool]string{false: "4", true: "6"}[v6])
	}
	return prefixRange(pfx), nil
}

func isNftOp(s string) bool {
	switch s {
	case "==", "!=", "eq", "ne", "<", ">", "<=", ">=", "lt", "gt", "le", "ge":
		return true
	}
	return false
}

// rule reads one nft rule.
func (p *nftParser) rule(r *rule, toks []tok) {
	rc := &ruleCursor{p: p, r: r, toks: toks}
	for rc.more() && r.problem == "" {
		if sel, ok := rc.selector(); ok {
			rc.expr(sel)
			continue
		}
		if done := rc.statementWord(); done {
			break
		}
	}
	if r.problem == "" {
		if rc.peek() == "comment" && rc.i+2 == len(toks) {
			return // nft prints a rule's comment after its verdict
		}
		if rc.more() {
			rc.fail("%q follows the rule's verdict", rc.peek())
		}
		return
	}
	// The rest of the rule was not understood; its verdict is still
	// wanted, read from the end of the rule (before a trailing comment).
	end := len(toks)
	if end >= 2 && toks[end-2].text == "comment" && toks[end-2].kind == tWord {
		end -= 2
	}
	switch {
	case end >= 1 && slices.Contains([]string{"accept", "drop", "return", "continue"}, toks[end-1].text):
		rc.toks, rc.i = toks[:end], end-1
		rc.statementWord()
	case end >= 2 && (toks[end-2].text == "jump" || toks[end-2].text == "goto"):
		rc.toks, rc.i = toks[:end], end-2
		rc.statementWord()
	default:
		// No verdict can be read: what the rule does is not known.
		r.tgt = target{kind: tUnknown, text: "(not understood)", reason: "not understood: " + r.problem}
	}
}

// expr reads the comparison or verdict map that follows a selector.
func (rc *ruleCursor) expr(sel selector) {
	op := ""
	if isNftOp(rc.peek()) {
		op = rc.peek()
		rc.i++
	}
	switch rc.peek() {
	case "set":
		// A statement setting the field (meta mark set 1): no verdict, and
		// matches on marks are unsettled anyway.
		rc.i++
		if _, _, ok := rc.value(); !ok {
			rc.fail("%s set without a value", sel.what)
		}
		return
	case "vmap":
		rc.i++
		rc.vmap(sel)
		return
	}
	if sel.kind == "tcpflags" {
		rc.tcpFlags(op)
		return
	}
	at := rc.peek()
	items, unknown, ok := rc.value()
	if !ok {
		if name, isRef := strings.CutPrefix(at, "@"); isRef && rc.p.sets[name] == nil {
			rc.fail("set %s is not declared in table %s before it is used", name, rc.p.table)
			return
		}
		rc.fail("value of %s is not understood", sel.what)
		return
	}
	if unknown != "" {
		rc.r.conds = append(rc.r.conds, maybeCond{fmt.Sprintf("%s compares with a set whose contents are not known: %s", sel.what, unknown)})
		return
	}
	c, err := rc.build(sel, op, items)
	if err != nil {
		rc.fail("%v", err)
		return
	}
	rc.r.conds = append(rc.r.conds, c)
}

func (rc *ruleCursor) vmap(sel selector) {
	t, ok := rc.next()
	if !ok || t.kind != tLBrace {
		rc.fail("verdict map of %s is not an anonymous map", sel.what)
		return
	}
	var entries []vmapEntry
	for {
		var key []string
		for rc.more() && rc.peek() != ":" && rc.toks[rc.i].kind != tRBrace {
			if rc.toks[rc.i].kind != tComma {
				key = append(key, rc.peek())
			}
			rc.i++
		}
		if !rc.more() || rc.toks[rc.i].kind == tRBrace {
			rc.i++
			break
		}
		rc.i++ // :
		if len(key) != 1 {
			rc.fail("verdict map key %q is not understood", strings.Join(key, " "))
			return
		}
		c, err := rc.build(sel, "", key)
		if err != nil {
			rc.fail("%v", err)
			return
		}
		v, ok := rc.next()
		if !ok {
			rc.fail("verdict map without a verdict")
			return
		}
		tg := target{text: v.text}
		switch v.text {
		case "accept":
			tg.kind = tAccept
		case "drop":
			tg.kind = tDrop
		case "return":
			tg.kind = tReturn
		case "continue":
			tg.kind = tContinue
		case "jump", "goto":
			n, ok := rc.next()
			if !ok {
				rc.fail("%s without a chain", v.text)
				return
			}
			tg.kind, tg.name, tg.text = tJump, n.text, v.text+" "+n.text
			if v.text == "goto" {
				tg.kind = tGoto
			}
		default:
			rc.fail("verdict %q is not understood", v.text)
			return
		}
		entries = append(entries, vmapEntry{c: c, t: tg})
		if rc.more() && rc.toks[rc.i].kind == tComma {
			rc.i++
		}
	}
	rc.r.tgt = target{kind: tVmap, text: sel.what + " vmap", vmap: entries}
	if rc.more() {
		rc.fail("%q follows a verdict map", rc.peek())
	}
}

// statementWord reads a statement or verdict at the cursor and reports
// whether it ended the rule.
func (rc *ruleCursor) statementWord() bool {
	t, _ := rc.next()
	w := t.text
	r := rc.r
	skipArgs := func(args map[string]int) {
		for rc.more() {
			n, ok := args[rc.peek()]
			if !ok {
				return
			}
			rc.i += 1 + n
			for rc.more() && rc.toks[rc.i].kind == tComma && rc.i+1 < len(rc.toks) {
				rc.i += 2
			}
		}
	}
	switch w {
	case "counter":
		skipArgs(map[string]int{"packets": 1, "bytes": 1, "name": 1})
	case "log":
		skipArgs(map[string]int{"prefix": 1, "level": 1, "flags": 1, "group": 1, "snaplen": 1, "queue-threshold": 1})
	case "comment":
		rc.i++
	case "accept":
		r.tgt = target{kind: tAccept, text: w}
		return true
	case "drop":
		r.tgt = target{kind: tDrop, text: w}
		return true
	case "return":
		r.tgt = target{kind: tReturn, text: w}
		return true
	case "continue":
		r.tgt = target{kind: tContinue, text: w}
		return true
	case "reject":
		r.tgt = target{kind: tReject, text: w}
		if rc.peek() == "with" {
			start := rc.i - 1
			rc.i++
			switch rc.peek() {
			case "tcp":
				rc.i += 2 // tcp reset
			case "icmp", "icmpv6", "icmpx":
				rc.i++
				if rc.peek() == "type" {
					rc.i++
				}
				rc.i++
			default:
				rc.fail("reject with %q is not understood", rc.peek())
			}
			r.tgt.text = strings.Join(tokTexts(rc.toks[start:min(rc.i, len(rc.toks))]), " ")
		}
		return true
	case "jump", "goto":
		n, ok := rc.next()
		if !ok {
			rc.fail("%s without a chain", w)
			return true
		}
		r.tgt = target{kind: tJump, name: n.text, text: w + " " + n.text}
		if w == "goto" {
			r.tgt.kind = tGoto
		}
		return true
	case "queue":
		r.tgt = target{kind: tUnknown, text: w, reason: "the packet is queued to a userspace program, which decides"}
		rc.i = len(rc.toks)
		return true
	case "notrack":
		r.tgt = target{kind: tUnknown, text: w, reason: "notrack takes the packet out of connection tracking, which is not followed"}
	case "dnat", "redirect":
		rc.p.rs.hasDNAT = true
		r.tgt = target{kind: tUnknown, text: strings.Join(tokTexts(rc.toks[rc.i-1:]), " ")}
		r.tgt.reason = r.tgt.text + " rewrites the destination: the packet goes elsewhere, which is not followed"
		rc.i = len(rc.toks)
		return true
	case "snat", "masquerade":
		rc.p.rs.hasSNAT = true
		r.tgt = target{kind: tNatDone, text: strings.Join(tokTexts(rc.toks[rc.i-1:]), " ")}
		rc.i = len(rc.toks)
		return true
	case "limit":
		for rc.more() && !slices.Contains([]string{"accept", "drop", "reject", "jump", "goto", "return", "counter", "log", "comment"}, rc.peek()) {
			rc.i++
		}
		r.conds = append(r.conds, maybeCond{"a rate limit, which depends on traffic"})
	case "quota":
		for rc.more() && !slices.Contains([]string{"accept", "drop", "reject", "jump", "goto", "return", "counter", "log", "comment"}, rc.peek()) {
			rc.i++
		}
		r.conds = append(r.conds, maybeCond{"a byte quota, which depends on traffic"})
	case "add", "update", "delete":
		// add @set { ip saddr }: changes a set, gives no verdict.
		if !strings.HasPrefix(rc.peek(), "@") {
			rc.fail("statement %q is not understood", w)
			return true
		}
		rc.i++
		if _, _, ok := rc.value(); !ok {
			rc.fail("%s to a set is not understood", w)
		}
	case "xt":
		kind, _ := rc.next()
		name, _ := rc.next()
		if kind.text == "target" {
			r.tgt = target{kind: tUnknown, text: "xt target " + name.text, reason: "iptables target " + name.text + " that nft cannot show is not understood"}
			return true
		}
		r.conds = append(r.conds, maybeCond{"iptables match " + name.text + " that nft cannot show is not understood"})
	default:
		if name, ok := strings.CutPrefix(w, "#xt_"); ok {
			rc.fail("iptables extension %s is shown as a comment, and the rest of the rule with it", name)
			return true
		}
		rc.fail("%q is not understood", w)
		return true
	}
	return false
}

// tcpFlags reads what follows "tcp flags" (and an operator): a mask test
// "& (fin|syn|rst|ack) == syn", a masked value "syn / fin,syn,rst,ack", an
// exact value "== syn", or bits of which one must be set "syn,ack".
func (rc *ruleCursor) tcpFlags(op string) {
	flags := func(words []string) (uint8, error) {
		var out uint8
		for _, w := range words {
			for _, f := range strings.FieldsFunc(w, func(r rune) bool { return r == '|' || r == '(' || r == ')' || r == ',' }) {
				b, err := parseTCPFlags(f)
				if err != nil {
					return 0, err
				}
				out |= b
			}
		}
		return out, nil
	}
	// words reads tokens up to the next operator or expression.
	words := func(stop func(string) bool) []string {
		var out []string
		for rc.more() && !stop(rc.peek()) {
			out = append(out, rc.peek())
			rc.i++
		}
		return out
	}
	isOp := func(w string) bool { return isNftOp(w) }
	if op == "" && rc.peek() == "&" {
		rc.i++
		var maskWords []string
		for rc.more() {
			w := rc.peek()
			rc.i++
			maskWords = append(maskWords, w)
			if strings.HasSuffix(w, ")") || !strings.HasPrefix(maskWords[0], "(") {
				break
			}
		}
		mask, err1 := flags(maskWords)
		cmp := rc.peek()
		if !isOp(cmp) || (cmp != "==" && cmp != "!=" && cmp != "eq" && cmp != "ne") {
			rc.fail("tcp flags & … without == or !=")
			return
		}
		rc.i++
		want, err2 := flags(words(func(w string) bool { return !isFlagWord(w) }))
		if err := errors.Join(err1, err2); err != nil {
			rc.fail("tcp flags: %v", err)
			return
		}
		rc.r.conds = append(rc.r.conds, tcpFlagsCond{mask: mask, want: want, negate: cmp == "!=" || cmp == "ne"})
		return
	}
	if op != "" && op != "==" && op != "!=" && op != "eq" && op != "ne" {
		rc.fail("tcp flags %s is not understood", op)
		return
	}
	value, err := flags(words(func(w string) bool { return w == "/" || !isFlagWord(w) }))
	if err != nil {
		rc.fail("tcp flags: %v", err)
		return
	}
	negate := op == "!=" || op == "ne"
	if rc.peek() == "/" {
		rc.i++
		mask, err := flags(words(func(w string) bool { return !isFlagWord(w) }))
		if err != nil {
			rc.fail("tcp flags: %v", err)
			return
		}
		rc.r.conds = append(rc.r.conds, tcpFlagsCond{mask: mask, want: value, negate: negate})
		return
	}
	switch {
	case op == "":
		rc.r.conds = append(rc.r.conds, tcpFlagsAnyCond{bits: value})
	case !negate:
		rc.r.conds = append(rc.r.conds, tcpFlagsCond{mask: 0xff, want: value})
	default:
		rc.fail("tcp flags != without a mask is not understood")
	}
}

// isFlagWord reports whether w is made of TCP flag names (with | and ,
// and parentheses), as nft prints them.
func isFlagWord(w string) bool {
	if w == "," || w == "|" {
		return true
	}
	fs := strings.FieldsFunc(w, func(r rune) bool { return r == '|' || r == '(' || r == ')' || r == ',' })
	if len(fs) == 0 {
		return false
	}
	for _, f := range fs {
		if _, err := parseTCPFlags(f); err != nil {
			return false
		}
	}
	return true
}
