// Package sqlstore implements store.Store over database/sql with portable
// SQL. A backend (sqlite, postgres) supplies the connections, its dialect
// and its migrations; what must differ between them is in the Dialect, not
// in a second copy of the queries.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// Dialect is what differs between SQL backends.
type Dialect struct {
	// Numbered placeholders ($1, $2, …) instead of "?".
	Numbered bool
	// IsUnique reports whether err is a unique or primary key violation.
	IsUnique func(error) bool
	// IsBusy reports whether err is a transient lock conflict or
	// serialisation failure: Tx runs the transaction again.
	IsBusy func(error) bool
	// WriteLock, when set, is the first statement of every write
	// transaction: it takes a lock held until the transaction ends, which
	// serialises writers when the backend does not (PostgreSQL). Revisions
	// are then assigned in commit order: the writer holding revision R
	// commits before the next one reads the feed's head.
	WriteLock string
	// OnChange, when set, runs in a write transaction after its feed entry
	// is inserted, with the entry's revision (decimal text) as its one
	// argument: PostgreSQL tells other processes of the commit with it.
	OnChange string
	// Savepoints: a failed statement aborts the whole transaction
	// (PostgreSQL), so each write statement runs under a savepoint,
	// released after it and rolled back to when it fails: the transaction
	// then goes on, as SQLite's does, and fn may handle the error (an
	// ErrConflict) and commit what else it wrote.
	Savepoints bool
	// ReportsOnReaders runs Report's transactions on the readers' pool:
	// a backend whose connections may all write, so that hosts' reports
	// and replay records, which take no writer lock, do not queue for the
	// few connections of the writers.
	ReportsOnReaders bool
	// ReadTx and WriteTx are the options of View's and Tx's transactions
	// (nil: the driver's default). A View must read one snapshot; with
	// WriteLock, a write must see every commit made before it took the
	// lock (PostgreSQL: read committed, whatever the server's default).
	ReadTx, WriteTx *sql.TxOptions
	// WaitPoll is how often Wait reads the revision for commits of other
	// processes it was not told of (0: 100ms).
	WaitPoll time.Duration
}

// Secrets seals SecretKeys at rest (masterkey.Key does). A store never
// writes a SecretKey it has not sealed, nor returns one it could not open.
type Secrets interface {
	// Seal encrypts secret for owner (its SecretId).
	Seal(owner, secret string) (string, error)
	// Open returns the secret Seal sealed for owner.
	Open(owner, stored string) (string, error)
}

// DB is a store.Store over a writer and a reader connection pool (they may be
// the same).
type DB struct {
	w, r    *sql.DB
	d       Dialect
	secrets Secrets
	rebinds sync.Map // query → rebound query
	// policies caches decoded policy sets for GetInstancePolicies.
	policies policyCache
	// prepared holds, by pool, the statements of preparedQueries.
	prepared map[*sql.DB]map[string]*sql.Stmt
	// wake is closed, and replaced, at each commit of a change; woken
	// counts those wake-ups.
	wakeMu sync.Mutex
	wake   chan struct{}
	woken  uint64
	// head is the revision last read for Wait, shared by every waiter.
	head headRead
	// reports commits the reports of the moment together.
	reports reportBatch
}

// preparedQueries are the queries prepared once per connection rather than
// at each use: those every API call or simulation runs. A statement runs
// again in a transaction only once its previous rows are closed, which
// holds because every Tx method reads its rows and closes them before it
// returns.
func preparedQueries() []string {
	qs := []string{getAccountQuery, resolveAccountQuery, getCredentialQuery, platformAddressesQuery, instancePoliciesQuery, accountInstancePoliciesQuery, revisionQuery, changesQuery, accountChangesQuery,
		groupQuery(accountGroupWhere), tagsQuery(1), instanceQuery(accountInstanceWhere), instanceQuery(regionInstanceWhere), bindingsQuery(1),
		templateQuery(accountTemplateWhere)}
	for n := 1; n <= maxPreparedIn; n *= 2 {
		qs = append(qs, membersQuery(n), resolveMembersQuery(n), templatesQuery(n))
	}
	return qs
}

// New returns a store over the given pools, with the queries run most
// prepared on each, sealing SecretKeys with secrets. The writer pool should
// allow one connection when the backend serialises writers itself (SQLite).
func New(ctx context.Context, writer, reader *sql.DB, d Dialect, secrets Secrets) (*DB, error) {
	if secrets == nil {
		return nil, errors.New("no secrets sealer: SecretKeys are never stored in plain text")
	}
	db := &DB{w: writer, r: reader, d: d, secrets: secrets, prepared: map[*sql.DB]map[string]*sql.Stmt{}, wake: make(chan struct{})}
	for _, pool := range []*sql.DB{writer, reader} {
		if db.prepared[pool] != nil {
			continue
		}
		db.prepared[pool] = map[string]*sql.Stmt{}
		qs := preparedQueries()
		if pool == writer {
			qs = append(qs, writeQueries()...)
		}
		if pool == writer && !d.ReportsOnReaders || pool == reader && d.ReportsOnReaders {
			qs = append(qs, reportQueries()...)
		}
		for _, q := range qs {
			s, err := pool.PrepareContext(ctx, db.rebind(q))
			if err != nil {
				db.closeStatements()
				return nil, fmt.Errorf("prepare %q: %w", q, err)
			}
			db.prepared[pool][q] = s
		}
	}
	return db, nil
}

