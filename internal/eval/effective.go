package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Query is the packet whose verdict is asked, seen from the instance: the
// peer's address (the source of inbound traffic, the destination of
// outbound), the IP protocol number and the destination port (ignored unless
// the protocol is TCP or UDP). An IPv4-mapped IPv6 peer is taken as IPv4 and
// a zone is ignored; an invalid peer matches no rule.
type Query struct {
	Peer  netip.Addr
	Proto uint8
	Port  uint16
}

func (q Query) normal() Query {
	q.Peer = q.Peer.Unmap().WithZone("")
	return q
}

// Decision is the verdict on a packet and what decided it: the deciding
// entry's index in the list (−1 for the implicit final DROP) and, from its
// Origin, its layer, its platform rule (for rules.LayerPlatform) or the
// group and policy index (for rules.LayerSecurityGroup; GroupID is empty
// and PolicyIndex −1 otherwise). The entry itself, with its whole Origin,
// is Effective.Entry(Entry). It is small, so that Decide stays cheap.
type Decision struct {
	Verdict     policy.Action
	Layer       rules.Layer
	Platform    rules.PlatformRule
	GroupID     string
	PolicyIndex int
	Entry       int
}

func (d Decision) String() string {
	if d.Layer == rules.LayerSecurityGroup {
		return fmt.Sprintf("%v by %s policy %d", d.Verdict, d.GroupID, d.PolicyIndex)
	}
	return fmt.Sprintf("%v by %v", d.Verdict, d.Layer)
}

// classifierOrigins is the length of effective list above which Decide
// goes through a compiled Classifier rather than the walk: beyond the
// default quotas (5 groups of 100 policies), where a walk's cost per
// decision would outgrow the classifier's build cost.
const classifierOrigins = 1024

// Effective is an instance's compiled effective rule list for one direction
// (SPEC §3): a rules.List, then the implicit DROP. It is immutable and safe
// for concurrent use.
//
// It is held as a walk (see walk): each entry's services and the sorted,
// merged address ranges of its peers, tried in order, which costs time
// linear in the list to build. A list longer than classifierOrigins entries
// is also compiled into a Classifier, which Decide then uses.
type Effective struct {
	dir       policy.Direction
	entries   []rules.Entry
	decisions []Decision // each entry's, by index
	w         walk
	c         *Classifier

	// texts are the entries' texts in traces, made as far as a Trace
	// needed them: the first entries, up to the deciding one.
	textMu sync.Mutex
	texts  atomic.Pointer[[]string]
}

// CompileList compiles an effective rule list. It fails on an invalid
// direction, an entry of another direction or layer, an invalid action or
// service, or an address set holding the other family, reporting every
// problem at once. The list's entries are kept, not copied: never modify
// them afterwards.
func CompileList(l rules.List) (*Effective, error) {
	return compileList(l, false)
}

// CompileListFrom is CompileList reusing what prev, an earlier compilation
// (nil: none), built for the entries of l that are prev's unchanged — the
// same origin, action, policy, services slice and address sets — at the
// same distance from the end: a list resolved again after a change to its
// platform rules or to some of its policies builds only those entries. The
// result decides exactly as CompileList(l) would.
func CompileListFrom(prev *Effective, l rules.List) (*Effective, error) {
	e, _, err := compileListFrom(prev, l)
	return e, err
}

