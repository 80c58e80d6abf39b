package nft

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go4.org/netipx"
	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Ruleset is a compiled table: plain data, built by Compile and written as
// a Script by FullScript or IncrementalScript. It is immutable.
type Ruleset struct {
	mode     Mode
	chains   []chain
	maps     []elemSet // verdict maps
	sets     []elemSet // plain sets (the collapsed form)
	counters []string  // named counters: each list's default, the collapsed form's runs
	sums     []string  // hits summed from the counters of map elements: the regions form's entries

	// Counters maps each hit's name to what it counts: the named
	// counters, and the entries of the regions form, whose values are the
	// sums of their map elements' counters.
	Counters map[string]Attribution
	// Lists says how each instance's lists were compiled, in the
	// configuration's order, ingress then egress.
	Lists []ListInfo
}

// ListInfo is how one list was compiled: its form (collapsed when one of
// its segments is), its segments' element count (regions, or the collapsed
// sets' elements; shared with the other lists holding them) and its chain,
// which the instances with an equal list share.
type ListInfo struct {
	Instance  string
	Direction policy.Direction
	Form      Form
	Elements  int
	Chain     string
}

type chain struct {
	name    string
	base    *knftables.Chain // the hook of a base chain, or nil
	comment string
	rules   []string
}

// elemSet is a map (value set) or set and its elements, in the regions'
// order (or, for the dispatch maps, sorted).
type elemSet struct {
	name, typ string
	interval  bool
	counter   bool // a counter per element (the regions form's maps)
	elems     []elem
}

type elem struct {
	key   []string
	value string // "" in a set
	owner string // the hit its counter adds to, in a map with counters
	at    corner // its region's lowest packet, in a map with counters
}

// corner is the lowest packet of a region: the regions of a map, being
// disjoint, have distinct corners, and they are in the order of their
// corners.
type corner struct {
	addr  netip.Addr
	proto uint8
	port  uint16
}

func (c corner) cmp(d corner) int {
	if n := c.addr.Compare(d.addr); n != 0 {
		return n
	}
	if c.proto != d.proto {
		return int(c.proto) - int(d.proto)
	}
	return int(c.port) - int(d.port)
}

func (e elem) id() string { return strings.Join(e.key, " . ") }

// elemKey is an element's key as a map key: keys have one part (the
// dispatch maps), two or three.
type elemKey [3]string

func (e elem) k() (k elemKey) {
	copy(k[:], e.key)
	return k
}

// The key shapes of a list's maps and sets. A list's chain sends each
// packet to the chain of its shape (goto: a verdict there is the list's),
// with the matches of dispatch, which need no anonymous set (each one
// costs the kernel a third of a millisecond to create); the rules there
// look its key up.
type shape struct {
	suffix, typ, lookup string
	dispatch            []string
	is6, ports          bool
}

func shapes(dir policy.Direction) [4]shape {
	if dir == policy.Egress {
		return egressShapes
	}
	return ingressShapes
}

// ingressShapes and egressShapes are shapes' answers, made once.
var ingressShapes, egressShapes = makeShapes(policy.Ingress), makeShapes(policy.Egress)

func makeShapes(dir policy.Direction) [4]shape {
	side := "saddr"
	if dir == policy.Egress {
		side = "daddr"
	}
	return [4]shape{
		{"v4p", "ipv4_addr . inet_proto . inet_service", "ip " + side + " . meta l4proto . th dport",
			[]string{"meta nfproto ipv4 meta l4proto 6", "meta nfproto ipv4 meta l4proto 17"}, false, true},
		{"v4", "ipv4_addr . inet_proto", "ip " + side + " . meta l4proto",
			[]string{"meta nfproto ipv4 meta l4proto != 6 meta l4proto != 17"}, false, false},
		{"v6p", "ipv6_addr . inet_proto . inet_service", "ip6 " + side + " . meta l4proto . th dport",
			[]string{"meta nfproto ipv6 meta l4proto 6", "meta nfproto ipv6 meta l4proto 17"}, true, true},
		{"v6", "ipv6_addr . inet_proto", "ip6 " + side + " . meta l4proto",
			[]string{"meta nfproto ipv6 meta l4proto != 6 meta l4proto != 17"}, true, false},
	}
}

