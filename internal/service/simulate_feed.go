package service

import (
	"context"
	"sync"

	"github.com/palisade-sg/palisade/internal/store"
)

// feedTail keeps the newest entries of the store's change feed, of every
// account, as read by validations of the simulation cache: a validation
// then reads only the feed's head, and the entries it does not hold yet,
// rather than every entry after the cached lists' revision. Feed entries
// never change once committed, and revisions follow each other without a
// gap, so entries read by one transaction serve every later one.
type feedTail struct {
	mu      sync.Mutex
	from    int64          // the entries held are those after from …
	changes []store.Change // … up to from+len(changes), in order
}

// tailKeep is how many entries the tail holds at most: twice the most one
// validation reads.
const tailKeep = 2 * simChanges

// since returns the entries after rev up to head (at most simChanges
// revisions after rev) of account or platform-wide, read in tx when the
// tail does not hold them. ok is false when more than simChanges revisions
// follow rev (the caller compiles again) and err is store.ErrCompacted when
// the feed no longer holds them.
func (t *feedTail) since(ctx context.Context, tx store.Tx, rev, head int64, account string) (out []store.Change, ok bool, err error) {
	all, ok, err := t.entries(ctx, tx, rev, head)
	if !ok || err != nil {
		return nil, ok, err
	}
	for _, c := range all {
		if c.AccountID == "" || c.AccountID == account {
			out = append(out, c)
		}
	}
	return out, true, nil
}

// entries returns every entry after rev up to head, tx's head (at most
// simChanges revisions after rev), read in tx when the tail does not hold
// them; ok and err as for since. The entries returned are shared: they
// are never written.
func (t *feedTail) entries(ctx context.Context, tx store.Tx, rev, head int64) (out []store.Change, ok bool, err error) {
	if head-rev > simChanges {
		return nil, false, nil
	}
	switch {
	case rev == head:
		return nil, true, nil
	case rev > head:
		return nil, false, nil // a feed behind the lists: trust neither
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if to := t.from + int64(len(t.changes)); rev > to || to < t.from {
		t.from, t.changes = rev, nil // not contiguous with what is held
	}
	if rev < t.from {
		older, err := t.read(ctx, tx, rev, t.from, head)
		if err != nil || older == nil {
			return nil, false, err
		}
		t.from, t.changes = rev, append(older, t.changes...)
	}
	if to := t.from + int64(len(t.changes)); to < head {
		newer, err := t.read(ctx, tx, to, head, head)
		if err != nil || newer == nil {
			return nil, false, err
		}
		t.changes = append(t.changes, newer...)
	}
	out = t.changes[rev-t.from : head-t.from : head-t.from]
	if n := len(t.changes); n > tailKeep {
		t.from += int64(n - tailKeep)
		t.changes = append([]store.Change(nil), t.changes[n-tailKeep:]...)
	}
	return out, true, nil
}

// held returns the entries after rev up to head when the tail holds every
// one of them, without reading the store.
func (t *feedTail) held(rev, head int64) ([]store.Change, bool) {
	if rev == head {
		return nil, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if rev < t.from || rev > head || head > t.from+int64(len(t.changes)) {
		return nil, false
	}
	return t.changes[rev-t.from : head-t.from : head-t.from], true
}

// read returns the feed entries after from up to to, read in tx, whose
// head is head; nil without an error when the feed does not hold them
// without a gap, and the tail is then emptied.
func (t *feedTail) read(ctx context.Context, tx store.Tx, from, to, head int64) ([]store.Change, error) {
	// Changes answers only head when more than its limit follow from.
	h, cs, err := tx.Changes(ctx, from, "", int(head-from))
	if err != nil {
		t.from, t.changes = 0, nil
		return nil, err
	}
	out := make([]store.Change, 0, to-from)
	for _, c := range cs {
		if c.Revision <= to {
			out = append(out, c)
		}
	}
	if h != head || int64(len(out)) != to-from || len(out) > 0 && out[0].Revision != from+1 {
		t.from, t.changes = 0, nil
		return nil, nil
	}
	return out, nil
}
