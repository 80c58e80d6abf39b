package service

import (
	"context"
	"slices"
	"sync"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/store"
)

// simEntry is an instance's compiled effective lists in both directions and
// what they were compiled from.
type simEntry struct {
	revision        int64 // the account's revision the lists are valid at
	deps            simDeps
	ingress, egress *eval.Effective
}

// simDeps names what an instance's effective lists depend on, besides the
// platform addresses.
type simDeps struct {
	account, region, instance string
	groups                    []string // bound, in order
	refs                      []string // groups their policies reference
	members                   []string // instances bound to refs when compiled, sorted
	templates                 []string // templates and template groups used, members included, sorted
}

// change is what one committed write changed that effective lists depend
// on.
type change struct {
	accounts  []string // account rows written (the port 25 block): every list of the account
	groups    []string // groups created, written or deleted
	instances []instanceChange
	templates []string // templates created, written or deleted
}

// instanceChange is an instance created or written, with its bindings after
// the write.
type instanceChange struct {
	id     string
	groups []string
}

// affects reports whether c may change the lists d describes: a change to
// their account, instance, a bound or referenced group, a template used, an
// instance that was bound to a referenced group or now is.
func (c *change) affects(d *simDeps) bool {
	if slices.Contains(c.accounts, d.account) {
		return true
	}
	for _, g := range c.groups {
		if slices.Contains(d.groups, g) || slices.Contains(d.refs, g) {
			return true
		}
	}
	for _, in := range c.instances {
		if in.id == d.instance {
			return true
		}
		if _, ok := slices.BinarySearch(d.members, in.id); ok {
			return true
		}
		for _, g := range in.groups {
			if slices.Contains(d.refs, g) {
				return true
			}
		}
	}
	for _, t := range c.templates {
		if _, ok := slices.BinarySearch(d.templates, t); ok {
			return true
		}
	}
	return false
}

// Bounds of the simulation cache.
const (
	simEntries     = 100_000 // compiled instances kept
	simLogAccounts = 10_000  // accounts with a change log
	simLogLen      = 4_096   // revisions remembered per account
)

// simCache keeps each instance's compiled effective lists, valid at one
// revision of its account, and a log of what this Service's own writes
// changed, by account revision.
//
// An entry compiled at revision r serves a simulation at revision R > r
// when every revision in (r, R] is in the log and changed nothing the
// entry depends on; otherwise the lists are resolved and compiled again. A
// write through another Service on the same store (another replica), or
// one that changes the platform addresses, bumps revisions this log does
// not hold, so the entries of its accounts are compiled again: reading the
// account's revision in the simulation's own transaction is what keeps
// replicas correct, and the log only spares work.
type simCache struct {
	mu      sync.RWMutex
	entries map[string]*simEntry // by instance
	log     map[string]*changeLog
}

// changeLog maps an account's revisions to the writes that produced them.
type changeLog struct {
	byRevision map[int64]*change
	order      []int64 // oldest first
}

func newSimCache() *simCache {
	return &simCache{entries: map[string]*simEntry{}, log: map[string]*changeLog{}}
}

// lookup returns the entry of an instance valid at revision rev of its
// account, promoting an older entry the log proves unaffected, or nil.
func (c *simCache) lookup(id, account, region string, rev int64) *simEntry {
	c.mu.RLock()
	e := c.entries[id]
	ok := e != nil && e.deps.account == account && e.deps.region == region && e.revision <= rev
	if ok && e.revision < rev {
		ok = c.unaffected(e, rev)
	}
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	if e.revision < rev {
		p := *e
		p.revision = rev
		c.put(&p)
		return &p
	}
	return e
}

// unaffected reports whether the log holds every revision after e's up to
// rev, none of them changing what e depends on. c.mu is held.
func (c *simCache) unaffected(e *simEntry, rev int64) bool {
	l := c.log[e.deps.account]
	if l == nil || rev-e.revision > simLogLen {
		return false
	}
	for r := e.revision + 1; r <= rev; r++ {
		ch := l.byRevision[r]
		if ch == nil || ch.affects(&e.deps) {
			return false
		}
	}
	return true
}

// put stores e unless a newer entry of its instance is there.
func (c *simCache) put(e *simEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[e.deps.instance]; old != nil && old.revision > e.revision {
		return
	}
	if len(c.entries) >= simEntries {
		clear(c.entries)
	}
	c.entries[e.deps.instance] = e
}

