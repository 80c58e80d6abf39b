package nft

import (
	"context"
	"fmt"
	"slices"

	"sigs.k8s.io/knftables"
)

// Full writes the whole table to tx: the table is added (so that it
// exists), deleted and created again with everything in it, so that
// running tx replaces whatever the table held, atomically. Counters start
// from zero.
func (rs *Ruleset) Full(tx *knftables.Transaction) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("Palisade security groups (" + rs.mode.String() + " mode)")})
	for _, c := range rs.counters {
		tx.Add(&knftables.Counter{Name: c})
	}
	for _, c := range rs.chains {
		ch := knftables.Chain{Name: c.name}
		if c.base != nil {
			ch = *c.base
			ch.Name = c.name
		}
		if c.comment != "" {
			ch.Comment = knftables.PtrTo(c.comment)
		}
		tx.Add(&ch)
	}
	for _, m := range rs.maps {
		tx.Add(&knftables.Map{Name: m.name, Type: m.typ, Flags: flags(m)})
	}
	for _, s := range rs.sets {
		tx.Add(&knftables.Set{Name: s.name, Type: s.typ, Flags: flags(s)})
	}
	for _, m := range rs.maps {
		for _, e := range m.elems {
			tx.Add(&knftables.Element{Map: m.name, Key: e.key, Value: []string{e.value}})
		}
	}
	for _, s := range rs.sets {
		for _, e := range s.elems {
			tx.Add(&knftables.Element{Set: s.name, Key: e.key})
		}
	}
	for _, c := range rs.chains {
		for _, r := range c.rules {
			tx.Add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
}

func flags(s elemSet) []knftables.SetFlag {
	if s.interval {
		return []knftables.SetFlag{knftables.IntervalFlag}
	}
	return nil
}

// SameShape reports whether rs and other differ at most in the elements
// of their sets and maps: the same chains and rules, sets, maps and
// counters.
func (rs *Ruleset) SameShape(other *Ruleset) bool {
	if rs.mode != other.mode || !slices.Equal(rs.counters, other.counters) ||
		len(rs.chains) != len(other.chains) || len(rs.maps) != len(other.maps) || len(rs.sets) != len(other.sets) {
		return false
	}
	for i, c := range rs.chains {
		o := other.chains[i]
		if c.name != o.name || c.comment != o.comment || (c.base == nil) != (o.base == nil) || !slices.Equal(c.rules, o.rules) {
			return false
		}
	}
	same := func(a, b []elemSet) bool {
		for i := range a {
			if a[i].name != b[i].name || a[i].typ != b[i].typ || a[i].interval != b[i].interval {
				return false
			}
		}
		return true
	}
	return same(rs.maps, other.maps) && same(rs.sets, other.sets)
}

// Incremental writes to tx the element changes that turn the table of old
// into rs's: every element deletion first, then every addition (a map
// element whose verdict changed is deleted and added again). It reports
// false, writing nothing, when the two differ in more than elements
// (SameShape); the caller then applies Full.
func (rs *Ruleset) Incremental(old *Ruleset, tx *knftables.Transaction) bool {
	if old == nil || !rs.SameShape(old) {
		return false
	}
	var adds []*knftables.Element
	diff := func(olds, news []elemSet, isMap bool) {
		for i := range news {
			was := make(map[string]elem, len(olds[i].elems))
			for _, e := range olds[i].elems {
				was[e.id()] = e
			}
			is := make(map[string]bool, len(news[i].elems))
			for _, e := range news[i].elems {
				is[e.id()] = true
				if w, ok := was[e.id()]; ok && w.value == e.value {
					continue
				} else if ok {
					tx.Delete(element(news[i].name, w, isMap))
				}
				adds = append(adds, element(news[i].name, e, isMap))
			}
			for _, e := range olds[i].elems {
				if !is[e.id()] {
					tx.Delete(element(olds[i].name, e, isMap))
				}
			}
		}
	}
	diff(old.maps, rs.maps, true)
	diff(old.sets, rs.sets, false)
	for _, e := range adds {
		tx.Add(e)
	}
	return true
}

func element(name string, e elem, isMap bool) *knftables.Element {
	if isMap {
		return &knftables.Element{Map: name, Key: e.key, Value: []string{e.value}}
	}
	return &knftables.Element{Set: name, Key: e.key}
}

// Apply makes the table of nft rs's: incrementally when the table is known
// to hold old's and only elements differ, else in full. It reports whether
// it applied incrementally. A failed incremental transaction (the table was
// changed behind the agent's back) is followed by a full one.
func Apply(ctx context.Context, nft knftables.Interface, old, rs *Ruleset) (incremental bool, err error) {
	if old != nil {
		tx := nft.NewTransaction()
		if rs.Incremental(old, tx) {
			if tx.NumOperations() == 0 {
				return true, nil
			}
			if err := nft.Run(ctx, tx); err == nil {
				return true, nil
			}
		}
	}
	tx := nft.NewTransaction()
	rs.Full(tx)
	if err := nft.Run(ctx, tx); err != nil {
		return false, fmt.Errorf("apply table %s: %w", Table, err)
	}
	return false, nil
}

// Hit is a counter's value and what it counts.
type Hit struct {
	Counter string
	Attribution
	Packets, Bytes uint64
}

// ReadCounters reads every counter of the table and attributes it
// through rs, which must be the ruleset last applied. A counter of the
// table rs does not know, one rs has that the table lacks, or one without
// values is an error: the table is not rs's.
func ReadCounters(ctx context.Context, nft knftables.Interface, rs *Ruleset) ([]Hit, error) {
	cs, err := nft.ListCounters(ctx)
	if err != nil {
		return nil, fmt.Errorf("list counters of %s: %w", Table, err)
	}
	out := make([]Hit, 0, len(rs.counters))
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if c == nil {
			continue
		}
		a, ok := rs.Counters[c.Name]
		if !ok {
			return nil, fmt.Errorf("counter %q is not the applied ruleset's", c.Name)
		}
		if c.Packets == nil || c.Bytes == nil {
			return nil, fmt.Errorf("counter %q has no values", c.Name)
		}
		seen[c.Name] = true
		out = append(out, Hit{Counter: c.Name, Attribution: a, Packets: *c.Packets, Bytes: *c.Bytes})
	}
	for _, name := range rs.counters {
		if !seen[name] {
			return nil, fmt.Errorf("counter %q of the applied ruleset is missing from the table", name)
		}
	}
	slices.SortFunc(out, func(a, b Hit) int { return cmpString(a.Counter, b.Counter) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
