package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// A host's desired state is kept per instance: a change re-resolves only
// the instances it may affect, and instances of any host bound to the same
// groups in the same order share one resolution (their lists are equal), so
// that a write reaching a thousand hosts resolves its group's lists once,
// not a thousand times. The feed entries every watch reads come from the
// service's shared tail of the feed, the store's revision from its shared
// read: a commit costs the watches it does not affect no transaction.

// hostSnapshot is a host's desired state at a revision and what each of
// its instances' lists were resolved from. A snapshot shared through the
// cache is never written.
type hostSnapshot struct {
	state HostState
	// records are the host's instances, in the order of the state.
	records []hostRecord
	index   map[string]int // record of each instance
	// expires is the earliest expiry of a policy in the lists, zero if
	// none.
	expires time.Time
	// listed is the revision from which the host has held these
	// instances, in this order.
	listed int64
}

// hostRecord is one instance of a host's snapshot.
type hostRecord struct {
	instance *hoststate.Instance // nil when its lists do not resolve
	problem  *hoststate.Problem  // why they do not
	// deps are what the lists were resolved from; of an instance whose
	// lists do not resolve, its account, region and groups only (any
	// change of its account may mend them).
	deps    resolve.Deps
	expires time.Time
	// since is the revision from which the record is the instance's: no
	// change after it up to the snapshot's revision affects the instance.
	// A record made anew takes its snapshot's revision.
	since int64
}

func (r *hostRecord) id() string { return r.deps.Instance }

// newHostSnapshot is the snapshot of host's records at revision rev, which
// it has held in this order since revision listed (0: since rev). A
// record without a since takes rev.
func newHostSnapshot(host string, rev int64, records []hostRecord, listed int64) *hostSnapshot {
	if listed == 0 {
		listed = rev
	}
	h := &hostSnapshot{state: HostState{Revision: rev, HostID: host}, records: records, index: make(map[string]int, len(records)), listed: listed}
	for i := range records {
		r := &records[i]
		if r.since == 0 {
			r.since = rev
		}
		h.index[r.id()] = i
		if r.instance == nil {
			h.state.Unresolvable = append(h.state.Unresolvable, *r.problem)
			continue
		}
		h.state.Instances = append(h.state.Instances, *r.instance)
		if !r.expires.IsZero() && (h.expires.IsZero() || r.expires.Before(h.expires)) {
			h.expires = r.expires
		}
	}
	h.state.Expires = h.expires
	return h
}

// changedSince returns h's state as the change from prev, a snapshot of
// the same host: the instances whose records are not prev's (a record
// kept is shared, not copied), and the instances of prev no longer in h.
func (h *hostSnapshot) changedSince(prev *hostSnapshot) (HostState, []string) {
	st := HostState{Revision: h.state.Revision, HostID: h.state.HostID, Expires: h.expires}
	for i := range h.records {
		r := &h.records[i]
		if j, ok := prev.index[r.id()]; ok && prev.records[j].instance == r.instance && prev.records[j].problem == r.problem {
			continue
		}
		if r.instance == nil {
			st.Unresolvable = append(st.Unresolvable, *r.problem)
		} else {
			st.Instances = append(st.Instances, *r.instance)
		}
	}
	var removed []string
	for i := range prev.records {
		if _, ok := h.index[prev.records[i].id()]; !ok {
			removed = append(removed, prev.records[i].id())
		}
	}
	return st, removed
}

// changedAfter returns h's state as the change from its state at revision
// rev, which must be at least h.listed: the instances whose records were
// made after rev.
func (h *hostSnapshot) changedAfter(rev int64) HostState {
	st := HostState{Revision: h.state.Revision, HostID: h.state.HostID, Expires: h.expires}
	for i := range h.records {
		r := &h.records[i]
		switch {
		case r.since <= rev:
		case r.instance == nil:
			st.Unresolvable = append(st.Unresolvable, *r.problem)
		default:
			st.Instances = append(st.Instances, *r.instance)
		}
	}
	return st
}

// lists reports whether h's instances are ids, in this order.
func (h *hostSnapshot) lists(ids []string) bool {
	if len(ids) != len(h.records) {
		return false
	}
	for i, id := range ids {
		if h.records[i].id() != id {
			return false
		}
	}
	return true
}

// at returns h valid at revision rev too.
func (h *hostSnapshot) at(rev int64) *hostSnapshot {
	c := *h
	c.state.Revision = rev
	return &c
}