// record logs a committed write's change under the revisions it produced.
func (c *simCache) record(ch *change, revs []accountRevision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ar := range revs {
		l := c.log[ar.account]
		if l == nil {
			if len(c.log) >= simLogAccounts {
				clear(c.log)
			}
			l = &changeLog{byRevision: map[int64]*change{}}
			c.log[ar.account] = l
		}
		if _, ok := l.byRevision[ar.revision]; !ok {
			l.order = append(l.order, ar.revision)
		}
		l.byRevision[ar.revision] = ch
		if len(l.order) > simLogLen {
			delete(l.byRevision, l.order[0])
			l.order = l.order[1:]
		}
	}
}

// update runs fn in one write transaction of st through a recorder and, once
// it has committed, logs what it changed.
func (c *simCache) update(ctx context.Context, st store.Store, fn func(store.Tx) error) error {
	var rec *recorder
	err := st.Tx(ctx, func(tx store.Tx) error {
		rec = &recorder{Tx: tx}
		return fn(rec)
	})
	if err == nil && rec != nil && !rec.unknown && len(rec.revisions) > 0 {
		c.record(&rec.change, rec.revisions)
	}
	return err
}

// accountRevision is a revision of an account.
type accountRevision struct {
	account  string
	revision int64
}

// recorder is the store.Tx of a write: it passes every call through and
// notes what the write changes that effective lists depend on, and which
// account revisions it produces — read right after its own increment, while
// the write holds the account's row, so that each is certainly its own.
type recorder struct {
	store.Tx
	change    change
	revisions []accountRevision
	// unknown marks a write whose revisions must not be logged: it changed
	// the platform addresses, or a revision could not be read.
	unknown bool
}

func (r *recorder) noteRevision(ctx context.Context, accountID string) {
	a, err := r.Tx.GetAccount(ctx, accountID)
	if err != nil {
		r.unknown = true
		return
	}
	r.revisions = append(r.revisions, accountRevision{accountID, a.Revision})
}

// UpdateAccount writes the account (its port 25 block), which changes
// every list of the account and bumps its revision.
func (r *recorder) UpdateAccount(ctx context.Context, a store.Account) error {
	if err := r.Tx.UpdateAccount(ctx, a); err != nil {
		return err
	}
	r.change.accounts = appendNew(r.change.accounts, a.ID)
	r.noteRevision(ctx, a.ID)
	return nil
}

func (r *recorder) BumpRevision(ctx context.Context, accountID string) error {
	if err := r.Tx.BumpRevision(ctx, accountID); err != nil {
		return err
	}
	r.noteRevision(ctx, accountID)
	return nil
}

func (r *recorder) AddPlatformAddress(ctx context.Context, prefix string) error {
	r.unknown = true
	return r.Tx.AddPlatformAddress(ctx, prefix)
}

func (r *recorder) DeletePlatformAddress(ctx context.Context, prefix string) error {
	r.unknown = true
	return r.Tx.DeletePlatformAddress(ctx, prefix)
}

func (r *recorder) CreateGroup(ctx context.Context, g store.Group) error {
	r.change.groups = appendNew(r.change.groups, g.ID)
	return r.Tx.CreateGroup(ctx, g)
}

func (r *recorder) UpdateGroup(ctx context.Context, g store.Group, prevVersion uint64) error {
	r.change.groups = appendNew(r.change.groups, g.ID)
	return r.Tx.UpdateGroup(ctx, g, prevVersion)
}

func (r *recorder) DeleteGroup(ctx context.Context, id string) error {
	r.change.groups = appendNew(r.change.groups, id)
	return r.Tx.DeleteGroup(ctx, id)
}

func (r *recorder) CreateInstance(ctx context.Context, in store.Instance) error {
	r.change.instances = append(r.change.instances, instanceChange{in.ID, slices.Clone(in.GroupIDs)})
	return r.Tx.CreateInstance(ctx, in)
}

func (r *recorder) UpdateInstance(ctx context.Context, in store.Instance) error {
	r.change.instances = append(r.change.instances, instanceChange{in.ID, slices.Clone(in.GroupIDs)})
	return r.Tx.UpdateInstance(ctx, in)
}

func (r *recorder) CreateTemplate(ctx context.Context, t store.Template) error {
	r.change.templates = appendNew(r.change.templates, t.ID)
	return r.Tx.CreateTemplate(ctx, t)
}

func (r *recorder) UpdateTemplate(ctx context.Context, t store.Template) error {
	r.change.templates = appendNew(r.change.templates, t.ID)
	return r.Tx.UpdateTemplate(ctx, t)
}

func (r *recorder) DeleteTemplate(ctx context.Context, id string) error {
	r.change.templates = appendNew(r.change.templates, id)
	return r.Tx.DeleteTemplate(ctx, id)
}
