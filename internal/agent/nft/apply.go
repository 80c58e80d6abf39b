package nft

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/knftables"
)

// Script is one nft transaction turning the table into a ruleset's: what
// Apply runs, in full or incrementally. Its text (String) is what nft -f
// reads, each set's or map's elements in one command; Transaction writes
// the same operations to a knftables transaction one element per
// operation, as knftables writes elements (and as its Fake takes them).
type Script struct {
	ops []op
}

// op is one operation of a script: a knftables object's (obj set), or the
// addition or deletion of elements of one set or map.
type op struct {
	verb  verb
	obj   knftables.Object
	set   string
	isMap bool
	elems []elem
}

type verb uint8

const (
	verbAdd verb = iota + 1
	verbDelete
	verbFlush
)

func (v verb) String() string {
	switch v {
	case verbAdd:
		return "add"
	case verbDelete:
		return "delete"
	}
	return "flush"
}

func (s *Script) add(o knftables.Object)    { s.ops = append(s.ops, op{verb: verbAdd, obj: o}) }
func (s *Script) delete(o knftables.Object) { s.ops = append(s.ops, op{verb: verbDelete, obj: o}) }
func (s *Script) flush(o knftables.Object)  { s.ops = append(s.ops, op{verb: verbFlush, obj: o}) }

// elements adds an addition (or deletion) of elems of set or map name, if
// any.
func (s *Script) elements(v verb, name string, isMap bool, elems []elem) {
	if len(elems) > 0 {
		s.ops = append(s.ops, op{verb: v, set: name, isMap: isMap, elems: elems})
	}
}

// Operations returns the number of nft commands of the script's text.
func (s *Script) Operations() int { return len(s.ops) }

// Elements returns the number of elements the script adds or deletes.
func (s *Script) Elements() int {
	n := 0
	for _, o := range s.ops {
		n += len(o.elems)
	}
	return n
}

// Empty reports whether the script changes nothing.
func (s *Script) Empty() bool { return len(s.ops) == 0 }

// String returns the script as nft -f reads it. knftables (v0.0.22)
// writes one "add element" command per element, and nft's time grows with
// the commands: on a hypervisor of 160,000 elements, one command per map
// takes less than half the time. So the elements are written here, all of
// a set's or map's additions (or deletions) in one command, in the syntax
// knftables writes one at a time; everything else is written by
// knftables. The whole script is one nft -f input: one transaction, which
// the kernel applies whole or not at all.
func (s *Script) String() string {
	var b strings.Builder
	tx := newTransaction()
	for _, o := range s.ops {
		if o.obj != nil {
			o.write(tx)
			continue
		}
		if tx.NumOperations() > 0 {
			b.WriteString(tx.String())
			tx = newTransaction()
		}
		fmt.Fprintf(&b, "%s element %s %s %s {", o.verb, knftables.InetFamily, Table, o.set)
		for i, e := range o.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n\t")
			for j, k := range e.key {
				if j > 0 {
					b.WriteString(" . ")
				}
				b.WriteString(k)
			}
			if o.isMap && o.verb == verbAdd {
				b.WriteString(" : ")
				b.WriteString(e.value)
			}
		}
		b.WriteString("\n}\n")
	}
	b.WriteString(tx.String())
	return b.String()
}

// newTransaction returns an empty transaction on table inet palisade.
func newTransaction() *knftables.Transaction {
	return knftables.NewFake(knftables.InetFamily, Table).NewTransaction()
}

func (o op) write(tx *knftables.Transaction) {
	switch o.verb {
	case verbAdd:
		tx.Add(o.obj)
	case verbDelete:
		tx.Delete(o.obj)
	default:
		tx.Flush(o.obj)
	}
}

// Transaction writes the script's operations to tx, one element per
// operation.
func (s *Script) Transaction(tx *knftables.Transaction) {
	for _, o := range s.ops {
		if o.obj != nil {
			o.write(tx)
			continue
		}
		for _, e := range o.elems {
			el := element(o.set, e, o.isMap)
			if o.verb == verbAdd {
				tx.Add(el)
			} else {
				tx.Delete(el)
			}
		}
	}
}

// run runs the script: through nft -f with run, else as a knftables
// transaction on nft (a fake).
func (s *Script) run(ctx context.Context, nft knftables.Interface, run Runner) error {
	if run != nil {
		_, err := run(ctx, []byte(s.String()), "-f", "-")
		return err
	}
	tx := nft.NewTransaction()
	s.Transaction(tx)
	return nft.Run(ctx, tx)
}

