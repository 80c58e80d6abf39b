package nft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go4.org/netipx"
	"sigs.k8s.io/knftables"
)

// Hit is what one hit counted and what it counts: a named counter (a
// list's default, a run of the collapsed form) or, for an entry of the
// regions form, the sum of the counters of the entry's map elements.
// Counter is its name, a key of Ruleset.Counters.
type Hit struct {
	Counter string
	Attribution
	Packets, Bytes uint64
}

// Runner runs nft with args, stdin (nil for none) on its standard input,
// and returns its standard output: the machine's nft for an agent
// (exec.CommandContext(ctx, "nft", args...)), nft in a network namespace
// for a test. The package itself does no I/O.
type Runner func(ctx context.Context, stdin []byte, args ...string) ([]byte, error)

// ReadCounters reads every hit of the table and attributes it through rs,
// which must be the ruleset last applied: the named counters, and for each
// entry of a regions-form list the sum of its elements' counters.
//
// knftables cannot list the counters of elements, so with a Runner the
// table is read with one "nft --json --numeric list table inet palisade",
// nft being unused. Without one (run nil), nft must be a *knftables.Fake:
// its named counters are read, and its elements, which have no counters,
// count zero.
//
// A named counter or a counted element the table has and rs has not, one
// rs has and the table lacks, or one without values is an error: the table
// is not rs's. The hits are sorted by name, one per key of rs.Counters.
func ReadCounters(ctx context.Context, nft knftables.Interface, run Runner, rs *Ruleset) ([]Hit, error) {
	var named map[string]counterValue
	sums := make(map[string]counterValue, len(rs.sums))
	if run == nil {
		if _, ok := nft.(*knftables.Fake); !ok {
			return nil, errors.New("read counters: element counters need a Runner (nft --json), knftables cannot list them")
		}
		cs, err := nft.ListCounters(ctx)
		if err != nil {
			return nil, fmt.Errorf("list counters of %s: %w", Table, err)
		}
		named = make(map[string]counterValue, len(cs))
		for _, c := range cs {
			if c == nil {
				continue
			}
			if c.Packets == nil || c.Bytes == nil {
				return nil, fmt.Errorf("counter %q has no values", c.Name)
			}
			named[c.Name] = counterValue{*c.Packets, *c.Bytes}
		}
	} else {
		out, err := run(ctx, nil, "--json", "--numeric", "list", "table", string(knftables.InetFamily), Table)
		if err != nil {
			return nil, fmt.Errorf("list table inet %s: %w", Table, err)
		}
		if named, err = rs.readListing(out, sums); err != nil {
			return nil, fmt.Errorf("table inet %s: %w", Table, err)
		}
	}
	out := make([]Hit, 0, len(rs.Counters))
	for name, v := range named {
		_, known := rs.Counters[name]
		if _, sum := slices.BinarySearch(rs.sums, name); !known || sum {
			return nil, fmt.Errorf("counter %q is not the applied ruleset's", name)
		}
		out = append(out, Hit{Counter: name, Attribution: rs.Counters[name], Packets: v.packets, Bytes: v.bytes})
	}
	for _, name := range rs.counters {
		if _, ok := named[name]; !ok {
			return nil, fmt.Errorf("counter %q of the applied ruleset is missing from the table", name)
		}
	}
	for _, name := range rs.sums {
		v := sums[name]
		out = append(out, Hit{Counter: name, Attribution: rs.Counters[name], Packets: v.packets, Bytes: v.bytes})
	}
	slices.SortFunc(out, func(a, b Hit) int { return strings.Compare(a.Counter, b.Counter) })
	return out, nil
}

type counterValue struct{ packets, bytes uint64 }

// listing is the part of nft's JSON listing of a table that holds
// counters.
type listing struct {
	Nftables []struct {
		Counter *struct {
			Name    string  `json:"name"`
			Packets *uint64 `json:"packets"`
			Bytes   *uint64 `json:"bytes"`
		} `json:"counter"`
		Map *struct {
			Name string               `json:"name"`
			Elem [][2]json.RawMessage `json:"elem"`
		} `json:"map"`
	} `json:"nftables"`
}

// jsonValue is a value of nft's JSON: an element with its counter, a
// concatenation, a prefix or a range; a scalar leaves every field empty.
type jsonValue struct {
	Elem *struct {
		Val     json.RawMessage `json:"val"`
		Counter *struct {
			Packets *uint64 `json:"packets"`
			Bytes   *uint64 `json:"bytes"`
		} `json:"counter"`
	} `json:"elem"`
	Concat []json.RawMessage `json:"concat"`
	Prefix *struct {
		Addr string `json:"addr"`
		Len  *int   `json:"len"`
	} `json:"prefix"`
	Range []json.RawMessage `json:"range"`
}

// readListing reads the named counters of a JSON listing and adds the
// counters of the elements of rs's counted maps into sums, by owner.
func (rs *Ruleset) readListing(out []byte, sums map[string]counterValue) (map[string]counterValue, error) {
	var doc listing
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parse nft's JSON listing: %w", err)
	}
	maps := make(map[string]*elemSet, len(rs.maps))
	for i := range rs.maps {
		maps[rs.maps[i].name] = &rs.maps[i]
	}
	named := map[string]counterValue{}
	listed := map[string]bool{}
	for _, o := range doc.Nftables {
		if c := o.Counter; c != nil {
			if c.Packets == nil || c.Bytes == nil {
				return nil, fmt.Errorf("counter %q has no values", c.Name)
			}
			named[c.Name] = counterValue{*c.Packets, *c.Bytes}
		}
		if o.Map == nil {
			continue
		}
		m, ok := maps[o.Map.Name]
		if !ok {
			return nil, fmt.Errorf("map %q is not the applied ruleset's", o.Map.Name)
		}
		listed[m.name] = true
		if !m.counter {
			continue
		}
		if err := addElements(m, o.Map.Elem, sums); err != nil {
			return nil, fmt.Errorf("map %s: %w", m.name, err)
		}
	}
	for _, m := range rs.maps {
		if !listed[m.name] {
			return nil, fmt.Errorf("map %q of the applied ruleset is missing", m.name)
		}
	}
	return named, nil
}