// compileListFrom is CompileListFrom, also returning how many entries it
// reused.
func compileListFrom(prev *Effective, l rules.List) (*Effective, int, error) {
	if prev == nil || prev.dir != l.Direction || prev.c != nil || len(l.Entries) > classifierOrigins {
		e, err := compileList(l, false)
		return e, 0, err
	}
	if err := checkList(l); err != nil {
		return nil, 0, err
	}
	n, pn := len(l.Entries), len(prev.entries)
	b := walkBuilder{w: walk{steps: make([]step, n), svcs: make([]svc, 0, n+4)}}
	e := &Effective{dir: l.Direction, entries: l.Entries, decisions: make([]Decision, n)}
	var errs []error
	reused := 0
	for i := range l.Entries {
		en := &l.Entries[i]
		if j := pn - n + i; j >= 0 && sameEntry(en, &prev.entries[j]) {
			b.copyStep(i, &prev.w, j)
			e.decisions[i] = prev.decisions[j]
			e.decisions[i].Entry = i
			reused++
			continue
		}
		errs = b.add(i, en, errs)
		e.decisions[i] = decisionOf(en, i)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	e.w = b.w
	return e, reused, nil
}

// sameEntry reports whether a and b are the same entry: built from the
// same policy, services and address sets, which never change.
func sameEntry(a, b *rules.Entry) bool {
	return a.Origin == b.Origin && a.Action == b.Action && a.Policy == b.Policy && a.ServiceID == b.ServiceID &&
		a.V4 == b.V4 && a.V6 == b.V6 && a.Source == b.Source &&
		len(a.Services) == len(b.Services) && (len(a.Services) == 0 || &a.Services[0] == &b.Services[0])
}

func decisionOf(en *rules.Entry, i int) Decision {
	o := &en.Origin
	return Decision{Verdict: en.Action, Layer: o.Layer, Platform: o.Platform, GroupID: o.GroupID, PolicyIndex: o.PolicyIndex, Entry: i}
}

// compileList builds the list, with a Classifier if the list is long or
// withClassifier is set.
func compileList(l rules.List, withClassifier bool) (*Effective, error) {
	if err := checkList(l); err != nil {
		return nil, err
	}
	w, err := buildWalk(l.Entries)
	if err != nil {
		return nil, err
	}
	e := &Effective{dir: l.Direction, entries: l.Entries, decisions: make([]Decision, len(l.Entries)), w: w}
	for i := range l.Entries {
		e.decisions[i] = decisionOf(&l.Entries[i], i)
	}
	if withClassifier || len(l.Entries) > classifierOrigins {
		var rs []Rule
		for i := range l.Entries {
			en := &l.Entries[i]
			rs = appendRules(rs, l.Direction, int32(i), en.Action, entryPrefixes(en), en.Services)
		}
		c, err := Compile(rs)
		if err != nil {
			return nil, err
		}
		e.c = c
	}
	return e, nil
}

// checkList reports every problem of a list at once, but for address sets
// of the wrong family, which buildWalk reports as it reads each set.
func checkList(l rules.List) error {
	var errs []error
	if !l.Direction.Valid() {
		errs = append(errs, fmt.Errorf("invalid direction %d", l.Direction))
	}
	for i := range l.Entries {
		en := &l.Entries[i]
		if en.Origin.Direction != l.Direction {
			errs = append(errs, fmt.Errorf("entry %d: direction %v in a list of %v", i, en.Origin.Direction, l.Direction))
		}
		if en.Origin.Layer != rules.LayerPlatform && en.Origin.Layer != rules.LayerSecurityGroup {
			errs = append(errs, fmt.Errorf("entry %d: invalid layer %v", i, en.Origin.Layer))
		}
		if !en.Action.Valid() {
			errs = append(errs, fmt.Errorf("entry %d: invalid action %d", i, en.Action))
		}
		for si, s := range en.Services {
			if !s.Valid() {
				errs = append(errs, fmt.Errorf("entry %d service %d: invalid %v %v", i, si, s.Protocol, s.Ports))
			}
		}
	}
	return errors.Join(errs...)
}

// entryPrefixes returns the prefixes covering an entry's addresses, both
// families.
func entryPrefixes(en *rules.Entry) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []*netipx.IPSet{en.V4, en.V6} {
		if s != nil {
			out = append(out, s.Prefixes()...)
		}
	}
	return out
}

// everywhere returns the prefix of every address of a family.
func everywhere(is6 bool) netip.Prefix {
	if is6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}

