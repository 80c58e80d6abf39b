// Package resolve builds an instance's effective rule lists (rules.List,
// one per direction) from what is stored: its bound groups' policies, the
// members of the groups they reference, the templates they use, the
// platform addresses and the account's port 25 block. It reads through a
// narrow Reader (store.Tx satisfies it) in a fixed number of reads, and
// fails closed: a stored value that does not parse, a reference that does
// not resolve or an invalid policy refuses both lists with an *Error naming
// every problem, so that nothing is decided from data that cannot be read.
package resolve

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
)

// Reader is what resolution reads. Each method is one read.
type Reader interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	GetInstancePolicies(ctx context.Context, id string) (store.Instance, []store.GroupPolicies, error)
	ResolveMembers(ctx context.Context, groupIDs []string) (existing []string, members []store.Member, err error)
	ResolveTemplates(ctx context.Context, ids []string) ([]store.Template, error)
	ListPlatformAddresses(ctx context.Context) ([]string, error)
}

// terminated is the stored state of an instance whose bindings are
// released: its addresses belong to no group.
const terminated = "TERMINATED"

// Lists are an instance's effective rule lists and what they depend on.
// Expires, when not zero, is the earliest expiry of the policies in them:
// from then on the lists are stale whatever the store says.
type Lists struct {
	Ingress, Egress rules.List
	Deps            Deps
	Expires         time.Time
}

// List returns the list of direction d.
func (l *Lists) List(d policy.Direction) *rules.List {
	if d == policy.Egress {
		return &l.Egress
	}
	return &l.Ingress
}

// Deps names what an instance's lists were resolved from, besides the
// platform addresses: a change to any of them may change the lists.
type Deps struct {
	Account, Region, Instance string
	Groups                    []string // bound, in binding order
	Refs                      []string // groups their policies reference, in first-use order
	Members                   []string // instances bound to Refs when resolved, sorted
	Templates                 []string // templates and template groups used, members included, sorted
}

// Instance reads instance id and its account, then resolves its lists
// (see Build).
func Instance(ctx context.Context, r Reader, id string, now time.Time) (*Lists, error) {
	ins, groups, err := r.GetInstancePolicies(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", id, err)
	}
	a, err := r.GetAccount(ctx, ins.AccountID)
	if err != nil {
		return nil, fmt.Errorf("account %s of instance %s: %w", ins.AccountID, id, err)
	}
	return Build(ctx, r, a, ins, groups, now)
}

// Build resolves the lists of instance ins of account a, bound to groups
// (in binding order, as GetInstancePolicies returns them), reading the
// stored platform addresses, the members of referenced groups and the
// templates used — at most three reads. Only the policies active at now are
// in the lists (see policy.Policy.Active): a disabled or expired policy is
// passed over, its index kept by the policies after it.
//
// A referenced security group, template or template group that does not
// exist, a template group member that is missing or of the wrong kind, an
// entry or member address that does not parse and an invalid stored policy
// are problems: Build then returns an *Error listing every one. (The store
// refuses deleting a group that a policy references, so only a corrupt
// store holds a reference to a missing group; it must not resolve to no
// address, which would open a DROP naming it.)
func Build(ctx context.Context, r Reader, a store.Account, ins store.Instance, groups []store.GroupPolicies, now time.Time) (*Lists, error) {
	return BuildWith(ctx, r, a, ins, groups, now, nil)
}

// BuildWith is Build sharing the address sets of literal prefixes with the
// other resolutions through prefixes (nil: none shared).
func BuildWith(ctx context.Context, r Reader, a store.Account, ins store.Instance, groups []store.GroupPolicies, now time.Time, prefixes *Prefixes) (*Lists, error) {
	stored, err := r.ListPlatformAddresses(ctx)
	if err != nil {
		return nil, fmt.Errorf("platform addresses: %w", err)
	}
	return BuildWithPlatform(ctx, r, a, ins, groups, stored, now, prefixes)
}

