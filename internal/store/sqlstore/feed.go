package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
// on the same database.
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

const (
	insertChangeQuery = `INSERT INTO changes (revision, time, account_id, account_ids, account_row, group_ids, member_group_ids, instance_ids, template_ids, host_ids, platform) ` +
		`VALUES (COALESCE((SELECT MAX(revision) FROM changes), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING revision`
	pruneChangesQuery = `DELETE FROM changes WHERE revision < ? AND (revision <= ? OR time < ?)`
	revisionQuery     = `SELECT COALESCE((SELECT MAX(revision) FROM changes), 0)`

	changeCols = `c.revision, c.time, c.account_id, c.account_ids, c.account_row, c.group_ids, c.member_group_ids, c.instance_ids, c.template_ids, c.host_ids, c.platform`
	// changesHead is the current revision and the oldest kept, in one row
	// even when the feed is empty; each scalar subquery reads one end of
	// the primary key.
	changesHead = `SELECT h.head, h.low, ` + changeCols + ` FROM (SELECT COALESCE((SELECT MAX(revision) FROM changes), 0) AS head, ` +
		`COALESCE((SELECT MIN(revision) FROM changes), 0) AS low) h LEFT JOIN changes c ON c.revision > ? AND c.revision <= ? AND ? >= h.low - 1 AND ? <= h.head`
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
	accounts := idList(w.accounts)
	accountID := accounts
	if w.platform || len(splitList(accounts)) != 1 {
		accountID = ""
	}
	now := time.Now()
	args := []any{toMicros(now), accountID, accounts, boolInt(w.accountRow), idList(w.groups), idList(w.members),
		idList(w.instances), idList(w.templates), idList(w.hosts), boolInt(w.platform)}
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

func (t *tx) Changes(ctx context.Context, since int64, accountID string, limit int) (int64, []store.Change, error) {
	upto := int64(math.MaxInt64)
	if limit > 0 && since < math.MaxInt64-int64(limit) {
		upto = since + int64(limit)
	}
	q, args := changesQuery, []any{since, upto, since, since}
	if accountID != "" {
		q, args = accountChangesQuery, []any{since, upto, since, since, accountID}
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return 0, nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	defer rows.Close()
	var head, low int64
	var out []store.Change
	for rows.Next() {
		var rev, tm, accountRow, platform sql.NullInt64
		var account, accounts, groups, members, instances, templates, hosts sql.NullString
		if err := rows.Scan(&head, &low, &rev, &tm, &account, &accounts, &accountRow, &groups, &members, &instances, &templates, &hosts, &platform); err != nil {
			return 0, nil, fmt.Errorf("changes since %d: %w", since, err)
		}
		if !rev.Valid {
			continue
		}
		out = append(out, store.Change{
			Revision: rev.Int64, Time: fromMicros(tm.Int64), AccountID: account.String, Accounts: splitList(accounts.String),
			AccountRow: accountRow.Int64 != 0, Groups: splitList(groups.String), Members: splitList(members.String),
			Instances: splitList(instances.String), Templates: splitList(templates.String), Hosts: splitList(hosts.String),
			Platform: platform.Int64 != 0,
		})
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("changes since %d: %w", since, err)
	}
	if since > head || since < low-1 {
		return head, nil, fmt.Errorf("changes since %d (kept %d to %d): %w", since, low, head, store.ErrCompacted)
	}
	slices.SortFunc(out, func(a, b store.Change) int { return cmp.Compare(a.Revision, b.Revision) })
	return head, out, nil
}

// waiters returns the channel closed at the next commit of a change.
func (db *DB) waiters() chan struct{} {
	db.wakeMu.Lock()
	defer db.wakeMu.Unlock()
	return db.wake
}

func (db *DB) notify() {
	db.wakeMu.Lock()
	defer db.wakeMu.Unlock()
	close(db.wake)
	db.wake = make(chan struct{})
}

// Wait implements store.Store.
func (db *DB) Wait(ctx context.Context, after int64) (int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		woken := db.waiters()
		var head int64
		err := db.View(ctx, func(t store.Tx) error {
			var err error
			head, err = t.Revision(ctx)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("wait for revision %d: %w", after, err)
		}
		if head > after {
			return head, nil
		}
		timer := time.NewTimer(waitPoll)
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
