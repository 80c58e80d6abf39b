package nft

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/knftables"
)

// Full writes the whole table to tx: the table is added (so that it
// exists), deleted and created again with everything in it, so that
// running tx replaces whatever the table held, atomically. Counters, named
// and per element, start from zero.
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
	// The kernel finds the map of each element written by walking the
	// table's sets in the order they were added: the largest maps go
	// first (with the fleet of BenchmarkKernelFleet, a quarter less time
	// in the kernel).
	bySize := make([]*elemSet, len(rs.maps))
	for i := range rs.maps {
		bySize[i] = &rs.maps[i]
	}
	slices.SortStableFunc(bySize, func(a, b *elemSet) int { return len(b.elems) - len(a.elems) })
	for _, m := range bySize {
		tx.Add(&knftables.Map{Name: m.name, Type: mapType(*m), Flags: flags(*m)})
	}
	for _, s := range rs.sets {
		tx.Add(&knftables.Set{Name: s.name, Type: s.typ, Flags: flags(s)})
	}
	for _, m := range bySize {
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

// mapType is the type of map m as knftables writes it, "type %s ;". A map
// with a counter per element needs the counter statement in its
// declaration, which knftables.Map has no field for; nft's grammar takes
// the map's declarations in any order, each ended by ";", so the type is
// followed by "; counter": knftables then writes
// "{ type K : verdict ; counter ; flags interval ; }", which nft loads as
// a map whose every element counts its packets and bytes.
func mapType(m elemSet) string {
	if m.counter {
		return m.typ + " ; counter"
	}
	return m.typ
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
			if a[i].name != b[i].name || a[i].typ != b[i].typ || a[i].interval != b[i].interval || a[i].counter != b[i].counter {
				return false
			}
		}
		return true
	}
	return same(rs.maps, other.maps) && same(rs.sets, other.sets)
}

// Incremental writes to tx the element changes that turn the table of old
// into rs's: every element deletion first, then every addition. It reports
// false, writing nothing, when the two differ in more than elements
// (SameShape); the caller then applies Full.
//
// In the regions form an entry's hit is the sum of its elements' counters,
// and an element deleted takes its count with it. So that such a sum does
// not merely go down, every element of an entry that loses one (an element
// deleted, or given to another entry or verdict) is deleted and added
// again, its counter with it: the entry's hit starts again from zero, as
// Restarted reports. The hits of the other entries, and the named counters,
// go on counting.
func (rs *Ruleset) Incremental(old *Ruleset, tx *knftables.Transaction) bool {
	if old == nil || !rs.SameShape(old) {
		return false
	}
	dels, adds, _ := rs.plan(old)
	for _, e := range dels {
		tx.Delete(e)
	}
	for _, e := range adds {
		tx.Add(e)
	}
	return true
}

// plan returns the element deletions and additions turning old's table
// (of the same shape) into rs's, and the hits of rs that start again from
// zero: those of entries losing an element, and those of entries whose
// name old did not have or attributed otherwise.
func (rs *Ruleset) plan(old *Ruleset) (dels, adds []*knftables.Element, restarted map[string]bool) {
	restarted = map[string]bool{}
	for _, name := range rs.sums {
		if a, ok := old.Counters[name]; !ok || !sameAttribution(a, rs.Counters[name]) {
			restarted[name] = true
		}
	}
	changed := make([]bool, len(rs.maps))
	for i := range rs.maps {
		changed[i] = !sameElems(old.maps[i].elems, rs.maps[i].elems)
		if !changed[i] || !rs.maps[i].counter {
			continue
		}
		// The entries losing an element.
		pairElems(old.maps[i].elems, rs.maps[i].elems, func(o, n *elem) {
			if o != nil && (n == nil || n.value != o.value || n.owner != o.owner) {
				restarted[o.owner] = true
			}
		})
	}
	// The lists with a restarted entry: an entry's elements are in its
	// list's maps, named after the list ("ins-1a2b3c4d.in.…").
	lists := map[string]bool{}
	for name := range restarted {
		lists[listOf(name)] = true
	}
	for i := range rs.maps {
		m := &rs.maps[i]
		if !m.counter {
			if changed[i] {
				diffElems(m.name, old.maps[i].elems, m.elems, true, &dels, &adds)
			}
			continue
		}
		// A map whose elements are the same but one of whose entries
		// restarts is rewritten too.
		if !changed[i] && (!lists[listOf(m.name)] || !slices.ContainsFunc(m.elems, func(e elem) bool { return restarted[e.owner] })) {
			continue
		}
		pairElems(old.maps[i].elems, m.elems, func(o, n *elem) {
			if o != nil && n != nil && o.value == n.value && o.owner == n.owner && !restarted[o.owner] {
				return
			}
			if o != nil {
				dels = append(dels, element(m.name, *o, true))
			}
			if n != nil {
				adds = append(adds, element(m.name, *n, true))
			}
		})
	}
	for i := range rs.sets {
		if !sameElems(old.sets[i].elems, rs.sets[i].elems) {
			diffElems(rs.sets[i].name, old.sets[i].elems, rs.sets[i].elems, false, &dels, &adds)
		}
	}
	return dels, adds, restarted
}