// BuildWithPlatform is BuildWith given the stored platform addresses, as
// ListPlatformAddresses (or store.Tx's ResolveAccount) reads them, rather
// than reading them: at most two reads.
func BuildWithPlatform(ctx context.Context, r Reader, a store.Account, ins store.Instance, groups []store.GroupPolicies, platform []string, now time.Time, prefixes *Prefixes) (*Lists, error) {
	b := builder{
		prefixes: prefixes,
		out:      &Lists{Deps: Deps{Account: a.ID, Region: ins.Region, Instance: ins.ID, Groups: slices.Clone(ins.GroupIDs)}},
		err:      &Error{InstanceID: ins.ID},
	}
	plat := b.platform(platform)
	var sgRefs, addrRefs, svcRefs []string
	for _, g := range groups {
		for _, ps := range [][]policy.Policy{g.Policies.Ingress, g.Policies.Egress} {
			for _, p := range ps {
				if !p.Active(now) {
					continue
				}
				if !p.ExpiresAt.IsZero() && (b.out.Expires.IsZero() || p.ExpiresAt.Before(b.out.Expires)) {
					b.out.Expires = p.ExpiresAt
				}
				switch {
				case p.Peer.Kind == policy.PeerSecurityGroup:
					sgRefs = appendNew(sgRefs, p.Peer.ID)
				case p.Peer.IsReference():
					addrRefs = appendNew(addrRefs, p.Peer.ID)
				}
				if p.ServiceID != "" {
					svcRefs = appendNew(svcRefs, p.ServiceID)
				}
			}
		}
	}
	if err := b.members(ctx, r, sgRefs); err != nil {
		return nil, err
	}
	if err := b.templates(ctx, r, addrRefs, svcRefs); err != nil {
		return nil, err
	}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		l := b.out.List(d)
		l.Direction = d
		entries, err := rules.Platform(d, !a.Port25Unblocked, plat)
		if err != nil && d == policy.Ingress { // the same for both directions
			b.problem(Problem{PolicyIndex: -1, Reason: err.Error()})
		}
		n := len(entries)
		for _, g := range groups {
			n += len(g.Policies.List(d))
		}
		l.Entries = slices.Grow(entries, n-len(entries))
		for _, g := range groups {
			ps := g.Policies.List(d)
			if seg, ok := b.prefixes.segment(g.ID, d, ps); ok {
				// The kept entries, those of policies naming a reference
				// or a service template built again in their place.
				from := len(l.Entries)
				l.Entries = append(l.Entries, seg.entries...)
				for _, k := range seg.dynamic {
					i := seg.entries[k].Origin.PolicyIndex
					if e, ok := b.entry(d, g.ID, i, &ps[i]); ok {
						l.Entries[from+k] = e
					}
				}
				continue
			}
			from, problems := len(l.Entries), len(b.err.Problems)
			static := true // which policies are active does not change with time
			var dynamic []int
			for i := range ps {
				p := &ps[i]
				static = static && p.ExpiresAt.IsZero()
				if !p.Active(now) {
					continue
				}
				if e, ok := b.entry(d, g.ID, i, p); ok {
					if p.Peer.IsReference() || p.ServiceID != "" {
						dynamic = append(dynamic, len(l.Entries)-from)
					}
					l.Entries = append(l.Entries, e)
				}
			}
			if static && len(b.err.Problems) == problems {
				b.prefixes.putSegment(g.ID, d, ps, l.Entries[from:], dynamic)
			}
		}
	}
	if len(b.err.Problems) > 0 {
		return nil, b.err
	}
	return b.out, nil
}

// resolved is a reference's addresses, or why it has none.
type resolved struct {
	addrs  rules.Addresses
	issues []issue
}

// services is a service template's expansion, or why it has none.
type services struct {
	list   []rules.Service
	issues []issue
}

// issue is a problem of a referenced resource, reported for every policy
// that refers to it.
type issue struct{ value, reason string }

type builder struct {
	out  *Lists
	err  *Error
	addr map[string]resolved // by referenced group or address template id
	svc  map[string]services // by service template id
	cidr map[netip.Prefix]rules.Addresses
	// prefixes, if set, shares literal prefixes' sets across resolutions.
	prefixes *Prefixes
}

// Prefixes keeps the address sets of literal prefixes (rules.PrefixAddresses)
// for every resolution that shares it: a set is immutable, and the same
// prefixes recur in every list of a fleet. It holds at most a bound of sets,
// dropping them all when full. It is safe for concurrent use.
//
// It also keeps, for the same bound of groups, the entries of a group's
// direction whose policies have no expiry: those of policies with literal
// peers and services depend on nothing but the policies, which the store
// hands out decoded once per version and never changes, so the same
// policies (the same slice) give the same entries; those of policies naming
// a reference or a service template are built again at every use, in
// their place.
type Prefixes struct {
	mu       sync.Mutex
	sets     map[prefixKey]rules.Addresses
	segments map[segmentKey]segment
	max      int
}