func slicesOf(r *regions.Result) [4][]regions.Region {
	return [4][]regions.Region{r.V4Ports, r.V4NoPorts, r.V6Ports, r.V6NoPorts}
}

// Compile builds the table of a configuration. It fails on an invalid
// configuration or list, reporting every problem of the configuration at
// once. It is a Compiler's Compile without a cache.
func Compile(cfg Config) (*Ruleset, error) { return new(Compiler).Compile(cfg) }

// Compiler compiles configurations, keeping the compiled form of each
// distinct segment of its last compilation, keyed by the segment's
// content: a change to one group recompiles only that group's segments.
// Its methods may be called concurrently. The zero value is ready to use.
type Compiler struct {
	mu    sync.Mutex
	cache map[fragmentKey]*fragment
	// seen are the fingerprints and liftings of the last compilation's
	// segments, by the entries' identity: the lists a caller hands in
	// again unchanged (a decoded instance kept, not decoded anew) are not
	// fingerprinted again. Entries must not be written once compiled.
	seen map[segmentID]segmentPrint
	// chains are the last compilation's lists' chains, by what they are
	// made of (listKey): a list whose segments compiled the same is not
	// assembled again.
	chains map[string]*listChains
}

// listChains are a list's chains, as Compile assembles them from its
// segments: the chain of each key shape that has rules, then the list's
// own. Immutable.
type listChains struct {
	chains []chain
	def    string // its default verdict's counter
	jump   string // the dispatch maps' verdict: jump to its chain
}

// listKey is what a list's chains depend on: its chain's name and
// direction, and each segment's fragment key, in order.
func listKey(sh *shared, limit int) string {
	b := make([]byte, 0, len(sh.name)+2+len(sh.segs)*(sha256.Size+24))
	b = append(b, sh.name...)
	b = append(b, 0, byte(sh.dir))
	for _, sg := range sh.segs {
		b = append(b, sg.lifted[:]...)
		b = append(b, sg.name...)
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, int64(limit))
	return string(b)
}

// segmentID is a segment's entries by identity.
type segmentID struct {
	first *rules.Entry
	n     int
}

// segmentPrint is what Compile computes of a segment's entries alone.
type segmentPrint struct {
	content, lifted [sha256.Size]byte
	lifts           []lifting
}

// fragmentKey is what a segment's compiled form depends on: its content,
// its name and the region limit.
type fragmentKey struct {
	content [sha256.Size]byte
	name    string
	limit   int
}

// fragment is one segment compiled: its maps, sets, chains (of the
// collapsed form's runs), counters and hits, and the rules it adds to the
// chain of every list that holds it. Immutable.
type fragment struct {
	maps     []elemSet
	sets     []elemSet
	chains   []chain
	counters []string
	sums     []string
	attrs    map[string]Attribution // Instance and Shared unset
	rules    [4][]fragRule          // per shape
	form     Form
	elements int
}

// segment is a distinct segment of a configuration's lists: consecutive
// entries of one list from one source, the platform's or one group's.
type segment struct {
	dir     policy.Direction
	entries []rules.Entry
	full    [sha256.Size]byte // the whole segment's fingerprint
	lifts   []lifting
	lifted  [sha256.Size]byte // its fingerprint with its liftings
	name    string
	users   []string // the instances whose lists hold it, in the configuration's order
	frag    *fragment
}

// shared is one distinct list of a configuration and the instances whose
// list it is, in the configuration's order; its chain is named after the
// first of them by ID.
type shared struct {
	dir       policy.Direction
	segs      []*segment
	instances []int
	name      string
}

// segments cuts a list's entries into segments: the platform's entries,
// then each group's.
func segments(entries []rules.Entry) [][]rules.Entry {
	var out [][]rules.Entry
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Origin.Layer == entries[i].Origin.Layer && entries[j].Origin.GroupID == entries[i].Origin.GroupID {
			j++
		}
		out = append(out, entries[i:j:j])
		i = j
	}
	return out
}