// hostDelta is what a run of feed entries means for a snapshot: relist,
// the host's instances are to be listed again (the host, an instance of
// it or one placed on it since was written); redo, the instances whose
// lists are to be resolved again.
type hostDelta struct {
	relist bool
	redo   map[string]bool
}

func (d hostDelta) empty() bool { return !d.relist && len(d.redo) == 0 }

// delta returns what changes mean for the snapshot; placed returns the
// host of each instance given that it knows (see placements.hosts).
func (h *hostSnapshot) delta(changes []store.Change, placed func([]string) (map[string]string, error)) (hostDelta, error) {
	var d hostDelta
	var unknown []string
	for i := range changes {
		c := &changes[i]
		if slices.Contains(c.Hosts, h.state.HostID) {
			d.relist = true
		}
		for j := range h.records {
			r := &h.records[j]
			if affects(c, &r.deps) || r.instance == nil && (c.AccountID == r.deps.Account || slices.Contains(c.Accounts, r.deps.Account)) {
				if d.redo == nil {
					d.redo = map[string]bool{}
				}
				d.redo[r.id()] = true
			}
		}
		for _, id := range c.Instances {
			if _, ok := h.index[id]; ok {
				d.relist = true // written: perhaps terminated
			} else if !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
	}
	if d.relist || len(unknown) == 0 {
		return d, nil
	}
	hosts, err := placed(unknown)
	if err != nil {
		return hostDelta{}, err
	}
	for _, id := range unknown {
		if host, ok := hosts[id]; !ok || host == h.state.HostID {
			d.relist = true // placed on the host, or gone: it may have been
		}
	}
	return d, nil
}

// flushing returns st, the snapshot's state or part of it, with
// FlushConnections set on each instance that a change asking for it may
// affect (the lists it was resolved from, or the instance itself); the
// snapshot is not changed.
func (h *hostSnapshot) flushing(st HostState, changes []store.Change) *HostState {
	var marked []hoststate.Instance
	for i := range changes {
		c := &changes[i]
		if !c.Flush {
			continue
		}
		for j := range h.records {
			r := &h.records[j]
			if r.instance == nil || !affects(c, &r.deps) {
				continue
			}
			if marked == nil {
				marked = slices.Clone(st.Instances)
			}
			for k := range marked {
				if marked[k].ID == r.id() {
					marked[k].FlushConnections = true
				}
			}
		}
	}
	if marked != nil {
		st.Instances = marked
	}
	return &st
}

// placements caches the host of each instance, which never changes, for
// the watches of every host.
type placements struct {
	mu   sync.Mutex
	host map[string]string
}

// placementEntries bounds the instances whose hosts are kept.
const placementEntries = 100_000

// hosts returns the host of each of ids that is stored, reading in one
// transaction those it does not know; an instance not stored is absent.
func (p *placements) hosts(ctx context.Context, st store.Store, ids []string) (map[string]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string, len(ids))
	var missing []string
	for _, id := range ids {
		if h, ok := p.host[id]; ok {
			out[id] = h
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	var found map[string]string
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		found, err = placedIn(ctx, tx, missing)
		return err
	})
	if err != nil {
		return nil, err
	}
	maps.Copy(out, found)
	if p.host == nil || len(p.host)+len(missing) > placementEntries {
		p.host = map[string]string{}
	}
	for _, id := range missing {
		if h, ok := out[id]; ok {
			p.host[id] = h
		}
	}
	return out, nil
}

// sharedLists shares resolved lists between the instances bound to the
// same groups in the same order in one account and region, on any host:
// their lists are equal (only Deps.Instance differs).
type sharedLists struct {
	mu      sync.Mutex
	entries map[string]*listsEntry
}

// sharedListsEntries bounds the binding orders whose lists are kept.
const sharedListsEntries = 10_000

// listsEntry is one binding order's lists, known valid at revisions lo to
// hi; ready is closed once they are resolved (lists nil while not).
type listsEntry struct {
	ready  chan struct{}
	lists  *resolve.Lists // Deps.Instance cleared
	lo, hi int64
}

// listsKey is the binding order of an instance.
func listsKey(ins store.Instance) string {
	return ins.AccountID + "/" + ins.Region + "/" + strings.Join(ins.GroupIDs, ",")
}

// listsClaim is a claim on resolving a binding order's lists: its holder
// resolves them and calls fill, or release if it cannot.
type listsClaim struct {
	s   *sharedLists
	key string
	e   *listsEntry
}