// listOf returns the list part of a name of a list's map or entry: its
// first two dot-separated fields (instance and direction).
func listOf(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 {
		return name
	}
	if j := strings.IndexByte(name[i+1:], '.'); j >= 0 {
		return name[:i+1+j]
	}
	return name
}

// pairElems calls f with each element of a regions map before (olds) and
// after (news), paired when they have the same key, the other nil when
// only one has it. Both are in the order of their corners, which are
// distinct, so one merge pairs them.
func pairElems(olds, news []elem, f func(o, n *elem)) {
	i, j := 0, 0
	for i < len(olds) || j < len(news) {
		c := 0
		switch {
		case i == len(olds):
			c = 1
		case j == len(news):
			c = -1
		default:
			c = olds[i].at.cmp(news[j].at)
		}
		switch {
		case c < 0:
			f(&olds[i], nil)
			i++
		case c > 0:
			f(nil, &news[j])
			j++
		case slices.Equal(olds[i].key, news[j].key):
			f(&olds[i], &news[j])
			i, j = i+1, j+1
		default:
			f(&olds[i], nil)
			f(nil, &news[j])
			i, j = i+1, j+1
		}
	}
}

// diffElems appends the deletions and additions turning the elements olds
// of set or map name into news, without owners.
func diffElems(name string, olds, news []elem, isMap bool, dels, adds *[]*knftables.Element) {
	index := func(es []elem) map[elemKey]elem {
		m := make(map[elemKey]elem, len(es))
		for _, e := range es {
			m[e.k()] = e
		}
		return m
	}
	was, is := index(olds), index(news)
	for _, e := range olds {
		if n, ok := is[e.k()]; !ok || n.value != e.value {
			*dels = append(*dels, element(name, e, isMap))
		}
	}
	for _, e := range news {
		if o, ok := was[e.k()]; !ok || o.value != e.value {
			*adds = append(*adds, element(name, e, isMap))
		}
	}
}

// sameElems reports whether a and b are the same elements in the same
// order.
func sameElems(a, b []elem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].value != b[i].value || a[i].owner != b[i].owner || !slices.Equal(a[i].key, b[i].key) {
			return false
		}
	}
	return true
}

func sameAttribution(a, b Attribution) bool {
	return a.Instance == b.Instance && a.Direction == b.Direction && a.Run == b.Run && slices.Equal(a.Origins, b.Origins)
}

// Restarted returns, sorted, the names of rs's hits (keys of Counters)
// whose values started again from zero when rs was applied over old, as
// Apply reported: every hit after a full apply (incremental false, or old
// nil); after an incremental one, the hits of the regions form's entries
// that lost an element, or are new (see Incremental). Every other hit went
// on counting across the apply: its next reading is at least its last.
//
// A consumer summing hits over time reads them just before applying, and
// after the apply takes, for each restarted hit, that last reading as
// final and the next reading as counting from zero; what was counted
// between that last reading and the apply is lost, for restarted hits
// only.
func (rs *Ruleset) Restarted(old *Ruleset, incremental bool) []string {
	var out []string
	if old == nil || !incremental || !rs.SameShape(old) {
		out = make([]string, 0, len(rs.Counters))
		for name := range rs.Counters {
			out = append(out, name)
		}
	} else {
		_, _, restarted := rs.plan(old)
		for name := range restarted {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
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