// addElements adds the counters of the listed elements of m into sums, by
// owner; every element of m must be listed once, and only those.
func addElements(m *elemSet, listed [][2]json.RawMessage, sums map[string]counterValue) error {
	index := make(map[string]*elem, len(m.elems))
	for i := range m.elems {
		k, err := canonKey(m.elems[i].key)
		if err != nil {
			return fmt.Errorf("element %s: %w", m.elems[i].id(), err)
		}
		index[k] = &m.elems[i]
	}
	seen := make(map[*elem]bool, len(m.elems))
	for _, kv := range listed {
		var k jsonValue
		if err := json.Unmarshal(kv[0], &k); err != nil || k.Elem == nil {
			return fmt.Errorf("element %s: not an element with a counter", kv[0])
		}
		c := k.Elem.Counter
		if c == nil || c.Packets == nil || c.Bytes == nil {
			return fmt.Errorf("element %s: no counter values", k.Elem.Val)
		}
		parts, err := jsonParts(k.Elem.Val)
		if err != nil {
			return fmt.Errorf("element %s: %w", k.Elem.Val, err)
		}
		e := index[strings.Join(parts, " . ")]
		if e == nil {
			return fmt.Errorf("element %s is not the applied ruleset's", k.Elem.Val)
		}
		var v map[string]json.RawMessage
		if err := json.Unmarshal(kv[1], &v); err != nil || len(v) != 1 || v[e.value] == nil {
			return fmt.Errorf("element %s: verdict %s, want %s", e.id(), kv[1], e.value)
		}
		if seen[e] {
			return fmt.Errorf("element %s listed twice", e.id())
		}
		seen[e] = true
		s := sums[e.owner]
		s.packets += *c.Packets
		s.bytes += *c.Bytes
		sums[e.owner] = s
	}
	if len(seen) != len(m.elems) {
		return fmt.Errorf("%d of its %d elements listed", len(seen), len(m.elems))
	}
	return nil
}

// canonKey returns the canonical text of a key as Palisade writes it: each
// part lo-hi, addresses and numbers as they print.
func canonKey(key []string) (string, error) {
	parts := make([]string, len(key))
	for i, p := range key {
		var lo, hi string
		if strings.Contains(p, "/") {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				return "", err
			}
			lo, hi = pfx.Masked().Addr().String(), netipx.PrefixLastIP(pfx.Masked()).String()
		} else if a, b, ok := strings.Cut(p, "-"); ok {
			lo, hi = a, b
		} else {
			lo, hi = p, p
		}
		var err error
		if parts[i], err = canonSpan(lo, hi); err != nil {
			return "", err
		}
	}
	return strings.Join(parts, " . "), nil
}

// canonSpan returns lo-hi, each an address or number in its canonical form.
func canonSpan(lo, hi string) (string, error) {
	l, err := canonToken(lo)
	if err != nil {
		return "", err
	}
	h, err := canonToken(hi)
	if err != nil {
		return "", err
	}
	return l + "-" + h, nil
}

func canonToken(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return strconv.FormatUint(n, 10), nil
	}
	return "", fmt.Errorf("%q is neither an address nor a number", s)
}

// jsonParts returns the canonical parts of a key of nft's JSON.
func jsonParts(raw json.RawMessage) ([]string, error) {
	var v jsonValue
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
	}
	if v.Concat == nil {
		p, err := jsonPart(raw, &v)
		if err != nil {
			return nil, err
		}
		return []string{p}, nil
	}
	parts := make([]string, len(v.Concat))
	for i, c := range v.Concat {
		var cv jsonValue
		if len(c) > 0 && c[0] == '{' {
			if err := json.Unmarshal(c, &cv); err != nil {
				return nil, err
			}
		}
		var err error
		if parts[i], err = jsonPart(c, &cv); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// jsonPart returns the canonical part of one value of a key, raw decoded
// as v when it is an object.
func jsonPart(raw json.RawMessage, v *jsonValue) (string, error) {
	switch {
	case v.Prefix != nil:
		if v.Prefix.Len == nil {
			return "", fmt.Errorf("prefix %s without a length", raw)
		}
		a, err := netip.ParseAddr(v.Prefix.Addr)
		if err != nil {
			return "", err
		}
		p, err := a.Prefix(*v.Prefix.Len)
		if err != nil {
			return "", err
		}
		return canonSpan(p.Addr().String(), netipx.PrefixLastIP(p).String())
	case len(v.Range) == 2:
		lo, err := jsonScalar(v.Range[0])
		if err != nil {
			return "", err
		}
		hi, err := jsonScalar(v.Range[1])
		if err != nil {
			return "", err
		}
		return canonSpan(lo, hi)
	case len(raw) > 0 && raw[0] == '{':
		return "", fmt.Errorf("unexpected value %s", raw)
	}
	s, err := jsonScalar(raw)
	if err != nil {
		return "", err
	}
	return canonSpan(s, s)
}

// jsonScalar returns a JSON string or number as text.
func jsonScalar(raw json.RawMessage) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("value %s: %w", raw, err)
	}
	return n.String(), nil
}
