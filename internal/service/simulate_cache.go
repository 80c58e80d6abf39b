package service

import (
	"slices"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/store"
)

// simEntry is an instance's compiled effective lists in both directions and
// what they were compiled from.
type simEntry struct {
	revision        int64        // the store revision the lists were last found valid at
	expires         time.Time    // the earliest expiry of a policy in the lists; zero: none
	deps            resolve.Deps // what the lists were resolved from
	ingress, egress *eval.Effective
}

// affects reports whether the feed entry c may change the lists d
// describes: the platform addresses, their account's own row, their
// instance, a bound or referenced group, the members of a referenced group,
// a template used.
func affects(c *store.Change, d *resolve.Deps) bool {
	if c.Platform {
		return true
	}
	if c.AccountRow && (c.AccountID == d.Account || slices.Contains(c.Accounts, d.Account)) {
		return true
	}
	if slices.Contains(c.Instances, d.Instance) {
		return true
	}
	for _, g := range c.Groups {
		if slices.Contains(d.Groups, g) || slices.Contains(d.Refs, g) {
			return true
		}
	}
	for _, g := range c.Members {
		if slices.Contains(d.Refs, g) {
			return true
		}
	}
	for _, t := range c.Templates {
		if _, ok := slices.BinarySearch(d.Templates, t); ok {
			return true
		}
	}
	return false
}

// simPrefixes bounds the literal prefixes whose address sets resolutions
// share.
const simPrefixes = 65_536

// Bounds of the simulation cache.
const (
	simEntries = 100_000 // compiled instances kept
	// simChanges is the most feed revisions one validation reads: an entry
	// last validated more revisions ago (of any account) is compiled
	// again. Reading an entry of the account costs a few microseconds, a
	// compilation a few hundred: past this many, reading the feed could
	// cost as much as compiling again.
	simChanges = 128
)

// simCache keeps each instance's compiled effective lists with the store
// revision they were last found valid at.
//
// An entry valid at revision v serves a simulation whose view transaction
// is at revision R when the store's change feed, read in that same
// transaction, holds no entry in (v, R] of the account (or platform-wide)
// that affects it; the entry is then valid at R. A feed compacted past v,
// or an affecting change, means the lists are resolved and compiled again.
// The feed is written by the store for every write, through any Service on
// the same database, so replicas stay correct.
type simCache struct {
	mu      sync.RWMutex
	entries map[string]*simEntry // by instance
	tail    feedTail
}

func newSimCache() *simCache {
	return &simCache{entries: map[string]*simEntry{}}
}

// get returns the entry of an instance for account and region, or nil.
func (c *simCache) get(id, account, region string) *simEntry {
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	if e == nil || e.deps.Account != account || e.deps.Region != region {
		return nil
	}
	return e
}

// valid returns e as valid at head when none of changes, the feed entries
// of e's account or platform-wide after e's revision up to head, affects
// e, and nil otherwise.
func (c *simCache) valid(e *simEntry, head int64, changes []store.Change) *simEntry {
	for i := range changes {
		if affects(&changes[i], &e.deps) {
			return nil
		}
	}
	if e.revision == head {
		return e
	}
	p := *e
	p.revision = head
	c.put(&p)
	return &p
}

// put stores e unless a newer entry of its instance is there.
func (c *simCache) put(e *simEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[e.deps.Instance]; old != nil && old.revision > e.revision {
		return
	}
	if len(c.entries) >= simEntries {
		clear(c.entries)
	}
	c.entries[e.deps.Instance] = e
}