func (db *DB) closeStatements() {
	for _, m := range db.prepared {
		for _, s := range m {
			s.Close()
		}
	}
}

// Close closes both pools.
func (db *DB) Close() error {
	db.closeStatements()
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Tx implements store.Store: it runs the transaction again, after a short
// jittered pause, when it fails on a transient lock conflict (Dialect.IsBusy),
// and reports store.ErrBusy after txAttempts runs.
func (db *DB) Tx(ctx context.Context, fn func(store.Tx) error) error {
	return db.retry(ctx, txWrite, fn)
}

// Report implements store.Store: a write transaction without the write
// lock, in which only reports (tx.report) may write. The reports of the
// moment are committed together (see reportBatch).
func (db *DB) Report(ctx context.Context, fn func(store.Tx) error) error {
	committers := 1
	if db.d.ReportsOnReaders {
		committers = reportCommitters
	}
	return db.reports.run(ctx, fn, committers, db.reportOnce)
}

// reportOnce runs fn alone in a report transaction.
func (db *DB) reportOnce(ctx context.Context, fn func(store.Tx) error) error {
	if db.d.ReportsOnReaders {
		return db.retryOn(ctx, db.r, txReport, fn)
	}
	return db.retry(ctx, txReport, fn)
}

// txKind is what a transaction may do.
type txKind int

const (
	txWrite  txKind = iota // anything, under the write lock
	txReport               // reports only, without the write lock
	txRead                 // nothing
)

// retry runs a write transaction of kind, again on a transient conflict.
func (db *DB) retry(ctx context.Context, kind txKind, fn func(store.Tx) error) error {
	return db.retryOn(ctx, db.w, kind, fn)
}

// retryOn is retry on pool.
func (db *DB) retryOn(ctx context.Context, pool *sql.DB, kind txKind, fn func(store.Tx) error) error {
	for n := 1; ; n++ {
		err := db.run(ctx, pool, kind, fn)
		if err == nil || db.d.IsBusy == nil || !db.d.IsBusy(err) || ctx.Err() != nil {
			return err
		}
		if n == txAttempts {
			return fmt.Errorf("transaction, %d attempts: %w: %w", n, store.ErrBusy, err)
		}
		pause := time.NewTimer(backoff(n))
		select {
		case <-pause.C:
		case <-ctx.Done():
			pause.Stop()
			return err
		}
	}
}

// View implements store.Store.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, db.r, txRead, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, kind txKind, fn func(store.Tx) error) error {
	readOnly := kind == txRead
	opts := db.d.WriteTx
	if readOnly {
		opts = db.d.ReadTx
	}
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if kind == txWrite && db.d.WriteLock != "" {
		if _, err := sqlTx.ExecContext(ctx, db.d.WriteLock); err != nil {
			_ = sqlTx.Rollback()
			return fmt.Errorf("take the write lock: %w", err)
		}
	}
	t := &tx{db: db, q: sqlTx, pool: pool, readOnly: readOnly, reportOnly: kind == txReport}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	changed := !readOnly && t.touched.wrote
	if changed {
		if _, err := t.commitChange(ctx); err != nil {
			_ = sqlTx.Rollback()
			return err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if changed {
		db.notify()
	}
	return nil
}

// rebind turns "?" placeholders into the dialect's, caching the result.
func (db *DB) rebind(q string) string {
	if !db.d.Numbered {
		return q
	}
	if v, ok := db.rebinds.Load(q); ok {
		return v.(string)
	}
	out := db.d.Rebind(q)
	db.rebinds.Store(q, out)
	return out
}

// Rebind turns "?" placeholders into the dialect's ($1, $2, … when Numbered).
// Queries must not carry "?" inside string literals.
func (d Dialect) Rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Conn is what Migrate runs on: a pool (*sql.DB) or one of its connections
// (*sql.Conn), which holds a session lock around the migrations.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Migrate applies, in order, every migration NNNN_name.sql of dir in fsys not
// yet recorded in schema_migrations, each in its own transaction.
func Migrate(ctx context.Context, db Conn, d Dialect, fsys fs.FS, dir string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	type mig struct {
		version int64
		name    string
	}
	var migs []mig
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return fmt.Errorf("migrate: file %s: want NNNN_name.sql", e.Name())
		}
		migs = append(migs, mig{v, e.Name()})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })
	applied := map[int64]bool{}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range migs {
		if applied[m.version] {
			continue
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, m.name))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		// Another process may have applied it since the versions were
		// read: look again in the transaction, which holds the write lock
		// (SQLite's BEGIN IMMEDIATE; PostgreSQL holds a lock around all of
		// Migrate).
		var done int
		if err := tx.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&done); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if done > 0 {
			_ = tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`), m.version, m.name); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}
