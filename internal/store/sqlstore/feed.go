package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// Retention of the change feed: the last keepRevisions entries, and none
// older than keepAge, pruned by the write whose revision is a multiple of
// pruneEvery. The newest entry is always kept.
const (
	keepRevisions = 100_000
	keepAge       = 7 * 24 * time.Hour
	pruneEvery    = 1_000
)

// waitPoll is how often Wait looks for commits made through another Store
// on the same database, unless the dialect says otherwise.
const waitPoll = 100 * time.Millisecond

// Retry of a transaction on a transient lock conflict: at most txAttempts
// runs, separated by a jittered backoff doubling from txBackoff.
const (
	txAttempts = 5
	txBackoff  = 5 * time.Millisecond
)

// touched is what a write transaction's write methods touched: the feed
// entry it commits. The lists may hold repeats until sorted.
type touched struct {
	wrote      bool
	accounts   []string
	accountRow bool
	groups     []string
	members    []string
	instances  []string
	templates  []string
	hosts      []string
	platform   bool
	flush      bool
}

func (w *touched) account(id string) {
	w.wrote = true
	if id != "" {
		w.accounts = append(w.accounts, id)
	}
}

// idList sorts ids, drops repeats and empty ids, and joins them.
func idList(ids []string) string {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 && ids[0] == "" {
		ids = ids[1:]
	}
	return joinList(ids)
}

// Flags of a feed row.
const (
	flagAccountRow = 1
	flagPlatform   = 2
	flagFlush      = 4
)

// encodeIDs and decodeIDs write and read the ids column: six sections
// separated by ';' (accounts, groups, members, instances, templates, hosts),
// each a sorted list joined by ','.
func (w *touched) encodeIDs() string {
	return strings.Join([]string{idList(w.accounts), idList(w.groups), idList(w.members), idList(w.instances), idList(w.templates), idList(w.hosts)}, ";")
}

func decodeIDs(s string, c *store.Change) error {
	parts := strings.Split(s, ";")
	if len(parts) != 6 {
		return fmt.Errorf("change %d: ids %q: want 6 sections, not %d", c.Revision, s, len(parts))
	}
	c.Accounts, c.Groups, c.Members = splitList(parts[0]), splitList(parts[1]), splitList(parts[2])
	c.Instances, c.Templates, c.Hosts = splitList(parts[3]), splitList(parts[4]), splitList(parts[5])
	return nil
}

const (
	insertChangeQuery = `INSERT INTO changes (revision, time, account_id, flags, ids) ` +
		`VALUES (COALESCE((SELECT MAX(revision) FROM changes), 0) + 1, ?, ?, ?, ?) RETURNING revision`
	pruneChangesQuery = `DELETE FROM changes WHERE revision < ? AND (revision <= ? OR time < ?)`
	revisionQuery     = `SELECT COALESCE((SELECT MAX(revision) FROM changes), 0)`

	// changesHead is, in one row even when the feed is empty, the current
	// revision and — only when some but no more than the limit follow
	// since — the first revision kept after since (each a scalar subquery seeking one
	// key), joined with the changes after since up to head when since is
	// not compacted (the first kept after it is since+1); else an empty
	// range.
	changesHead = `SELECT h.head, h.next, c.revision, c.time, c.flags, c.ids FROM (SELECT m.head, CASE WHEN m.head <= ? AND m.head > ? THEN ` +
		`(SELECT MIN(revision) FROM changes WHERE revision > ?) END AS next FROM (SELECT COALESCE((SELECT MAX(revision) FROM changes), 0) AS head) m) h ` +
		`LEFT JOIN changes c ON c.revision > ? AND c.revision <= CASE WHEN h.next = CAST(? AS BIGINT) + 1 THEN h.head ELSE ? END`
	// No ORDER BY: SQLite would sort through a temporary b-tree even though
	// it reads the range in key order; Changes sorts the few rows instead.
	changesQuery        = changesHead
	accountChangesQuery = changesHead + ` AND c.account_id IN (?, '')`
)