// get returns the lists of key valid at rev, if held; between returns the
// feed entries between two revisions when they are at hand. Otherwise,
// when no one is resolving them, it returns a claim; when wait is set it
// waits for someone resolving them, else it returns neither. A holder of a
// claim must not wait for another (it could be waiting for it).
func (s *sharedLists) get(ctx context.Context, key string, rev int64, now time.Time, wait bool, between func(from, to int64) ([]store.Change, bool)) (*resolve.Lists, *listsClaim, error) {
	for {
		s.mu.Lock()
		e := s.entries[key]
		if e != nil && e.lists != nil {
			if e.valid(rev, now, between) {
				s.mu.Unlock()
				return e.lists, nil, nil
			}
			e = nil
		}
		if e == nil {
			if len(s.entries) >= sharedListsEntries {
				clear(s.entries)
			}
			e = &listsEntry{ready: make(chan struct{})}
			s.entries[key] = e
			s.mu.Unlock()
			return nil, &listsClaim{s: s, key: key, e: e}, nil
		}
		s.mu.Unlock()
		if !wait {
			return nil, nil, nil
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// valid reports whether e's lists are those at rev, widening what it is
// known valid at; s.mu is held.
func (e *listsEntry) valid(rev int64, now time.Time, between func(from, to int64) ([]store.Change, bool)) bool {
	if !e.lists.Expires.IsZero() && !now.Before(e.lists.Expires) {
		return false
	}
	from, to := rev, e.lo
	if rev > e.hi {
		from, to = e.hi, rev
	}
	if from < to {
		cs, ok := between(from, to)
		if !ok {
			return false
		}
		for i := range cs {
			if affects(&cs[i], &e.lists.Deps) {
				return false
			}
		}
	}
	e.lo, e.hi = min(e.lo, rev), max(e.hi, rev)
	return true
}

// fill shares lists, resolved at rev, and ends the claim.
func (c *listsClaim) fill(lists *resolve.Lists, rev int64) {
	shared := *lists
	shared.Deps.Instance = ""
	c.s.mu.Lock()
	c.e.lists, c.e.lo, c.e.hi = &shared, rev, rev
	c.s.mu.Unlock()
	close(c.e.ready)
	c.e = nil
}

// release ends the claim without lists, if it is not ended.
func (c *listsClaim) release() {
	if c == nil || c.e == nil {
		return
	}
	c.s.mu.Lock()
	if c.s.entries[c.key] == c.e {
		delete(c.s.entries, c.key)
	}
	c.s.mu.Unlock()
	close(c.e.ready)
	c.e = nil
}

// withLists is r, an instance whose lists resolve, with its binding
// order's lists.
func (r hostRecord) withLists(lists *resolve.Lists) hostRecord {
	return instanceRecord(*r.instance, lists)
}

// record is the snapshot record of instance ins with lists shared by
// its binding order.
func record(ins store.Instance, lists *resolve.Lists) hostRecord {
	return instanceRecord(hoststate.Instance{
		ID: ins.ID, AccountID: ins.AccountID, Interface: ins.Interface, State: string(ins.State),
		PrivateIPs: slices.Clone(ins.PrivateIPs), IPv6s: slices.Clone(ins.IPv6s),
	}, lists)
}

// instanceRecord is the record of inst with its binding order's lists.
func instanceRecord(inst hoststate.Instance, lists *resolve.Lists) hostRecord {
	inst.Ingress, inst.Egress = lists.Ingress, lists.Egress
	deps := lists.Deps
	deps.Instance = inst.ID
	return hostRecord{instance: &inst, deps: deps, expires: lists.Expires}
}

// feedChanges returns the feed entries after from up to to, from the
// shared tail of the feed, read in one transaction for every caller when
// the tail does not hold them; ok is false when there are too many or the
// feed no longer holds them (compacted reports which).
func (s *Service) feedChanges(ctx context.Context, from, to int64) (changes []store.Change, ok, compacted bool, err error) {
	if cs, ok := s.cache.tail.held(from, to); ok {
		return cs, true, false, nil
	}
	s.feedRead.Lock()
	defer s.feedRead.Unlock()
	if cs, ok := s.cache.tail.held(from, to); ok {
		return cs, true, false, nil
	}
	err = s.view(ctx, func(tx store.Tx) error {
		head, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		if head < to {
			return fmt.Errorf("feed head %d behind revision %d", head, to)
		}
		cs, k, err := s.cache.tail.entries(ctx, tx, from, head)
		changes, ok = cs[:min(len(cs), int(to-from))], k
		return err
	})
	if errors.Is(err, store.ErrCompacted) {
		return nil, false, true, nil
	}
	return changes, ok, false, err
}

// between returns the feed entries after from up to to when the shared
// tail holds them.
func (s *Service) between(from, to int64) ([]store.Change, bool) {
	return s.cache.tail.held(from, to)
}

// advanceHost returns host's state at revision to (or later) from snap,
// valid at an earlier revision, with the feed entries between them and
// whether anything of the host may have changed. The instances the entries
// do not affect are kept; those they affect take their binding order's
// shared lists when another host's watch has resolved them, and otherwise
// are resolved in one transaction.
func (s *Service) advanceHost(ctx context.Context, snap *hostSnapshot, to int64) (*hostSnapshot, []store.Change, bool, error) {
	host := snap.state.HostID
	if !snap.expires.IsZero() && !s.now().Before(snap.expires) {
		next, _, err := s.readHostView(ctx, host, nil)
		return next, nil, true, err
	}
	changes, ok, _, err := s.feedChanges(ctx, snap.state.Revision, to)
	if err != nil {
		return nil, nil, false, err
	}
	if !ok {
		next, _, err := s.readHostView(ctx, host, nil)
		return next, nil, true, err
	}
	d, err := snap.delta(changes, func(ids []string) (map[string]string, error) { return s.placed.hosts(ctx, s.st, ids) })
	if err != nil {
		return nil, nil, false, err
	}
	if d.empty() {
		next := snap.at(to)
		s.hosts.put(next)
		return next, changes, false, nil
	}
	if !d.relist {
		now := s.now()
		records := slices.Clone(snap.records)
		for i := range records {
			r := &records[i]
			if !d.redo[r.id()] {
				continue
			}
			if r.instance == nil {
				records = nil // resolved again in the transaction
				break
			}
			ins := store.Instance{ID: r.id(), AccountID: r.deps.Account, Region: r.deps.Region, GroupIDs: r.deps.Groups}
			lists, claim, err := s.lists.get(ctx, listsKey(ins), to, now, true, s.between)
			if err != nil {
				return nil, nil, false, err
			}
			if lists == nil {
				// This watch resolves them, in its transaction.
				next, more, err := s.readHostView(ctx, host, snap, claim)
				return next, more, true, err
			}
			*r = r.withLists(lists)
		}
		if records != nil {
			next := newHostSnapshot(host, to, records, snap.listed)
			s.hosts.put(next)
			return next, changes, true, nil
		}
	}
	next, more, err := s.readHostView(ctx, host, snap)
	return next, more, true, err
}

// readHostView reads host's state in a transaction of its own (see
// readHost), releasing claims it did not fill.
func (s *Service) readHostView(ctx context.Context, host string, prev *hostSnapshot, claims ...*listsClaim) (*hostSnapshot, []store.Change, error) {
	defer func() {
		for _, c := range claims {
			c.release()
		}
	}()
	var next *hostSnapshot
	var changes []store.Change
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		next, changes, err = s.readHost(ctx, tx, host, prev, claims)
		return err
	})
	return next, changes, err
}

// readHost reads and resolves the state of host in tx, at tx's revision,
// and keeps it in the cache. With prev, the host's snapshot at an earlier
// revision, it keeps the instances that the feed entries since do not
// affect, and returns those entries. claims are this caller's claims on
// shared lists, filled when it resolves their binding orders.
func (s *Service) readHost(ctx context.Context, tx store.Tx, host string, prev *hostSnapshot, claims []*listsClaim) (*hostSnapshot, []store.Change, error) {
	head, err := tx.Revision(ctx)
	if err != nil {
		return nil, nil, err
	}
	var changes []store.Change
	var d hostDelta
	if prev != nil {
		cs, ok, err := s.cache.tail.entries(ctx, tx, prev.state.Revision, head)
		switch {
		case errors.Is(err, store.ErrCompacted) || err == nil && !ok:
			prev = nil
		case err != nil:
			return nil, nil, err
		default:
			changes = cs
			d, err = prev.delta(cs, func(ids []string) (map[string]string, error) { return placedIn(ctx, tx, ids) })
			if err != nil {
				return nil, nil, err
			}
		}
	}
	if prev != nil && d.empty() {
		next := prev.at(head)
		s.hosts.put(next)
		return next, changes, nil
	}
	var ids []string
	if prev == nil || d.relist {
		if _, err := tx.GetHost(ctx, host); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil, kernel.NotFound(kernel.ResourceHost, host)
			}
			return nil, nil, err
		}
		if ids, err = tx.HostInstances(ctx, host); err != nil {
			return nil, nil, err
		}
	} else {
		for i := range prev.records {
			ids = append(ids, prev.records[i].id())
		}
	}
	now := s.now()
	accounts := map[string]store.Account{}
	records := make([]hostRecord, 0, len(ids))
	for _, id := range ids {
		if prev != nil && !d.redo[id] {
			if i, ok := prev.index[id]; ok { // written or not: affects marks it
				records = append(records, prev.records[i])
				continue
			}
		}
		r, err := s.resolveRecord(ctx, tx, id, head, now, accounts, claims)
		if err != nil {
			return nil, nil, fmt.Errorf("instance %s of host %s: %w", id, host, err)
		}
		records = append(records, r)
	}
	var listed int64
	if prev != nil && prev.lists(ids) {
		listed = prev.listed
	}
	next := newHostSnapshot(host, head, records, listed)
	s.hosts.put(next)
	return next, changes, nil
}