// appendRules expands one entry into classifier rules: one per peer prefix,
// service and port range, skipping the combinations of a protocol with the
// other family (ICMP is IPv4's, ICMPv6 IPv6's).
func appendRules(rs []Rule, dir policy.Direction, decider int32, action policy.Action, peers []netip.Prefix, services []rules.Service) []Rule {
	act := Accept
	if action == policy.Drop {
		act = Drop
	}
	for _, peer := range peers {
		if !peer.IsValid() {
			continue
		}
		peer = peer.Masked()
		is6 := peer.Addr().Is6()
		wild := everywhere(is6)
		for _, s := range services {
			v4, v6 := s.Protocol.Families()
			if is6 && !v6 || !is6 && !v4 {
				continue
			}
			proto := AnyProto
			if n, ok := s.Protocol.Number(); ok {
				proto = Proto(n)
			}
			ranges := []PortRange{AllPorts}
			if s.Protocol.HasPorts() && !s.Ports.All() {
				ranges = ranges[:0]
				for _, r := range s.Ports.Ranges() {
					ranges = append(ranges, PortRange{Lo: r.Lo, Hi: r.Hi})
				}
			}
			for _, pr := range ranges {
				r := Rule{SrcPorts: AllPorts, DstPorts: pr, Proto: proto, Decider: decider, Action: act}
				if dir == policy.Egress {
					r.Src, r.Dst = wild, peer
				} else {
					r.Src, r.Dst = peer, wild
				}
				rs = append(rs, r)
			}
		}
	}
	return rs
}

// packet places q in a classifier packet: the peer on its side, the
// instance's side unspecified (its rules match any address of the family).
func (e *Effective) packet(q Query) Packet {
	inst := netip.IPv4Unspecified()
	if q.Peer.Is6() {
		inst = netip.IPv6Unspecified()
	}
	p := Packet{Src: q.Peer, Dst: inst, DstPort: q.Port, Proto: q.Proto}
	if e.dir == policy.Egress {
		p.Src, p.Dst = inst, q.Peer
	}
	return p
}

// Decide returns the verdict on q. It does not allocate.
func (e *Effective) Decide(q Query) Decision {
	q = q.normal()
	if !q.Peer.IsValid() {
		return e.defaultDecision()
	}
	if e.c != nil {
		m, ok := e.c.Decide(e.packet(q))
		if !ok {
			return e.defaultDecision()
		}
		return e.decisions[m.Decider]
	}
	k := newKey(q)
	for i := range e.w.steps {
		if e.w.matches(i, k) {
			return e.decisions[i]
		}
	}
	return e.defaultDecision()
}

// defaultDecision is the implicit final DROP's.
func (e *Effective) defaultDecision() Decision {
	return Decision{Verdict: policy.Drop, Layer: rules.LayerDefault, PolicyIndex: -1, Entry: -1}
}

// Trace returns the verdict on q and the walk that led to it: one line per
// entry of the effective list up to the deciding one, each naming its layer
// and saying whether it matched ("…: no match", or the entry's action).
func (e *Effective) Trace(q Query) (Decision, []string) {
	q = q.normal()
	d := e.Decide(q)
	k := newKey(q)
	n := len(e.entries)
	if d.Entry >= 0 {
		n = d.Entry + 1
	}
	texts := e.textsUpTo(n)
	lines := make([]string, 0, n+1)
	for i := range n {
		if !q.Peer.IsValid() || !e.w.matches(i, k) {
			lines = append(lines, texts[i]+": no match")
			continue
		}
		return d, append(lines, texts[i]+": "+e.entries[i].Action.String())
	}
	return d, append(lines, "DEFAULT: no policy matches: DROP")
}

// textsUpTo returns the texts of at least the first n entries, describing
// those no Trace has needed yet.
func (e *Effective) textsUpTo(n int) []string {
	if t := e.texts.Load(); t != nil && len(*t) >= n {
		return *t
	}
	e.textMu.Lock()
	defer e.textMu.Unlock()
	var have []string
	if t := e.texts.Load(); t != nil {
		if len(*t) >= n {
			return *t
		}
		have = *t
	}
	texts := make([]string, n)
	copy(texts, have)
	for i := len(have); i < n; i++ {
		texts[i] = e.entries[i].Describe()
	}
	e.texts.Store(&texts)
	return texts
}

// Len returns the number of entries of the effective list.
func (e *Effective) Len() int { return len(e.entries) }

// Entry returns entry i of the list, as a Decision's Entry names it.
func (e *Effective) Entry(i int) *rules.Entry { return &e.entries[i] }

// Origin returns the origin of the entry that made decision d:
// rules.DefaultOrigin for the implicit final DROP.
func (e *Effective) Origin(d Decision) rules.Origin {
	if d.Entry < 0 || d.Entry >= len(e.entries) {
		return rules.DefaultOrigin(e.dir)
	}
	return e.entries[d.Entry].Origin
}