// writeQueries are prepared on the writer pool only.
func writeQueries() []string { return []string{insertChangeQuery} }

// commitChange inserts the feed entry of what t touched, in t, and prunes
// the feed every pruneEvery revisions. It returns the entry's revision.
func (t *tx) commitChange(ctx context.Context) (int64, error) {
	w := &t.touched
	ids := w.encodeIDs()
	accountID, _, _ := strings.Cut(ids, ";")
	if w.platform || strings.Contains(accountID, ",") {
		accountID = ""
	}
	flags := 0
	if w.accountRow {
		flags |= flagAccountRow
	}
	if w.platform {
		flags |= flagPlatform
	}
	if w.flush {
		flags |= flagFlush
	}
	now := time.Now()
	args := []any{toMicros(now), accountID, flags, ids}
	var row *sql.Row
	if s := t.db.prepared[t.pool][insertChangeQuery]; s != nil {
		row = t.q.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	} else {
		row = t.q.QueryRowContext(ctx, t.db.rebind(insertChangeQuery), args...)
	}
	var rev int64
	if err := row.Scan(&rev); err != nil {
		return 0, fmt.Errorf("record change: %w", err)
	}
	if t.db.d.OnChange != "" {
		if _, err := t.q.ExecContext(ctx, t.db.rebind(t.db.d.OnChange), strconv.FormatInt(rev, 10)); err != nil {
			return 0, fmt.Errorf("announce change %d: %w", rev, err)
		}
	}
	if rev%pruneEvery == 0 {
		if _, err := t.q.ExecContext(ctx, t.db.rebind(pruneChangesQuery), rev, rev-keepRevisions, toMicros(now.Add(-keepAge))); err != nil {
			return 0, fmt.Errorf("prune changes: %w", err)
		}
	}
	return rev, nil
}

func (t *tx) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := t.row(ctx, revisionQuery).Scan(&rev); err != nil {
		return 0, fmt.Errorf("revision: %w", err)
	}
	return rev, nil
}

func (t *tx) LastChange(ctx context.Context, id string) (int64, error) {
	// Each id of the ids column is between separators (';' between
	// sections, ',' within one): with every separator a comma, and one at
	// each end, an id is a whole ",id," of the list.
	var rev int64
	err := t.row(ctx, `SELECT COALESCE(MAX(revision), 0) FROM changes WHERE (',' || REPLACE(ids, ';', ',') || ',') LIKE ?`, "%,"+id+",%").Scan(&rev)
	if err != nil {
		return 0, fmt.Errorf("last change of %s: %w", id, err)
	}
	return rev, nil
}

