package netnstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// LoadNft loads an nftables script into ns with `nft -f -`.
func LoadNft(ns NS, script string) error {
	if _, err := ExecInput(ns, []byte(script), "nft", "-f", "-"); err != nil {
		return fmt.Errorf("load nft script: %w", err)
	}
	return nil
}

// Counter is one counter's values.
type Counter struct {
	Packets, Bytes uint64
}

// Rule is one rule of a chain.
type Rule struct {
	Handle  uint64
	Comment string
	// Counters are the rule's anonymous counter statements, in order.
	Counters []Counter
	// CounterRefs are the named counters the rule updates (`counter name X`).
	CounterRefs []string
}

// Packets returns the sum of the packets of the rule's anonymous counters.
func (r Rule) Packets() uint64 {
	var n uint64
	for _, c := range r.Counters {
		n += c.Packets
	}
	return n
}

// Chain is one chain and its rules.
type Chain struct {
	Family, Table, Name string
	// Hook and Policy are empty for a regular chain.
	Hook, Policy string
	Rules        []Rule
}

// Packets returns the sum of the packets of every anonymous counter
// statement in the chain.
func (c *Chain) Packets() uint64 {
	var n uint64
	for _, r := range c.Rules {
		n += r.Packets()
	}
	return n
}

// Element is one element of a set or map.
type Element struct {
	// Key is the element's key in nft syntax, for example
	// "10.0.0.0/8 . tcp . 23-80".
	Key string
	// Value is a map element's value ("jump p1", "accept", "10.0.0.1"); empty
	// for a set.
	Value string
	// Counter is the element's counter, when the set has `counter`.
	Counter *Counter
}

// Set is a named set or map.
type Set struct {
	Family, Table, Name string
	// Map is the map's value type ("verdict", "ipv4_addr"…); empty for a set.
	Map      string
	Elements []Element
}

// Element returns the element whose key is key.
func (s *Set) Element(key string) (Element, bool) {
	for _, e := range s.Elements {
		if e.Key == key {
			return e, true
		}
	}
	return Element{}, false
}

// Ruleset is the parsed `nft -j list ruleset` of a namespace.
type Ruleset struct {
	Tables []string // "family name"
	Chains []*Chain
	Sets   []*Set
	// Counters are the named counter objects, by "family table name".
	Counters map[string]Counter
}

// Chain returns the chain family/table/name, or nil.
func (rs *Ruleset) Chain(family, table, name string) *Chain {
	for _, c := range rs.Chains {
		if c.Family == family && c.Table == table && c.Name == name {
			return c
		}
	}
	return nil
}

// Set returns the set or map family/table/name, or nil.
func (rs *Ruleset) Set(family, table, name string) *Set {
	for _, s := range rs.Sets {
		if s.Family == family && s.Table == table && s.Name == name {
			return s
		}
	}
	return nil
}

// NftJSON lists the ruleset of ns as JSON (`nft -j list ruleset`) and parses
// it.
func NftJSON(ns NS) (*Ruleset, error) {
	out, err := execNS(ns, nil, false, []string{"nft", "-j", "list", "ruleset"})
	if err != nil {
		return nil, err
	}
	rs, err := ParseNftJSON(out)
	if err != nil {
		return nil, fmt.Errorf("ruleset of %s: %w", ns, err)
	}
	return rs, nil
}