// Compile builds the table of a configuration. Each list is cut into
// segments — its platform entries, then each group's policies — and each
// distinct segment is compiled once, into maps (and sets) that every list
// holding it looks up in turn: a packet no element of a segment's maps
// holds goes on to the next segment's lookups, so the list's first match
// is kept. A list's chain, shared by the instances whose lists are equal,
// is its segments' rules in order, then its final DROP. See Attribution
// for what the hits of a shared segment count.
func (c *Compiler) Compile(cfg Config) (*Ruleset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	limit := cfg.RegionLimit
	if limit == 0 {
		limit = DefaultRegionLimit
	}
	c.mu.Lock()
	seen := c.seen
	c.mu.Unlock()
	prints := make(map[segmentID]segmentPrint, len(seen))
	printOf := func(dir policy.Direction, entries []rules.Entry) segmentPrint {
		id := segmentID{&entries[0], len(entries)}
		if p, ok := prints[id]; ok {
			return p
		}
		p, ok := seen[id]
		if !ok {
			p.content = fingerprint(rules.List{Direction: dir, Entries: entries}, nil)
			p.lifts = lift(entries)
			p.lifted = fingerprint(rules.List{Direction: dir, Entries: entries}, p.lifts)
		}
		prints[id] = p
		return p
	}
	segByContent := map[[sha256.Size]byte]*segment{}
	var segs []*segment
	var lists []*shared
	listByKey := map[[sha256.Size]byte]*shared{}
	of := make([][2]*shared, len(cfg.Instances))
	for i := range cfg.Instances {
		in := &cfg.Instances[i]
		for d, l := range []rules.List{in.Ingress, in.Egress} {
			h := sha256.New()
			h.Write([]byte{byte(l.Direction)})
			var ls []*segment
			for _, entries := range segments(l.Entries) {
				p := printOf(l.Direction, entries)
				fp := p.content
				h.Write(fp[:])
				sg := segByContent[fp]
				if sg == nil {
					sg = &segment{dir: l.Direction, entries: entries, full: fp, lifts: p.lifts, lifted: p.lifted}
					segByContent[fp] = sg
					segs = append(segs, sg)
				}
				sg.users = append(sg.users, in.ID)
				ls = append(ls, sg)
			}
			var key [sha256.Size]byte
			h.Sum(key[:0])
			sh := listByKey[key]
			if sh == nil {
				sh = &shared{dir: l.Direction, segs: ls, name: in.ID}
				listByKey[key] = sh
				lists = append(lists, sh)
			}
			sh.instances = append(sh.instances, i)
			if in.ID < sh.name {
				sh.name = in.ID
			}
			of[i][d] = sh
		}
	}
	// Names: a group's segment after the group and direction, the
	// platform's after its content; segments of one name whose contents
	// differ after their contents too.
	byName := map[string][]*segment{}
	for _, sg := range segs {
		e := &sg.entries[0]
		if e.Origin.Layer == rules.LayerSecurityGroup {
			sg.name = part(e.Origin.GroupID) + "." + dirPart(sg.dir)
		} else {
			sg.name = "pf-" + hex.EncodeToString(sg.full[:4]) + "." + dirPart(sg.dir)
		}
		byName[sg.name] = append(byName[sg.name], sg)
	}
	for name, same := range byName {
		if len(same) > 1 {
			for _, sg := range same {
				sg.name = strings.TrimSuffix(name, "."+dirPart(sg.dir)) + "-" + hex.EncodeToString(sg.full[:4]) + "." + dirPart(sg.dir)
			}
		}
	}

	c.mu.Lock()
	cache := c.cache
	c.mu.Unlock()
	next := make(map[fragmentKey]*fragment, len(segs))
	for _, sg := range segs {
		k := fragmentKey{sg.lifted, sg.name, limit}
		if f := cache[k]; f != nil {
			sg.frag = f
		} else {
			f, err := compileSegment(sg.name, sg.dir, sg.entries, sg.lifts, limit)
			if err != nil {
				return nil, fmt.Errorf("instance %q %v: %w", slices.Min(sg.users), sg.dir, err)
			}
			sg.frag = f
		}
		next[k] = sg.frag
	}
	c.mu.Lock()
	c.cache, c.seen = next, prints
	kept := c.chains
	c.mu.Unlock()

	nCounters := len(lists)
	for _, sg := range segs {
		nCounters += len(sg.frag.attrs)
	}
	rs := &Ruleset{mode: cfg.Mode, Counters: make(map[string]Attribution, nCounters), Lists: make([]ListInfo, 0, 2*len(cfg.Instances))}
	addrSets := map[string]int{} // index in rs.sets
	for _, sg := range segs {
		// The sets of the references of its lifted entries, which are
		// not in the fragment: their addresses are not part of its key.
		for i, lf := range sg.lifts {
			if lf != lifted {
				continue
			}
			e := &sg.entries[i]
			for _, set := range []elemSet{addrSet(addrSetName(e.Source, false), e.V4, false), addrSet(addrSetName(e.Source, true), e.V6, true)} {
				j, ok := addrSets[set.name]
				if !ok {
					addrSets[set.name] = len(rs.sets)
					rs.sets = append(rs.sets, set)
					continue
				}
				if !sameElems(rs.sets[j].elems, set.elems) {
					return nil, fmt.Errorf("the addresses of %v %s differ between two lists", e.Source.Kind, e.Source.ID)
				}
			}
		}
		f := sg.frag
		rs.maps = append(rs.maps, f.maps...)
		rs.sets = append(rs.sets, f.sets...)
		rs.chains = append(rs.chains, f.chains...)
		rs.counters = append(rs.counters, f.counters...)
		rs.sums = append(rs.sums, f.sums...)
		users := slices.Compact(slices.Sorted(slices.Values(sg.users)))
		for name, a := range f.attrs {
			a.Instance = users[0]
			if len(users) > 1 {
				a.Shared = users
			}
			rs.Counters[name] = a
		}
	}
	made := make(map[string]*listChains, len(lists))
	forms := make(map[*shared]*listChains, len(lists))
	for _, sh := range lists {
		for i, sg := range sh.segs {
			if slices.Contains(sh.segs[:i], sg) {
				return nil, fmt.Errorf("instance %q %v: %s twice", sh.name, sh.dir, sg.name)
			}
		}
		key := listKey(sh, limit)
		lc := kept[key]
		if lc == nil {
			lc = assembleList(sh)
		}
		made[key], forms[sh] = lc, lc
		rs.chains = append(rs.chains, lc.chains...)
		rs.counters = append(rs.counters, lc.def)
		at := Attribution{Instance: sh.name, Direction: sh.dir, Origins: []rules.Origin{rules.DefaultOrigin(sh.dir)}}
		if len(sh.instances) > 1 {
			for _, i := range sh.instances {
				at.Shared = append(at.Shared, cfg.Instances[i].ID)
			}
			slices.Sort(at.Shared)
		}
		rs.Counters[lc.def] = at
	}
	c.mu.Lock()
	c.chains = made
	c.mu.Unlock()
	dispatchIn := elemSet{name: "ingress_if", typ: "ifname : verdict"}
	dispatchOut := elemSet{name: "egress_if", typ: "ifname : verdict"}
	if cfg.Mode == Hypervisor {
		dispatchIn.elems = make([]elem, 0, len(cfg.Instances))
		dispatchOut.elems = make([]elem, 0, len(cfg.Instances))
	}
	for i := range cfg.Instances {
		in := &cfg.Instances[i]
		for d, sh := range of[i] {
			li := ListInfo{Instance: in.ID, Direction: sh.dir, Form: FormRegions, Chain: listBase(sh.name, sh.dir)}
			for _, sg := range sh.segs {
				li.Elements += sg.frag.elements
				if sg.frag.form == FormCollapsed {
					li.Form = FormCollapsed
				}
			}
			rs.Lists = append(rs.Lists, li)
			if cfg.Mode == Hypervisor {
				disp := &dispatchIn
				if d == 1 {
					disp = &dispatchOut
				}
				disp.elems = append(disp.elems, elem{key: []string{strconv.Quote(in.Interface)}, value: forms[sh].jump})
			}
		}
	}
	switch cfg.Mode {
	case Hypervisor:
		sortElems(&dispatchIn)
		sortElems(&dispatchOut)
		rs.maps = append(rs.maps, dispatchIn, dispatchOut)
		rs.chains = append(rs.chains, chain{
			name: "forward",
			base: &knftables.Chain{Type: knftables.PtrTo(knftables.FilterType), Hook: knftables.PtrTo(knftables.ForwardHook),
				Priority: knftables.PtrTo(knftables.FilterPriority), Policy: knftables.PtrTo(knftables.AcceptPolicy)},
			comment: "Palisade: instances' egress by incoming interface, then ingress by outgoing interface",
			rules: []string{
				"ct state established,related accept",
				"iifname vmap @egress_if",
				"oifname vmap @ingress_if",
			},
		})
	case Host:
		id := part(cfg.Instances[0].ID)
		rs.chains = append(rs.chains,
			chain{
				name: "input",
				base: &knftables.Chain{Type: knftables.PtrTo(knftables.FilterType), Hook: knftables.PtrTo(knftables.InputHook),
					Priority: knftables.PtrTo(knftables.FilterPriority + "-10"), Policy: knftables.PtrTo(knftables.AcceptPolicy)},
				comment: "Palisade: the host's ingress, before iptables' filter INPUT",
				rules: []string{
					`iifname "lo" accept`,
					"ct state established,related accept",
					"jump " + id + ".in",
				},
			},
			chain{
				name: "output",
				base: &knftables.Chain{Type: knftables.PtrTo(knftables.FilterType), Hook: knftables.PtrTo(knftables.OutputHook),
					Priority: knftables.PtrTo(knftables.FilterPriority + "+10"), Policy: knftables.PtrTo(knftables.AcceptPolicy)},
				comment: "Palisade: the host's egress, after iptables' filter OUTPUT",
				rules: []string{
					`oifname "lo" accept`,
					"ct state established,related accept",
					"jump " + id + ".out",
				},
			})
	}
	slices.SortFunc(rs.chains, func(a, b chain) int { return strings.Compare(a.name, b.name) })
	slices.SortFunc(rs.maps, func(a, b elemSet) int { return strings.Compare(a.name, b.name) })
	slices.SortFunc(rs.sets, func(a, b elemSet) int { return strings.Compare(a.name, b.name) })
	slices.Sort(rs.counters)
	slices.Sort(rs.sums)
	return rs, nil
}