func (t *tx) Changes(ctx context.Context, since int64, accountID string, limit int) (int64, []store.Change, error) {
	upto := int64(math.MaxInt64)
	if limit > 0 && since < math.MaxInt64-int64(limit) {
		upto = since + int64(limit)
	}
	s, u := any(since), any(upto) // boxed once
	q, args := changesQuery, []any{u, s, s, s, s, s}
	if accountID != "" {
		q, args = accountChangesQuery, []any{u, s, s, s, s, s, accountID}
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return 0, nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	defer rows.Close()
	var head int64
	var next sql.NullInt64
	var out []store.Change
	for rows.Next() {
		var rev, tm, flags sql.NullInt64
		var ids sql.NullString
		if err := rows.Scan(&head, &next, &rev, &tm, &flags, &ids); err != nil {
			return 0, nil, fmt.Errorf("changes since %d: %w", since, err)
		}
		if !rev.Valid {
			continue
		}
		c := store.Change{Revision: rev.Int64, Time: fromMicros(tm.Int64), AccountRow: flags.Int64&flagAccountRow != 0, Platform: flags.Int64&flagPlatform != 0, Flush: flags.Int64&flagFlush != 0}
		if err := decodeIDs(ids.String, &c); err != nil {
			return 0, nil, err
		}
		if len(c.Accounts) == 1 && !c.Platform {
			c.AccountID = c.Accounts[0]
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	// The feed is kept from some revision to head without a gap: since is
	// compacted when a change follows it but not since+1. More than the
	// limit after since: head alone.
	if since <= head && head > upto {
		return head, nil, nil
	}
	if since > head || since < head && next.Int64 != since+1 {
		return head, nil, fmt.Errorf("changes since %d (head %d, next kept %d): %w", since, head, next.Int64, store.ErrCompacted)
	}
	slices.SortFunc(out, func(a, b store.Change) int { return cmp.Compare(a.Revision, b.Revision) })
	return head, out, nil
}

// waiters returns the channel closed at the next commit of a change, and
// the number of wake-ups so far.
func (db *DB) waiters() (chan struct{}, uint64) {
	db.wakeMu.Lock()
	defer db.wakeMu.Unlock()
	return db.wake, db.woken
}

// Wake wakes every Wait, as a commit through db does: a backend calls it
// when told of a commit by another process.
func (db *DB) Wake() { db.notify() }

func (db *DB) notify() {
	db.wakeMu.Lock()
	defer db.wakeMu.Unlock()
	close(db.wake)
	db.wake = make(chan struct{})
	db.woken++
}

// headRead is the store's revision as last read for Wait: every waiter
// woken by the same commit (or polling at about the same time) shares one
// read rather than each reading it in a transaction of its own.
type headRead struct {
	mu    sync.Mutex
	rev   int64
	woken uint64    // the wake-ups counted before the read began
	at    time.Time // when it began; zero: never read
}

// revision returns the store's revision: the shared read when no wake-up
// has come since it began and it began less than fresh ago, or else a new
// read.
func (db *DB) revision(ctx context.Context, fresh time.Duration) (int64, error) {
	h := &db.head
	h.mu.Lock()
	defer h.mu.Unlock()
	_, woken := db.waiters()
	if !h.at.IsZero() && h.woken == woken && time.Since(h.at) < fresh {
		return h.rev, nil
	}
	return db.readRevision(ctx)
}

// readRevision reads the store's revision into the shared read; db.head.mu
// is held.
func (db *DB) readRevision(ctx context.Context) (int64, error) {
	h := &db.head
	_, woken := db.waiters()
	at := time.Now()
	// One statement on its own, not a transaction: one round trip.
	var rev int64
	var row *sql.Row
	if st := db.prepared[db.r][revisionQuery]; st != nil {
		row = st.QueryRowContext(ctx)
	} else {
		row = db.r.QueryRowContext(ctx, db.rebind(revisionQuery))
	}
	if err := row.Scan(&rev); err != nil {
		return 0, fmt.Errorf("revision: %w", err)
	}
	h.rev, h.woken, h.at = rev, woken, at
	return rev, nil
}

// Head implements store.Store: the shared read when it began after the
// call did, else a new one.
func (db *DB) Head(ctx context.Context) (int64, error) {
	arrived := time.Now()
	h := &db.head
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && !h.at.Before(arrived) {
		return h.rev, nil
	}
	return db.readRevision(ctx)
}

// Wait implements store.Store.
func (db *DB) Wait(ctx context.Context, after int64) (int64, error) {
	poll := db.d.WaitPoll
	if poll <= 0 {
		poll = waitPoll
	}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		woken, _ := db.waiters()
		head, err := db.revision(ctx, poll/2)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("wait for revision %d: %w", after, err)
		}
		if head > after {
			return head, nil
		}
		timer := time.NewTimer(poll)
		select {
		case <-woken:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return head, ctx.Err()
		}
		timer.Stop()
	}
}

// backoff is the pause before attempt n+1 (n >= 1): txBackoff doubling,
// jittered over its upper half.
func backoff(n int) time.Duration {
	d := txBackoff << (n - 1)
	return d/2 + rand.N(d/2+1)
}

// FlushConnections marks the entry t commits (see store.Tx).
func (t *tx) FlushConnections() { t.touched.flush = true }