// placedIn returns the host of each of ids stored, read in tx.
func placedIn(ctx context.Context, tx store.Tx, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		ins, err := tx.GetInstance(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		out[id] = ins.HostID
	}
	return out, nil
}

// resolveRecord reads instance id in tx, at revision rev, and takes its
// binding order's shared lists, or resolves them (and shares them when it
// holds or gets the claim on them; a claim another caller holds is not
// waited for).
func (s *Service) resolveRecord(ctx context.Context, tx store.Tx, id string, rev int64, now time.Time, accounts map[string]store.Account, claims []*listsClaim) (hostRecord, error) {
	ins, err := tx.GetInstance(ctx, id)
	if err != nil {
		return hostRecord{}, err
	}
	key := listsKey(ins)
	var claim *listsClaim
	for _, c := range claims {
		if c != nil && c.e != nil && c.key == key {
			claim = c
		}
	}
	if claim == nil {
		lists, c, err := s.lists.get(ctx, key, rev, now, false, s.between)
		if err != nil {
			return hostRecord{}, err
		}
		if lists != nil {
			return record(ins, lists), nil
		}
		claim = c
		defer claim.release()
	}
	ins, groups, err := tx.GetInstancePolicies(ctx, id)
	if err != nil {
		return hostRecord{}, err
	}
	a, ok := accounts[ins.AccountID]
	if !ok {
		if a, err = tx.GetAccount(ctx, ins.AccountID); err != nil {
			return hostRecord{}, fmt.Errorf("account %s: %w", ins.AccountID, err)
		}
		accounts[ins.AccountID] = a
	}
	lists, err := resolve.BuildWith(ctx, tx, a, ins, groups, now, s.prefixes)
	var re *resolve.Error
	if errors.As(err, &re) {
		return hostRecord{
			problem: &hoststate.Problem{InstanceID: id, Message: re.Summary(maxProblems)},
			deps:    resolve.Deps{Account: ins.AccountID, Region: ins.Region, Instance: id, Groups: slices.Clone(ins.GroupIDs)},
		}, nil
	}
	if err != nil {
		return hostRecord{}, err
	}
	if claim != nil {
		claim.fill(lists, rev)
	}
	return record(ins, lists), nil
}