// FullScript returns the whole table: the table is added (so that it
// exists), deleted and created again with everything in it, so that
// running the script replaces whatever the table held, atomically.
// Counters, named and per element, start from zero.
func (rs *Ruleset) FullScript() *Script {
	s := &Script{}
	s.add(&knftables.Table{})
	s.delete(&knftables.Table{})
	s.add(&knftables.Table{Comment: knftables.PtrTo("Palisade security groups (" + rs.mode.String() + " mode)")})
	for _, c := range rs.counters {
		s.add(&knftables.Counter{Name: c})
	}
	for i := range rs.chains {
		s.add(rs.chains[i].object())
	}
	bySize := bySize(rs.maps)
	for _, m := range bySize {
		s.add(m.mapObject())
	}
	for i := range rs.sets {
		s.add(rs.sets[i].setObject())
	}
	for _, m := range bySize {
		s.elements(verbAdd, m.name, true, m.elems)
	}
	for _, set := range rs.sets {
		s.elements(verbAdd, set.name, false, set.elems)
	}
	for _, c := range rs.chains {
		for _, r := range c.rules {
			s.add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
	return s
}

// bySize returns the maps, largest first. The kernel finds the map of each
// element written by walking the table's sets in the order they were
// added: the largest maps go first (with the fleet of BenchmarkKernelFleet,
// a quarter less time in the kernel, when each element was a command).
func bySize(maps []elemSet) []*elemSet {
	out := make([]*elemSet, len(maps))
	for i := range maps {
		out[i] = &maps[i]
	}
	slices.SortStableFunc(out, func(a, b *elemSet) int { return len(b.elems) - len(a.elems) })
	return out
}

func (c *chain) object() *knftables.Chain {
	ch := knftables.Chain{Name: c.name}
	if c.base != nil {
		ch = *c.base
		ch.Name = c.name
	}
	if c.comment != "" {
		ch.Comment = knftables.PtrTo(c.comment)
	}
	return &ch
}

func (m *elemSet) mapObject() *knftables.Map {
	return &knftables.Map{Name: m.name, Type: mapType(*m), Flags: flags(*m)}
}

func (m *elemSet) setObject() *knftables.Set {
	return &knftables.Set{Name: m.name, Type: m.typ, Flags: flags(*m)}
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

// IncrementalScript returns the changes that turn the table of old into
// rs's, without replacing the table: chains, maps, sets and named
// counters rs has and old has not are added, those old has and rs has not
// deleted, the rules of a chain that differ written again (the chain
// flushed first), and the elements of the maps and sets both have
// changed, every deletion before every addition. A membership change, a
// port opened, a policy added in the regions form, an instance bound to
// another group or added to the host only change what they change. It
// reports false when the two differ in a way only a full apply changes
// (a base chain, a chain's comment, a map's type, a named counter counting
// something else: compatible).
//
// In the regions form an entry's hit is the sum of its elements' counters,
// and an element deleted takes its count with it. So that such a sum does
// not merely go down, every element of an entry that loses one (an element
// deleted, or given to another entry or verdict) is deleted and added
// again, its counter with it: the entry's hit starts again from zero, as
// Restarted reports. The hits of the other entries, and the named counters
// kept, go on counting.
func (rs *Ruleset) IncrementalScript(old *Ruleset) (*Script, bool) {
	if old == nil || !rs.compatible(old) {
		return nil, false
	}
	s, _ := rs.plan(old)
	return s, true
}

// compatible reports whether the table of old can be changed into rs's
// without replacing it: the same mode, and the chains, maps, sets and
// named counters of one name in both the same but for their rules and
// elements.
func (rs *Ruleset) compatible(old *Ruleset) bool {
	if rs.mode != old.mode {
		return false
	}
	oc := chainIndex(old.chains)
	for i := range rs.chains {
		c := &rs.chains[i]
		o := oc[c.name]
		if o == nil {
			if c.base != nil {
				return false
			}
			continue
		}
		if o.comment != c.comment || (o.base == nil) != (c.base == nil) || c.base != nil && !sameHook(c.base, o.base) {
			return false
		}
	}
	for _, pair := range [][2][]elemSet{{rs.maps, old.maps}, {rs.sets, old.sets}} {
		om := setIndex(pair[1])
		for i := range pair[0] {
			m := &pair[0][i]
			if o := om[m.name]; o != nil && (o.typ != m.typ || o.interval != m.interval || o.counter != m.counter) {
				return false
			}
		}
	}
	for _, c := range rs.counters {
		if a, ok := old.Counters[c]; ok && !sameAttribution(a, rs.Counters[c]) {
			return false
		}
	}
	return true
}

func sameHook(a, b *knftables.Chain) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq((*string)(a.Type), (*string)(b.Type)) && eq((*string)(a.Hook), (*string)(b.Hook)) &&
		eq((*string)(a.Priority), (*string)(b.Priority)) && eq((*string)(a.Policy), (*string)(b.Policy))
}

func chainIndex(cs []chain) map[string]*chain {
	m := make(map[string]*chain, len(cs))
	for i := range cs {
		m[cs[i].name] = &cs[i]
	}
	return m
}

func setIndex(ss []elemSet) map[string]*elemSet {
	m := make(map[string]*elemSet, len(ss))
	for i := range ss {
		m[ss[i].name] = &ss[i]
	}
	return m
}

// absent returns the names of xs that ys does not hold, in xs's order.
func absent(xs, ys []string) []string {
	in := make(map[string]bool, len(ys))
	for _, y := range ys {
		in[y] = true
	}
	var out []string
	for _, x := range xs {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// plan returns the script turning old's table (compatible) into rs's, and
// the hits of rs that start again from zero: those of entries losing an
// element, and those whose name old did not have, counted otherwise (a sum
// of elements or a named counter) or attributed otherwise.
func (rs *Ruleset) plan(old *Ruleset) (*Script, map[string]bool) {
	restarted := map[string]bool{}
	for _, names := range [][2][]string{{rs.sums, old.sums}, {rs.counters, old.counters}} {
		for _, name := range names[0] {
			// A hit new, counting other entries, or counted otherwise (an
			// entry lifted, or no longer lifted: a named counter, or the
			// sum of elements) counts from zero.
			if _, was := slices.BinarySearch(names[1], name); !was || !sameAttribution(old.Counters[name], rs.Counters[name]) {
				restarted[name] = true
			}
		}
	}
	oldMaps, oldSets := setIndex(old.maps), setIndex(old.sets)
	changed := make([]bool, len(rs.maps))
	for i := range rs.maps {
		o := oldMaps[rs.maps[i].name]
		if o == nil {
			continue
		}
		changed[i] = !sameElems(o.elems, rs.maps[i].elems)
		if !changed[i] || !rs.maps[i].counter {
			continue
		}
		// The entries losing an element.
		pairElems(o.elems, rs.maps[i].elems, func(o, n *elem) {
			if o != nil && (n == nil || n.value != o.value || n.owner != o.owner) {
				restarted[o.owner] = true
			}
		})
	}
	// The segments with a restarted entry: an entry's elements are in its
	// segment's maps, named after the segment ("sg-1a2b3c4d.in.…").
	lists := map[string]bool{}
	for name := range restarted {
		lists[listOf(name)] = true
	}

	s := &Script{}
	for _, c := range absent(rs.counters, old.counters) {
		s.add(&knftables.Counter{Name: c})
	}
	oc := chainIndex(old.chains)
	for i := range rs.chains {
		if oc[rs.chains[i].name] == nil {
			s.add(rs.chains[i].object())
		}
	}
	for _, m := range bySize(rs.maps) {
		if oldMaps[m.name] == nil {
			s.add(m.mapObject())
		}
	}
	for i := range rs.sets {
		if oldSets[rs.sets[i].name] == nil {
			s.add(rs.sets[i].setObject())
		}
	}

	// Elements: every deletion, then every addition.
	var dels, adds []op
	for i := range rs.maps {
		m := &rs.maps[i]
		o := oldMaps[m.name]
		var d, a []elem
		switch {
		case o == nil:
			a = m.elems
		case !m.counter:
			if changed[i] {
				d, a = diffElems(o.elems, m.elems)
			}
		case !changed[i] && (!lists[listOf(m.name)] || !slices.ContainsFunc(m.elems, func(e elem) bool { return restarted[e.owner] })):
			// Unchanged, and none of its entries restarts (a map whose
			// elements are the same but one of whose entries restarts is
			// rewritten too).
		default:
			pairElems(o.elems, m.elems, func(o, n *elem) {
				if o != nil && n != nil && o.value == n.value && o.owner == n.owner && !restarted[o.owner] {
					return
				}
				if o != nil {
					d = append(d, *o)
				}
				if n != nil {
					a = append(a, *n)
				}
			})
		}
		if len(d) > 0 {
			dels = append(dels, op{verb: verbDelete, set: m.name, isMap: true, elems: d})
		}
		if len(a) > 0 {
			adds = append(adds, op{verb: verbAdd, set: m.name, isMap: true, elems: a})
		}
	}
	for i := range rs.sets {
		set := &rs.sets[i]
		var d, a []elem
		if o := oldSets[set.name]; o == nil {
			a = set.elems
		} else if !sameElems(o.elems, set.elems) {
			d, a = diffElems(o.elems, set.elems)
		}
		if len(d) > 0 {
			dels = append(dels, op{verb: verbDelete, set: set.name, elems: d})
		}
		if len(a) > 0 {
			adds = append(adds, op{verb: verbAdd, set: set.name, elems: a})
		}
	}
	s.ops = append(append(s.ops, dels...), adds...)

	// Rules: of the new chains, and again of the chains whose rules differ.
	for i := range rs.chains {
		c := &rs.chains[i]
		o := oc[c.name]
		if o != nil && slices.Equal(o.rules, c.rules) {
			continue
		}
		if o != nil {
			s.flush(&knftables.Chain{Name: c.name})
		}
		for _, r := range c.rules {
			s.add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
	// What rs has no more, once nothing refers to it: the chains (flushed
	// first, as a chain with rules cannot be deleted), maps, sets and
	// counters.
	nc := chainIndex(rs.chains)
	var gone []string
	for _, c := range old.chains {
		if nc[c.name] == nil {
			gone = append(gone, c.name)
			s.flush(&knftables.Chain{Name: c.name})
		}
	}
	for _, name := range gone {
		s.delete(&knftables.Chain{Name: name})
	}
	newMaps, newSets := setIndex(rs.maps), setIndex(rs.sets)
	for _, m := range old.maps {
		if newMaps[m.name] == nil {
			s.delete(&knftables.Map{Name: m.name})
		}
	}
	for _, set := range old.sets {
		if newSets[set.name] == nil {
			s.delete(&knftables.Set{Name: set.name})
		}
	}
	for _, c := range absent(old.counters, rs.counters) {
		s.delete(&knftables.Counter{Name: c})
	}
	return s, restarted
}

// listOf returns the segment part of a name of a segment's map or entry:
// its first two dot-separated fields (group, or platform hash, and
// direction).
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

// diffElems returns the deletions and additions turning the elements
// olds of a set or map into news, without owners.
func diffElems(olds, news []elem) (dels, adds []elem) {
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
			dels = append(dels, e)
		}
	}
	for _, e := range news {
		if o, ok := was[e.k()]; !ok || o.value != e.value {
			adds = append(adds, e)
		}
	}
	return dels, adds
}

// sameElems reports whether a and b are the same elements in the same
// order.
func sameElems(a, b []elem) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true // one slice: a list compiled once (Compiler) in both
	}
	for i := range a {
		if a[i].value != b[i].value || a[i].owner != b[i].owner || !slices.Equal(a[i].key, b[i].key) {
			return false
		}
	}
	return true
}

// sameAttribution reports whether a and b count the same entries: the
// instance a shared hit is reported against may change (see Attribution),
// what it counts does not.
func sameAttribution(a, b Attribution) bool {
	return a.Direction == b.Direction && a.Run == b.Run && slices.Equal(a.Origins, b.Origins)
}

// Restarted returns, sorted, the names of rs's hits (keys of Counters)
// whose values started again from zero when rs was applied over old, as
// Apply reported: every hit after a full apply (incremental false, or old
// nil); after an incremental one, the hits of the regions form's entries
// that lost an element, and the hits new or counted otherwise (see plan).
// Every other hit went on counting across the apply: its next reading is
// at least its last.
//
// A consumer summing hits over time reads them just before applying, and
// after the apply takes, for each restarted hit, that last reading as
// final and the next reading as counting from zero; what was counted
// between that last reading and the apply is lost, for restarted hits
// only.
func (rs *Ruleset) Restarted(old *Ruleset, incremental bool) []string {
	var out []string
	if old == nil || !incremental || !rs.compatible(old) {
		out = make([]string, 0, len(rs.Counters))
		for name := range rs.Counters {
			out = append(out, name)
		}
	} else {
		_, restarted := rs.plan(old)
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

// Apply makes the table rs's: incrementally when the table is known to
// hold old's and the two are compatible, else in full, one transaction
// either way. With run, the script is given to nft -f on its standard
// input (run(ctx, script, "-f", "-")), nft being unused; without, nft (a
// fake) runs it as a knftables transaction. It reports whether it applied
// incrementally. A failed incremental transaction (the table was changed
// behind the agent's back) is followed by a full one.
func Apply(ctx context.Context, nft knftables.Interface, run Runner, old, rs *Ruleset) (incremental bool, err error) {
	if old != nil {
		if s, ok := rs.IncrementalScript(old); ok {
			if s.Empty() {
				return true, nil
			}
			if err := s.run(ctx, nft, run); err == nil {
				return true, nil
			}
		}
	}
	if err := rs.FullScript().run(ctx, nft, run); err != nil {
		return false, fmt.Errorf("apply table %s: %w", Table, err)
	}
	return false, nil
}