// ParseNftJSON parses the output of `nft -j list ruleset`. Objects other
// than tables, chains, rules, sets, maps and counters are ignored; a counter
// or element it cannot read is an error.
func ParseNftJSON(data []byte) (*Ruleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse nft json: %w", err)
	}
	if doc.Nftables == nil {
		return nil, errors.New(`parse nft json: no "nftables" array`)
	}
	rs := &Ruleset{Counters: map[string]Counter{}}
	type ref struct{ family, table, name string }
	chains := map[ref]*Chain{}
	var rules []struct {
		chain ref
		rule  Rule
	}
	for i, obj := range doc.Nftables {
		for kind, raw := range obj {
			switch kind {
			case "table":
				var t struct{ Family, Name string }
				if err := json.Unmarshal(raw, &t); err != nil {
					return nil, fmt.Errorf("nft json object %d (table): %w", i, err)
				}
				rs.Tables = append(rs.Tables, t.Family+" "+t.Name)
			case "chain":
				var c struct{ Family, Table, Name, Hook, Policy string }
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("nft json object %d (chain): %w", i, err)
				}
				ch := &Chain{Family: c.Family, Table: c.Table, Name: c.Name, Hook: c.Hook, Policy: c.Policy}
				chains[ref{c.Family, c.Table, c.Name}] = ch
				rs.Chains = append(rs.Chains, ch)
			case "rule":
				var r struct {
					Family, Table, Chain, Comment string
					Handle                        uint64
					Expr                          []map[string]json.RawMessage
				}
				if err := json.Unmarshal(raw, &r); err != nil {
					return nil, fmt.Errorf("nft json object %d (rule): %w", i, err)
				}
				rule := Rule{Handle: r.Handle, Comment: r.Comment}
				for _, stmt := range r.Expr {
					c, ok := stmt["counter"]
					if !ok {
						continue
					}
					var name string
					if json.Unmarshal(c, &name) == nil {
						rule.CounterRefs = append(rule.CounterRefs, name)
						continue
					}
					v, err := parseCounter(c)
					if err != nil {
						return nil, fmt.Errorf("rule %d of chain %s %s %s: %w", r.Handle, r.Family, r.Table, r.Chain, err)
					}
					rule.Counters = append(rule.Counters, v)
				}
				rules = append(rules, struct {
					chain ref
					rule  Rule
				}{ref{r.Family, r.Table, r.Chain}, rule})
			case "counter":
				var c struct {
					Family, Table, Name string
				}
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("nft json object %d (counter): %w", i, err)
				}
				v, err := parseCounter(raw)
				if err != nil {
					return nil, fmt.Errorf("counter %s %s %s: %w", c.Family, c.Table, c.Name, err)
				}
				rs.Counters[c.Family+" "+c.Table+" "+c.Name] = v
			case "set", "map":
				var s struct {
					Family, Table, Name string
					Map                 json.RawMessage
					Elem                []json.RawMessage
				}
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, fmt.Errorf("nft json object %d (%s): %w", i, kind, err)
				}
				set := &Set{Family: s.Family, Table: s.Table, Name: s.Name}
				if kind == "map" {
					set.Map = strings.Trim(string(s.Map), `"`)
				}
				for j, e := range s.Elem {
					el, err := parseElement(e, kind == "map")
					if err != nil {
						return nil, fmt.Errorf("%s %s %s %s element %d: %w", kind, s.Family, s.Table, s.Name, j, err)
					}
					set.Elements = append(set.Elements, el)
				}
				rs.Sets = append(rs.Sets, set)
			}
		}
	}
	for _, r := range rules {
		ch := chains[r.chain]
		if ch == nil {
			return nil, fmt.Errorf("rule %d names unknown chain %s %s %s", r.rule.Handle, r.chain.family, r.chain.table, r.chain.name)
		}
		ch.Rules = append(ch.Rules, r.rule)
	}
	return rs, nil
}

func parseCounter(raw json.RawMessage) (Counter, error) {
	var c struct {
		Packets *uint64
		Bytes   *uint64
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Counter{}, fmt.Errorf("counter %s: %w", raw, err)
	}
	if c.Packets == nil || c.Bytes == nil {
		return Counter{}, fmt.Errorf("counter %s: no packets or bytes", raw)
	}
	return Counter{Packets: *c.Packets, Bytes: *c.Bytes}, nil
}