// currentHost returns host's state at the store's revision, as the
// store's shared read for its waiters last saw it (a commit it has not
// heard of yet is the next watch's).
func (s *Service) currentHost(ctx context.Context, host string) (*hostSnapshot, error) {
	head, err := s.st.Wait(ctx, -1)
	if err != nil {
		return nil, err
	}
	if c := s.hosts.get(host); c != nil && c.state.Revision <= head && (c.expires.IsZero() || s.now().Before(c.expires)) {
		next, _, _, err := s.advanceHost(ctx, c, head)
		return next, err
	}
	next, _, err := s.readHostView(ctx, host, nil)
	return next, err
}

// hostCache keeps each host's latest snapshot, with the revision it was
// last found valid at, for the watches and reads of its agent. It is safe
// for concurrent use; the snapshots in it are never written.
type hostCache struct {
	mu    sync.Mutex
	hosts map[string]*hostSnapshot
}

// hostCacheEntries bounds the hosts whose snapshots are kept.
const hostCacheEntries = 10_000

func newHostCache() *hostCache { return &hostCache{hosts: map[string]*hostSnapshot{}} }

func (c *hostCache) get(host string) *hostSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hosts[host]
}

// put keeps snap unless a snapshot of a later revision is there.
func (c *hostCache) put(snap *hostSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	host := snap.state.HostID
	if old := c.hosts[host]; old != nil && old.state.Revision > snap.state.Revision {
		return
	}
	if len(c.hosts) >= hostCacheEntries {
		clear(c.hosts)
	}
	c.hosts[host] = snap
}