// segment is the entries kept for a group's direction, and which of them
// are built again at every use.
type segment struct {
	group   string
	entries []rules.Entry
	dynamic []int // indexes in entries
}

// segmentKey is a group's direction as decoded policies: the slice itself
// (a pointer hashes faster than the group's id, which the segment holds).
type segmentKey struct {
	first *policy.Policy
	n     int
	dir   policy.Direction
}

func segmentOf(d policy.Direction, ps []policy.Policy) (segmentKey, bool) {
	if len(ps) == 0 {
		return segmentKey{}, false
	}
	return segmentKey{first: &ps[0], n: len(ps), dir: d}, true
}

// segment returns the entries kept for the policies ps of a group's
// direction d; c may be nil.
func (c *Prefixes) segment(group string, d policy.Direction, ps []policy.Policy) (segment, bool) {
	k, ok := segmentOf(d, ps)
	if c == nil || !ok {
		return segment{}, false
	}
	c.mu.Lock()
	seg, ok := c.segments[k]
	c.mu.Unlock()
	return seg, ok && seg.group == group
}

// putSegment keeps a copy of the entries built from ps, those at the
// indexes dynamic to be built again at every use; c may be nil.
func (c *Prefixes) putSegment(group string, d policy.Direction, ps []policy.Policy, entries []rules.Entry, dynamic []int) {
	k, ok := segmentOf(d, ps)
	if c == nil || !ok {
		return
	}
	seg := segment{group: group, entries: slices.Clone(entries), dynamic: dynamic}
	c.mu.Lock()
	if len(c.segments) >= c.max {
		clear(c.segments)
	}
	c.segments[k] = seg
	c.mu.Unlock()
}

// prefixKey is a prefix as plain bytes, which a map hashes and compares
// faster than a netip.Prefix.
type prefixKey struct {
	addr [16]byte
	bits int16
	is4  bool
}

func keyOf(p netip.Prefix) prefixKey {
	return prefixKey{addr: p.Addr().As16(), bits: int16(p.Bits()), is4: p.Addr().Is4()}
}

// NewPrefixes returns a cache of at most max sets.
func NewPrefixes(max int) *Prefixes {
	return &Prefixes{sets: make(map[prefixKey]rules.Addresses), segments: make(map[segmentKey]segment), max: max}
}

// get returns the set of p, built once.
func (c *Prefixes) get(p netip.Prefix) (rules.Addresses, error) {
	k := keyOf(p)
	c.mu.Lock()
	a, ok := c.sets[k]
	c.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := rules.PrefixAddresses(p)
	if err != nil {
		return a, err
	}
	c.mu.Lock()
	if len(c.sets) >= c.max {
		clear(c.sets)
	}
	c.sets[k] = a
	c.mu.Unlock()
	return a, nil
}

func (b *builder) problem(p Problem) { b.err.Problems = append(b.err.Problems, p) }

// entry returns the entry of policy i of group gid in a list of direction
// d, or reports why it cannot.
func (b *builder) entry(d policy.Direction, gid string, i int, p *policy.Policy) (rules.Entry, bool) {
	at := func(value, reason string) {
		b.problem(Problem{GroupID: gid, Direction: d, PolicyIndex: i, Value: value, Reason: reason})
	}
	bad := false
	var addrs rules.Addresses
	switch {
	case p.Peer.Kind == policy.PeerCIDR || p.Peer.Kind == policy.PeerCIDR6:
		// One set per prefix, shared by the entries naming it.
		if b.prefixes != nil {
			if a, err := b.prefixes.get(p.Peer.Prefix); err == nil {
				addrs = a
			}
		} else if a, ok := b.cidr[p.Peer.Prefix]; ok {
			addrs = a
		} else if a, err := rules.PrefixAddresses(p.Peer.Prefix); err == nil {
			if b.cidr == nil {
				b.cidr = map[netip.Prefix]rules.Addresses{}
			}
			b.cidr[p.Peer.Prefix], addrs = a, a
		}
	case p.Peer.IsReference():
		r := b.addr[p.Peer.ID]
		for _, is := range r.issues {
			at(is.value, is.reason)
		}
		bad = len(r.issues) > 0
		addrs = r.addrs
	}
	var svcs []rules.Service
	if p.ServiceID != "" {
		s := b.svc[p.ServiceID]
		for _, is := range s.issues {
			at(is.value, is.reason)
		}
		bad = bad || len(s.issues) > 0
		svcs = s.list
	}
	if bad {
		return rules.Entry{}, false
	}
	e, err := rules.PolicyEntry(d, gid, i, p, svcs, addrs)
	if err != nil {
		at(p.String(), err.Error())
		return rules.Entry{}, false
	}
	return e, true
}

