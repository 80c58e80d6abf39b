package nft

import (
	"crypto/sha256"
	"encoding/binary"
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

// Ruleset is a compiled table: plain data, built by Compile and written to
// a transaction by Full or Incremental. It is immutable.
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

// ListInfo is how one list was compiled: its form, its element count
// (regions, or the collapsed sets' elements) and its chain, which the
// instances with an equal list share.
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

// The key shapes of a list's maps and sets.
type shape struct {
	suffix, typ, match string
	is6, ports         bool
}

func shapes(dir policy.Direction) [4]shape {
	side := "saddr"
	if dir == policy.Egress {
		side = "daddr"
	}
	return [4]shape{
		{"v4p", "ipv4_addr . inet_proto . inet_service", "meta nfproto ipv4 meta l4proto { tcp, udp } ip " + side + " . meta l4proto . th dport", false, true},
		{"v4", "ipv4_addr . inet_proto", "meta nfproto ipv4 meta l4proto != { tcp, udp } ip " + side + " . meta l4proto", false, false},
		{"v6p", "ipv6_addr . inet_proto . inet_service", "meta nfproto ipv6 meta l4proto { tcp, udp } ip6 " + side + " . meta l4proto . th dport", true, true},
		{"v6", "ipv6_addr . inet_proto", "meta nfproto ipv6 meta l4proto != { tcp, udp } ip6 " + side + " . meta l4proto", true, false},
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
// distinct list of its last compilation, keyed by the list's content: a
// change to one group recompiles only the lists that hold it. Its methods
// may be called concurrently. The zero value is ready to use.
type Compiler struct {
	mu    sync.Mutex
	cache map[fragmentKey]*fragment
}

// fragmentKey is what a list's compiled form depends on: its content, the
// instance it is named after and the region limit.
type fragmentKey struct {
	content [sha256.Size]byte
	name    string
	limit   int
}

// fragment is one list compiled, under the name of the instance it is
// named after: its chains, maps, sets, counters and hits. Immutable.
type fragment struct {
	chains   []chain
	maps     []elemSet
	sets     []elemSet
	counters []string
	sums     []string
	attrs    map[string]Attribution
	form     Form
	elements int
}

// shared is one distinct list of a configuration and the instances whose
// list it is, in the configuration's order; it is compiled once, named
// after the first of them by ID.
type shared struct {
	list      rules.List
	lifts     []lifting
	content   [sha256.Size]byte
	instances []int
	name      string // the instance ID its chain, maps and hits are named after
	frag      *fragment
}

// Compile builds the table of a configuration: each distinct list once,
// its chain shared by the instances whose list it is (see Attribution).
func (c *Compiler) Compile(cfg Config) (*Ruleset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	limit := cfg.RegionLimit
	if limit == 0 {
		limit = DefaultRegionLimit
	}
	// The distinct lists, each with its instances.
	var lists []*shared
	byContent := map[[sha256.Size]byte]*shared{}
	of := make([][2]*shared, len(cfg.Instances))
	for i := range cfg.Instances {
		in := &cfg.Instances[i]
		for d, l := range []rules.List{in.Ingress, in.Egress} {
			h := fingerprint(l, nil)
			s := byContent[h]
			if s == nil {
				s = &shared{list: l, name: in.ID}
				byContent[h] = s
				lists = append(lists, s)
			}
			s.instances = append(s.instances, i)
			if in.ID < s.name {
				s.name = in.ID
			}
			of[i][d] = s
		}
	}
	c.mu.Lock()
	cache := c.cache
	c.mu.Unlock()
	next := make(map[fragmentKey]*fragment, len(lists))
	for _, s := range lists {
		s.lifts = lift(s.list.Entries)
		s.content = fingerprint(s.list, s.lifts)
		k := fragmentKey{s.content, s.name, limit}
		if f := cache[k]; f != nil {
			s.frag = f
		} else {
			f, err := compileList(s.name, s.list, s.lifts, limit)
			if err != nil {
				return nil, fmt.Errorf("instance %q %v: %w", cfg.Instances[s.instances[0]].ID, s.list.Direction, err)
			}
			s.frag = f
		}
		next[k] = s.frag
	}
	c.mu.Lock()
	c.cache = next
	c.mu.Unlock()

	rs := &Ruleset{mode: cfg.Mode, Counters: map[string]Attribution{}}
	addrSets := map[string]int{} // index in rs.sets
	for _, s := range lists {
		// The sets of the references of its lifted entries, which are
		// not in the fragment: their addresses are not part of its key.
		for i, lf := range s.lifts {
			if lf != lifted {
				continue
			}
			e := &s.list.Entries[i]
			for _, set := range []elemSet{addrSet(addrSetName(e.Source, false), e.V4, false), addrSet(addrSetName(e.Source, true), e.V6, true)} {
				j, ok := addrSets[set.name]
				if !ok {
					addrSets[set.name] = len(rs.sets)
					rs.sets = append(rs.sets, set)
					continue
				}
				if !sameElems(rs.sets[j].elems, set.elems) {
					return nil, fmt.Errorf("instance %q %v: the addresses of %v %s differ from another list's", cfg.Instances[s.instances[0]].ID, s.list.Direction, e.Source.Kind, e.Source.ID)
				}
			}
		}
		f := s.frag
		rs.chains = append(rs.chains, f.chains...)
		rs.maps = append(rs.maps, f.maps...)
		rs.sets = append(rs.sets, f.sets...)
		rs.counters = append(rs.counters, f.counters...)
		rs.sums = append(rs.sums, f.sums...)
		for name, a := range f.attrs {
			if len(s.instances) > 1 {
				a.Shared = make([]string, len(s.instances))
				for j, i := range s.instances {
					a.Shared[j] = cfg.Instances[i].ID
				}
				slices.Sort(a.Shared)
			}
			rs.Counters[name] = a
		}
	}
	dispatchIn := elemSet{name: "ingress_if", typ: "ifname : verdict"}
	dispatchOut := elemSet{name: "egress_if", typ: "ifname : verdict"}
	for i := range cfg.Instances {
		in := &cfg.Instances[i]
		for d, s := range of[i] {
			rs.Lists = append(rs.Lists, ListInfo{Instance: in.ID, Direction: s.list.Direction, Form: s.frag.form, Elements: s.frag.elements,
				Chain: listBase(s.name, s.list.Direction)})
			if cfg.Mode == Hypervisor {
				disp := &dispatchIn
				if d == 1 {
					disp = &dispatchOut
				}
				disp.elems = append(disp.elems, elem{key: []string{strconv.Quote(in.Interface)}, value: "jump " + listBase(s.name, s.list.Direction)})
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
			num(int64(e.Source.Kind))
			str(e.Source.ID)
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

// compileList compiles one list, named after instance id, its entries
// lifted as lifts says.
func compileList(id string, l rules.List, lifts []lifting, limit int) (*fragment, error) {
	rs := &Ruleset{Counters: map[string]Attribution{}}
	info, err := rs.list(id, l, lifts, limit)
	if err != nil {
		return nil, err
	}
	return &fragment{chains: rs.chains, maps: rs.maps, sets: rs.sets, counters: rs.counters, sums: rs.sums,
		attrs: rs.Counters, form: info.Form, elements: info.Elements}, nil
}

// list compiles one list named after instance id into rs, its entries
// lifted as lifts says.
func (rs *Ruleset) list(id string, l rules.List, lifts []lifting, limit int) (ListInfo, error) {
	base := listBase(id, l.Direction)
	// The entries in the regions, and their indices in the list.
	sub := rules.List{Direction: l.Direction}
	var orig []int
	for i := range l.Entries {
		if lifts[i] == inRegions {
			sub.Entries = append(sub.Entries, l.Entries[i])
			orig = append(orig, i)
		}
	}
	res, err := regions.Compute(sub, limit)
	if err != nil {
		return ListInfo{}, err
	}
	sh := shapes(l.Direction)
	top := chain{name: base, comment: fmt.Sprintf("Palisade: %s %v", id, l.Direction), rules: []string{"ct state invalid drop"}}
	info := ListInfo{Instance: id, Direction: l.Direction, Form: FormRegions}
	if res.Truncated {
		info.Form = FormCollapsed
	}
	// One hit per entry — in the regions form every entry's, owning
	// regions or not, so that the hits do not change when only addresses
	// do; in the collapsed form the lifted entries' — named after its
	// group and policy index.
	names := make([]string, len(l.Entries))
	seen := make(map[string]int, len(l.Entries))
	for i := range l.Entries {
		e := &l.Entries[i]
		if info.Form == FormCollapsed && lifts[i] == inRegions {
			continue
		}
		names[i] = base + "." + entryPart(i, e)
		if j, ok := seen[names[i]]; ok {
			return ListInfo{}, fmt.Errorf("entries %d and %d have the same origin %s", j, i, names[i])
		}
		seen[names[i]] = i
		at := Attribution{Instance: id, Direction: l.Direction, Origins: []rules.Origin{e.Origin}}
		if lifts[i] == lifted {
			rs.counters = append(rs.counters, names[i])
			top.rules = append(top.rules, liftedRules(e, l.Direction, names[i])...)
		} else {
			rs.sums = append(rs.sums, names[i])
		}
		rs.Counters[names[i]] = at
	}
	if info.Form == FormRegions {
		for k, s := range slicesOf(res) {
			m := elemSet{name: base + "." + sh[k].suffix, typ: sh[k].typ + " : verdict", interval: true, counter: true}
			m.elems = make([]elem, 0, len(s))
			for _, g := range s {
				i := orig[g.Owner]
				m.elems = append(m.elems, elem{key: key(g, sh[k].ports), value: verdict(l.Entries[i].Action), owner: names[i],
					at: corner{g.AddrLo, g.ProtoLo, g.PortLo}})
			}
			info.Elements += len(m.elems)
			rs.maps = append(rs.maps, m)
			top.rules = append(top.rules, sh[k].match+" vmap @"+m.name)
		}
	} else {
		runs, err := collapse(sub.Entries, limit)
		if err != nil {
			return ListInfo{}, err
		}
		for k, r := range runs {
			name := fmt.Sprintf("%s.run%d", base, k)
			a := Attribution{Instance: id, Direction: l.Direction, Run: true}
			for i := r.first; i <= r.last; i++ {
				a.Origins = append(a.Origins, sub.Entries[i].Origin)
			}
			rs.verdictChain(name, fmt.Sprintf("entries %d-%d", orig[r.first], orig[r.last]), sub.Entries[r.first].Action, a)
			for si, s := range slicesOf(r.union) {
				if len(s) == 0 {
					continue
				}
				set := elemSet{name: name + "." + sh[si].suffix, typ: sh[si].typ, interval: true}
				for _, g := range s {
					set.elems = append(set.elems, elem{key: key(g, sh[si].ports)})
				}
				info.Elements += len(set.elems)
				rs.sets = append(rs.sets, set)
				top.rules = append(top.rules, sh[si].match+" @"+set.name+" goto "+name)
			}
		}
	}
	def := base + ".default"
	rs.counters = append(rs.counters, def)
	rs.Counters[def] = Attribution{Instance: id, Direction: l.Direction, Origins: []rules.Origin{rules.DefaultOrigin(l.Direction)}}
	top.rules = append(top.rules, "counter name "+strconv.Quote(def)+" drop")
	rs.chains = append(rs.chains, top)
	return info, nil
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

// entryPart names entry i of a list: its group and policy index, or, for a
// platform rule, pf and its index in the list.
func entryPart(i int, e *rules.Entry) string {
	if e.Origin.Layer == rules.LayerSecurityGroup {
		return part(e.Origin.GroupID) + "." + strconv.Itoa(e.Origin.PolicyIndex)
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