// parseElement reads a set element (a key) or a map element ([key, value]).
func parseElement(raw json.RawMessage, isMap bool) (Element, error) {
	keyRaw := raw
	var el Element
	if isMap {
		var pair []json.RawMessage
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return Element{}, fmt.Errorf("map element %s: want [key, value]", raw)
		}
		keyRaw = pair[0]
		v, err := nftValue(pair[1])
		if err != nil {
			return Element{}, err
		}
		el.Value = v
	}
	// A key with per-element data is {"elem": {"val": key, "counter": …}}.
	var wrapped struct {
		Elem *struct {
			Val     json.RawMessage
			Counter json.RawMessage
		}
	}
	if json.Unmarshal(keyRaw, &wrapped) == nil && wrapped.Elem != nil {
		keyRaw = wrapped.Elem.Val
		if len(wrapped.Elem.Counter) > 0 {
			c, err := parseCounter(wrapped.Elem.Counter)
			if err != nil {
				return Element{}, err
			}
			el.Counter = &c
		}
	}
	k, err := nftValue(keyRaw)
	if err != nil {
		return Element{}, err
	}
	el.Key = k
	return el, nil
}

// nftValue renders a JSON expression of a set key or map value in nft
// syntax.
func nftValue(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) != 1 {
		return "", fmt.Errorf("unreadable value %s", raw)
	}
	for k, v := range obj {
		switch k {
		case "prefix":
			var p struct {
				Addr json.RawMessage
				Len  *int
			}
			if err := json.Unmarshal(v, &p); err != nil || p.Len == nil {
				return "", fmt.Errorf("unreadable prefix %s", v)
			}
			a, err := nftValue(p.Addr)
			if err != nil {
				return "", err
			}
			return a + "/" + strconv.Itoa(*p.Len), nil
		case "range":
			var r []json.RawMessage
			if err := json.Unmarshal(v, &r); err != nil || len(r) != 2 {
				return "", fmt.Errorf("unreadable range %s", v)
			}
			lo, err := nftValue(r[0])
			if err != nil {
				return "", err
			}
			hi, err := nftValue(r[1])
			if err != nil {
				return "", err
			}
			return lo + "-" + hi, nil
		case "concat":
			var parts []json.RawMessage
			if err := json.Unmarshal(v, &parts); err != nil {
				return "", fmt.Errorf("unreadable concatenation %s", v)
			}
			out := make([]string, len(parts))
			for i, p := range parts {
				s, err := nftValue(p)
				if err != nil {
					return "", err
				}
				out[i] = s
			}
			return strings.Join(out, " . "), nil
		case "jump", "goto":
			var t struct{ Target string }
			if err := json.Unmarshal(v, &t); err != nil || t.Target == "" {
				return "", fmt.Errorf("unreadable %s %s", k, v)
			}
			return k + " " + t.Target, nil
		case "accept", "drop", "continue", "return", "queue":
			return k, nil
		}
	}
	return "", fmt.Errorf("unreadable value %s", raw)
}

// ConntrackEntry is one connection-tracking entry.
type ConntrackEntry struct {
	// Family is "ipv4" or "ipv6"; Proto the protocol name ("tcp", "udp",
	// "icmp", "icmpv6"…); State the TCP state ("ESTABLISHED"…), empty for
	// others.
	Family, Proto, State string
	// Orig and Reply are the two directions' tuples.
	Orig, Reply ConntrackTuple
	// Flags are the bracketed flags ("ASSURED", "UNREPLIED").
	Flags []string
	// Fields holds every key=value pair that is not part of a tuple
	// ("mark", "use", "zone"…).
	Fields map[string]string
}

// ConntrackTuple is one direction of a conntrack entry; ports are zero for
// protocols without them, the ICMP fields zero for others.
type ConntrackTuple struct {
	Src, Dst           netip.Addr
	SrcPort, DstPort   uint16
	ICMPType, ICMPCode uint8
	ICMPID             uint16
}