// assembleList makes the chains of list sh from its segments' fragments:
// a chain per key shape, the segments' rules in order, a lifted rule an
// earlier one of the chain matches as well left out, then the final DROP
// (none for a shape no segment has a rule of); and the list's chain,
// dispatching to them.
func assembleList(sh *shared) *listChains {
	base := listBase(sh.name, sh.dir)
	def := base + ".default"
	final := "counter name " + strconv.Quote(def) + " drop"
	top := chain{name: base, comment: fmt.Sprintf("Palisade: %s %v", sh.name, sh.dir), rules: []string{"ct state invalid drop"}}
	lc := &listChains{def: def, jump: "jump " + base}
	for k, shp := range shapes(sh.dir) {
		c := chain{name: base + "." + shp.suffix}
		matched := map[string]bool{}
		for _, sg := range sh.segs {
			for _, r := range sg.frag.rules[k] {
				if r.lifted && matched[r.match] {
					continue
				}
				matched[r.match] = true
				c.rules = append(c.rules, r.String())
			}
		}
		if len(c.rules) == 0 {
			continue
		}
		c.rules = append(c.rules, final)
		lc.chains = append(lc.chains, c)
		for _, d := range shp.dispatch {
			top.rules = append(top.rules, d+" goto "+c.name)
		}
	}
	top.rules = append(top.rules, final)
	lc.chains = append(lc.chains, top)
	return lc
}