// platform parses the stored platform addresses.
func (b *builder) platform(stored []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(stored))
	for _, s := range stored {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			b.problem(Problem{PolicyIndex: -1, Value: s, Reason: "stored platform address does not parse"})
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// members resolves referenced groups to the private addresses of the
// instances bound to them, except terminated ones, in one read, and records
// the instances read.
func (b *builder) members(ctx context.Context, r Reader, refs []string) error {
	deps := &b.out.Deps
	deps.Refs = slices.Clone(refs)
	if len(refs) == 0 {
		return nil
	}
	existing, list, err := r.ResolveMembers(ctx, refs)
	if err != nil {
		return fmt.Errorf("members of %s: %w", strings.Join(refs, ", "), err)
	}
	if b.addr == nil {
		b.addr = make(map[string]resolved, len(refs))
	}
	sets := make(map[string]*netipx.IPSetBuilder, len(refs))
	issues := map[string][]issue{}
	for _, id := range refs {
		sets[id] = new(netipx.IPSetBuilder)
		if !slices.Contains(existing, id) {
			issues[id] = append(issues[id], issue{id, "referenced security group does not exist"})
		}
	}
	for _, m := range list {
		deps.Members = append(deps.Members, m.InstanceID)
		if m.State == terminated {
			continue
		}
		sb := sets[m.GroupID]
		if sb == nil {
			continue
		}
		for _, ips := range [][]string{m.PrivateIPs, m.IPv6s} {
			for _, s := range ips {
				a, err := netip.ParseAddr(s)
				if err != nil || a.Zone() != "" {
					issues[m.GroupID] = append(issues[m.GroupID], issue{s, fmt.Sprintf("address of instance %s, a member of %s, does not parse", m.InstanceID, m.GroupID)})
					continue
				}
				sb.Add(a.Unmap())
			}
		}
	}
	slices.Sort(deps.Members)
	deps.Members = slices.Compact(deps.Members)
	for _, id := range refs {
		addrs, err := rules.Split(rules.Source{Kind: rules.SourceSecurityGroup, ID: id}, sets[id])
		if err != nil {
			issues[id] = append(issues[id], issue{id, err.Error()})
		}
		b.addr[id] = resolved{addrs: addrs, issues: issues[id]}
	}
	return nil
}

// templates resolves address and service templates and template groups in
// one read, and records every template used, members of template groups
// included.
func (b *builder) templates(ctx context.Context, r Reader, addrRefs, svcRefs []string) error {
	if len(addrRefs)+len(svcRefs) == 0 {
		return nil
	}
	ids := slices.Concat(addrRefs, svcRefs)
	list, err := r.ResolveTemplates(ctx, ids)
	if err != nil {
		return fmt.Errorf("templates %s: %w", strings.Join(ids, ", "), err)
	}
	if b.addr == nil {
		b.addr = make(map[string]resolved, len(addrRefs))
	}
	if b.svc == nil {
		b.svc = make(map[string]services, len(svcRefs))
	}
	byID := make(map[string]*store.Template, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	deps := &b.out.Deps
	for _, id := range addrRefs {
		var sb netipx.IPSetBuilder
		entries, issues := expand(byID, id, store.KindAddressGroup, store.KindAddress, &deps.Templates)
		for _, e := range entries {
			rg, err := policy.ParseAddressEntry(e.value)
			if err != nil {
				issues = append(issues, issue{e.value, fmt.Sprintf("entry of address template %s does not parse", e.template)})
				continue
			}
			sb.AddRange(rg)
		}
		kind := rules.SourceAddressTemplate
		if strings.HasPrefix(id, policy.PrefixAddressTemplateGroup) {
			kind = rules.SourceAddressTemplateGroup
		}
		addrs, err := rules.Split(rules.Source{Kind: kind, ID: id}, &sb)
		if err != nil {
			issues = append(issues, issue{id, err.Error()})
		}
		b.addr[id] = resolved{addrs: addrs, issues: issues}
	}
	for _, id := range svcRefs {
		svcs, issues := expandServices(byID, id, &deps.Templates)
		b.svc[id] = services{list: svcs, issues: issues}
	}
	slices.Sort(deps.Templates)
	deps.Templates = slices.Compact(deps.Templates)
	return nil
}

// expandServices returns the services of service template (or template
// group) id, and the issues met.
func expandServices(byID map[string]*store.Template, id string, used *[]string) ([]rules.Service, []issue) {
	entries, issues := expand(byID, id, store.KindServiceGroup, store.KindService, used)
	svcs := make([]rules.Service, 0, len(entries))
	for _, e := range entries {
		se, err := policy.ParseServiceEntry(e.value)
		if err != nil {
			issues = append(issues, issue{e.value, fmt.Sprintf("entry of service template %s does not parse", e.template)})
			continue
		}
		svcs = append(svcs, rules.Service{Protocol: se.Protocol, Ports: se.Ports})
	}
	return svcs, issues
}

// TemplateReader reads templates: store.Tx satisfies it.
type TemplateReader interface {
	ResolveTemplates(ctx context.Context, ids []string) ([]store.Template, error)
}

// ServiceTemplates reads the service templates and template groups ids, in
// one read, and expands each to its services, as Build does for the
// policies that use them. A template that does not exist, a member of the
// wrong kind or an entry that does not parse is a Problem (GroupID empty,
// PolicyIndex −1): the services of a template with problems must not be
// used.
func ServiceTemplates(ctx context.Context, r TemplateReader, ids []string) (map[string][]rules.Service, []Problem, error) {
	out := make(map[string][]rules.Service, len(ids))
	if len(ids) == 0 {
		return out, nil, nil
	}
	list, err := r.ResolveTemplates(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("templates %s: %w", strings.Join(ids, ", "), err)
	}
	byID := make(map[string]*store.Template, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	var problems []Problem
	var used []string
	for _, id := range ids {
		svcs, issues := expandServices(byID, id, &used)
		for _, is := range issues {
			problems = append(problems, Problem{PolicyIndex: -1, Value: is.value, Reason: is.reason + " (service template " + id + ")"})
		}
		out[id] = svcs
	}
	return out, problems, nil
}

// entryOf is a template entry and the template it is in.
type entryOf struct{ template, value string }

// expand returns the entries of template id, or of every member of it if
// it is a template group (of kind groupKind, whose members are of kind
// memberKind), noting every template used in used. A template that does not
// exist, or is not of the kind its id says, is an issue.
func expand(byID map[string]*store.Template, id string, groupKind, memberKind store.TemplateKind, used *[]string) ([]entryOf, []issue) {
	*used = append(*used, id)
	t := byID[id]
	if t == nil {
		return nil, []issue{{id, "referenced template does not exist"}}
	}
	var out []entryOf
	var issues []issue
	if t.Kind != groupKind {
		if t.Kind != memberKind {
			return nil, []issue{{id, fmt.Sprintf("referenced template is of kind %s, want %s", t.Kind, memberKind)}}
		}
		for _, e := range t.Entries {
			out = append(out, entryOf{id, e.Value})
		}
		return out, nil
	}
	for _, m := range t.Entries {
		*used = append(*used, m.Value)
		mt := byID[m.Value]
		switch {
		case mt == nil:
			issues = append(issues, issue{m.Value, fmt.Sprintf("member of template group %s does not exist", id)})
		case mt.Kind != memberKind:
			issues = append(issues, issue{m.Value, fmt.Sprintf("member of template group %s is of kind %s, want %s", id, mt.Kind, memberKind)})
		default:
			for _, e := range mt.Entries {
				out = append(out, entryOf{mt.ID, e.Value})
			}
		}
	}
	return out, issues
}

// appendNew appends id to ids unless it is there.
func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