// Conntrack lists the conntrack entries of ns, both families
// (`conntrack -L -o extended`).
func Conntrack(ns NS) ([]ConntrackEntry, error) {
	var all []ConntrackEntry
	for _, fam := range []string{"ipv4", "ipv6"} {
		out, err := execNS(ns, nil, false, []string{"conntrack", "-L", "-f", fam, "-o", "extended"})
		if err != nil {
			return nil, err
		}
		es, err := ParseConntrack(string(out))
		if err != nil {
			return nil, fmt.Errorf("conntrack of %s: %w", ns, err)
		}
		all = append(all, es...)
	}
	return all, nil
}

// ParseConntrack parses `conntrack -L -o extended` output. The summary line
// conntrack prints is ignored; any other line it cannot read is an error.
func ParseConntrack(out string) ([]ConntrackEntry, error) {
	var entries []ConntrackEntry
	for n, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "conntrack v") {
			continue
		}
		e, err := parseConntrackLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n+1, line, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func parseConntrackLine(line string) (ConntrackEntry, error) {
	f := strings.Fields(line)
	// ipv4 2 tcp 6 TIMEOUT [STATE] k=v…
	if len(f) < 5 {
		return ConntrackEntry{}, errors.New("too few fields")
	}
	e := ConntrackEntry{Family: f[0], Proto: f[2], Fields: map[string]string{}}
	if _, err := strconv.ParseUint(f[4], 10, 64); err != nil {
		return ConntrackEntry{}, fmt.Errorf("timeout %q: %w", f[4], err)
	}
	tuple := 0 // 0: filling Orig, 1: Reply
	seen := map[string]bool{}
	cur := &e.Orig
	for _, w := range f[5:] {
		if strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
			e.Flags = append(e.Flags, strings.Trim(w, "[]"))
			continue
		}
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			if e.State == "" && len(e.Flags) == 0 && len(seen) == 0 && tuple == 0 {
				e.State = w
				continue
			}
			return ConntrackEntry{}, fmt.Errorf("unexpected word %q", w)
		}
		switch k {
		case "src", "dst", "sport", "dport", "type", "code", "id":
			if seen[k] {
				if tuple == 1 {
					return ConntrackEntry{}, fmt.Errorf("third %s", k)
				}
				tuple, cur, seen = 1, &e.Reply, map[string]bool{}
			}
			seen[k] = true
			switch k {
			case "src", "dst":
				a, err := netip.ParseAddr(v)
				if err != nil {
					return ConntrackEntry{}, fmt.Errorf("%s: %w", k, err)
				}
				if k == "src" {
					cur.Src = a
				} else {
					cur.Dst = a
				}
			case "type", "code":
				p, err := strconv.ParseUint(v, 10, 8)
				if err != nil {
					return ConntrackEntry{}, fmt.Errorf("%s: %w", k, err)
				}
				if k == "type" {
					cur.ICMPType = uint8(p)
				} else {
					cur.ICMPCode = uint8(p)
				}
			default:
				p, err := strconv.ParseUint(v, 10, 16)
				if err != nil {
					return ConntrackEntry{}, fmt.Errorf("%s: %w", k, err)
				}
				switch k {
				case "sport":
					cur.SrcPort = uint16(p)
				case "dport":
					cur.DstPort = uint16(p)
				default:
					cur.ICMPID = uint16(p)
				}
			}
		default:
			e.Fields[k] = v
		}
	}
	if !e.Orig.Src.IsValid() || !e.Orig.Dst.IsValid() {
		return ConntrackEntry{}, errors.New("no original tuple")
	}
	return e, nil
}

// IptablesSave returns the iptables-save and ip6tables-save output of ns,
// one after the other.
func IptablesSave(ns NS) (string, error) {
	v4, err := execNS(ns, nil, false, []string{"iptables-save"})
	if err != nil {
		return "", err
	}
	v6, err := execNS(ns, nil, false, []string{"ip6tables-save"})
	if err != nil {
		return "", err
	}
	return string(v4) + string(v6), nil
}