// listBase is the name of the chain of a list of direction dir named
// after instance id, and the prefix of its maps', sets' and hits' names.
func listBase(id string, dir policy.Direction) string { return part(id) + "." + dirPart(dir) }

// fingerprint sums a list: its direction and, per entry, its origin,
// action, services and addresses — for an entry lifts says is lifted, the
// reference instead of its addresses, which are in a set outside the
// list's chain and maps. With lifts, it sums what the list's compiled
// form depends on; without (nil), the whole list.
func fingerprint(l rules.List, lifts []lifting) [sha256.Size]byte {
	h := sha256.New()
	b := make([]byte, 0, 8192)
	num := func(n int64) { b = binary.AppendVarint(b, n) }
	str := func(s string) { num(int64(len(s))); b = append(b, s...) }
	addr := func(a netip.Addr) {
		x := a.As16()
		if a.Is4() {
			b = append(b, 4)
		} else {
			b = append(b, 6)
		}
		b = append(b, x[:]...)
	}
	num(int64(l.Direction))
	num(int64(len(l.Entries)))
	for i := range l.Entries {
		if len(b) > 4096 {
			h.Write(b)
			b = b[:0]
		}
		e := &l.Entries[i]
		o := &e.Origin
		num(int64(o.Direction))
		num(int64(o.Layer))
		num(int64(o.Platform))
		str(o.GroupID)
		num(int64(o.PolicyIndex))
		if o.Prefix.IsValid() {
			addr(o.Prefix.Addr())
			num(int64(o.Prefix.Bits()))
		} else {
			num(-1)
		}
		num(int64(e.Action))
		num(int64(len(e.Services)))
		for _, s := range e.Services {
			num(int64(s.Protocol))
			if s.Ports.All() {
				num(-1)
			} else {
				rs := s.Ports.Ranges()
				num(int64(len(rs)))
				for _, r := range rs {
					num(int64(r.Lo))
					num(int64(r.Hi))
				}
			}
		}
		if lifts != nil {
			num(int64(lifts[i]))
		}
		if lifts != nil && lifts[i] != inRegions {
			// The reference, and which of its sets are empty: a lifted
			// entry has no rules in a family its set has no address of.
			num(int64(e.Source.Kind))
			str(e.Source.ID)
			for _, set := range []*netipx.IPSet{e.V4, e.V6} {
				if empty(set) {
					num(0)
				} else {
					num(1)
				}
			}
			continue
		}
		for _, set := range []*netipx.IPSet{e.V4, e.V6} {
			if set == nil {
				num(-1)
				continue
			}
			rs := set.Ranges()
			num(int64(len(rs)))
			for _, r := range rs {
				addr(r.From())
				addr(r.To())
			}
		}
	}
	h.Write(b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// compileSegment compiles one segment of direction dir, named name, its
// entries lifted as lifts says.
//
// Its entries' hits are named after it and the entry: the policy index
// for a group's ("sg-1a2b3c4d.in.7"), pf and the index for the
// platform's. In the regions form every entry has a hit, owning regions or
// not, so that the hits do not change when only addresses do; in the
// collapsed form the lifted entries have theirs, the runs theirs. The
// segment's maps (and sets) of a key shape that has no element are left
// out, with their lookups.
func compileSegment(name string, dir policy.Direction, entries []rules.Entry, lifts []lifting, limit int) (*fragment, error) {
	rs := &Ruleset{Counters: map[string]Attribution{}}
	f := &fragment{form: FormRegions}
	// The entries in the regions, and their indices in the segment.
	sub := rules.List{Direction: dir}
	var orig []int
	for i := range entries {
		if lifts[i] == inRegions {
			sub.Entries = append(sub.Entries, entries[i])
			orig = append(orig, i)
		}
	}
	res, err := regions.Compute(sub, limit)
	if err != nil {
		return nil, err
	}
	if res.Truncated {
		f.form = FormCollapsed
	}
	sh := shapes(dir)
	names := make([]string, len(entries))
	seen := make(map[string]int, len(entries))
	for i := range entries {
		e := &entries[i]
		if f.form == FormCollapsed && lifts[i] == inRegions {
			continue
		}
		names[i] = name + "." + entryPart(i, e)
		if j, ok := seen[names[i]]; ok {
			return nil, fmt.Errorf("entries %d and %d have the same origin %s", j, i, names[i])
		}
		seen[names[i]] = i
		if lifts[i] == lifted {
			rs.counters = append(rs.counters, names[i])
			for k, rules := range liftedRules(e, dir, names[i]) {
				f.rules[k] = append(f.rules[k], rules...)
			}
		} else {
			rs.sums = append(rs.sums, names[i])
		}
		rs.Counters[names[i]] = Attribution{Direction: dir, Origins: []rules.Origin{e.Origin}}
	}
	if f.form == FormRegions {
		for k, s := range slicesOf(res) {
			if len(s) == 0 {
				continue
			}
			m := elemSet{name: name + "." + sh[k].suffix, typ: sh[k].typ + " : verdict", interval: true, counter: true}
			m.elems = make([]elem, 0, len(s))
			for _, g := range s {
				i := orig[g.Owner]
				m.elems = append(m.elems, elem{key: key(g, sh[k].ports), value: verdict(entries[i].Action), owner: names[i],
					at: corner{g.AddrLo, g.ProtoLo, g.PortLo}})
			}
			f.elements += len(m.elems)
			rs.maps = append(rs.maps, m)
			f.rules[k] = append(f.rules[k], fragRule{match: sh[k].lookup + " vmap @" + m.name})
		}
	} else {
		runs, err := collapse(sub.Entries, limit)
		if err != nil {
			return nil, err
		}
		for k, r := range runs {
			run := fmt.Sprintf("%s.run%d", name, k)
			a := Attribution{Direction: dir, Run: true}
			for i := r.first; i <= r.last; i++ {
				a.Origins = append(a.Origins, sub.Entries[i].Origin)
			}
			rs.verdictChain(run, fmt.Sprintf("entries %d-%d", orig[r.first], orig[r.last]), sub.Entries[r.first].Action, a)
			for si, s := range slicesOf(r.union) {
				if len(s) == 0 {
					continue
				}
				set := elemSet{name: run + "." + sh[si].suffix, typ: sh[si].typ, interval: true}
				for _, g := range s {
					set.elems = append(set.elems, elem{key: key(g, sh[si].ports)})
				}
				f.elements += len(set.elems)
				rs.sets = append(rs.sets, set)
				f.rules[si] = append(f.rules[si], fragRule{match: sh[si].lookup + " @" + set.name + " goto " + run})
			}
		}
	}
	f.maps, f.sets, f.chains, f.counters, f.sums, f.attrs = rs.maps, rs.sets, rs.chains, rs.counters, rs.sums, rs.Counters
	return f, nil
}

// verdict is what a packet an entry of action a decides meets: drop, or
// return — the end of the list's leg, so that traffic between two
// instances of one host passes the sender's egress and then the
// receiver's ingress.
func verdict(a policy.Action) string {
	if a == policy.Accept {
		return "return"
	}
	return "drop"
}

// verdictChain adds a run's chain, counting into its own named counter,
// then returning (ACCEPT) or dropping.
func (rs *Ruleset) verdictChain(name, comment string, a policy.Action, at Attribution) {
	rs.chains = append(rs.chains, chain{name: name, comment: comment, rules: []string{"counter name " + strconv.Quote(name) + " " + verdict(a)}})
	rs.counters = append(rs.counters, name)
	rs.Counters[name] = at
}

// entryPart names entry i of a segment: its policy index, or, for a
// platform rule, pf and its index.
func entryPart(i int, e *rules.Entry) string {
	if e.Origin.Layer == rules.LayerSecurityGroup {
		return strconv.Itoa(e.Origin.PolicyIndex)
	}
	return "pf" + strconv.Itoa(i)
}

// key is a region's element key: the address range (as a prefix when it is
// one), the protocols and, for TCP and UDP, the ports.
func key(g regions.Region, ports bool) []string {
	k := []string{addrs(g.AddrLo, g.AddrHi), span(int(g.ProtoLo), int(g.ProtoHi))}
	if ports {
		k = append(k, span(int(g.PortLo), int(g.PortHi)))
	}
	return k
}

func addrs(lo, hi netip.Addr) string {
	if p, ok := netipx.IPRangeFrom(lo, hi).Prefix(); ok {
		if p.Bits() == p.Addr().BitLen() {
			return p.Addr().String()
		}
		return p.String()
	}
	return lo.String() + "-" + hi.String()
}

func span(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
}

func sortElems(s *elemSet) {
	slices.SortFunc(s.elems, func(a, b elem) int { return strings.Compare(a.id(), b.id()) })
}

// run is entries first to last of one action and the union of their
// packets.
type run struct {
	first, last int
	union       *regions.Result
}

// collapse cuts entries into runs of consecutive entries with one action,
// each with the union of its entries as at most limit disjoint boxes; a run
// whose union would be larger is cut in halves, down to single entries
// (whose boxes are always computed).
func collapse(entries []rules.Entry, limit int) ([]run, error) {
	var out []run
	var add func(first, last int) error
	add = func(first, last int) error {
		lim := limit
		if first == last {
			lim = 0
		}
		u, err := regions.Union(entries[first:last+1], lim)
		if err != nil {
			return err
		}
		if !u.Truncated {
			out = append(out, run{first, last, u})
			return nil
		}
		mid := (first + last) / 2
		if err := add(first, mid); err != nil {
			return err
		}
		return add(mid+1, last)
	}
	for i := 0; i < len(entries); {
		j := i
		for j+1 < len(entries) && entries[j+1].Action == entries[i].Action {
			j++
		}
		if err := add(i, j); err != nil {
			return nil, err
		}
		i = j + 1
	}
	return out, nil
}
