// Package postgres is Palisade's shared store: a PostgreSQL database that
// several replicas of the server open at once, through pgx's database/sql
// driver, so that the SQL of sqlstore serves it as it serves SQLite. Its
// versioned migrations, embedded in the binary, have the numbers and
// meaning of SQLite's; they run under a session advisory lock, so replicas
// started together migrate once.
//
// The change feed across replicas. Every write transaction first locks the
// one row of writer_lock (Dialect.WriteLock) and holds it until it ends:
// writers of every replica are serialised, as SQLite's are, and read
// committed isolation (set for every write, whatever the server's default)
// then sees every earlier commit. A writer's revision is
// one more than the last committed change's, and it commits before the next
// writer can read the head, so revisions commit in order: a follower that
// has read "changes after R" can never miss a change that commits later
// with a revision of R or less (the gap concurrent sequences leave).
// Versioned writes (UpdateGroup) are conditional updates, checked under
// that lock. A writer waits for a lock at most Options.LockTimeout per
// attempt; lock timeouts (SQLSTATE 55P03), serialisation failures and
// deadlocks (40001, 40P01) run the transaction again with sqlstore's
// bounded retry, then fail with store.ErrBusy. A failed statement does
// not abort the transaction: each write statement runs under a savepoint
// (Dialect.Savepoints), so that a caller may handle an ErrConflict and go
// on, as on SQLite. A View reads one snapshot (repeatable read, read only)
// and runs alongside writers.
//
// Store.Wait wakes on commits of other replicas: each write transaction
// runs NOTIFY palisade_changes with its revision, and every Store keeps one
// connection LISTENing, reconnected when it drops. A notification only
// wakes Wait, which reads the feed's revision; a slow poll (Options.WaitPoll)
// backs it up, so that a missed notification delays a change but never
// loses it.
//
// SecretKeys are sealed under a master key from a file that every replica
// must be given (Options.MasterKeyFile): Open refuses to start without one.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/palisade-sg/palisade/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Channel is the channel of the notifications write transactions send.
const Channel = "palisade_changes"

// migrateLock is the key of the advisory lock held around the migrations
// ("palisade" in ASCII).
const migrateLock int64 = 0x70616c6973616465

// writerConns is the size of the writers' pool.
const writerConns = 2

// Defaults of Options.
const (
	DefaultMaxConns    = 10
	DefaultLockTimeout = 10 * time.Second
	DefaultWaitPoll    = 5 * time.Second
)

// The listener's reconnection backoff: doubling from minRelisten up to
// maxRelisten.
const (
	minRelisten = 100 * time.Millisecond
	maxRelisten = 5 * time.Second
)

// PostgreSQL error codes (SQLSTATE) the store tells apart.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"
)

// Options tune Open.
type Options struct {
	// MasterKeyFile holds the master key that seals SecretKeys; required
	// (unless Secrets is set), and the same file on every replica. When it
	// does not exist and the store holds no sealed SecretKey, Open creates
	// it (32 random bytes, 0600): copy it to the other replicas before
	// they start.
	MasterKeyFile string
	// Secrets, when set, seals SecretKeys instead of the master key (no key
	// file is read or created). For tests.
	Secrets sqlstore.Secrets
	// MaxConns caps the connections of the readers' pool (default
	// DefaultMaxConns), besides the writers' (writerConns) and the one
	// listening for notifications.
	MaxConns int
	// LockTimeout is how long one attempt of a write transaction waits for
	// a lock, the writer lock included, before it is run again (default
	// DefaultLockTimeout); after the last attempt it fails with
	// store.ErrBusy.
	LockTimeout time.Duration
	// WaitPoll is how often Wait reads the revision in case a notification
	// was missed (default DefaultWaitPoll).
	WaitPoll time.Duration
	// Logger receives warnings: the listening connection lost, a master
	// key created (default: discard).
	Logger *slog.Logger
}

// Store is a store.Store over a PostgreSQL database.
type Store struct {
	*sqlstore.DB
	stop context.CancelFunc
	done chan struct{}
}

// dialect is PostgreSQL's: numbered placeholders, a savepoint per write
// statement, the writer lock (waited for at most lockTimeout at each
// attempt), the notification of each change and snapshot reads.
func dialect(lockTimeout, waitPoll time.Duration) sqlstore.Dialect {
	return sqlstore.Dialect{
		Numbered:   true,
		IsUnique:   isUnique,
		IsBusy:     isBusy,
		Savepoints: true,
		// No arguments: one simple-protocol round trip for both.
		WriteLock: fmt.Sprintf(`SET LOCAL lock_timeout = %d; SELECT id FROM writer_lock WHERE id = 1 FOR UPDATE`, lockTimeout.Milliseconds()),
		OnChange:  `SELECT pg_notify('` + Channel + `', ?)`,
		ReadTx:    &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		WriteTx:   &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		WaitPoll:  waitPoll,
		// Every connection may write: reports need not queue for the
		// writers' two.
		ReportsOnReaders: true,
	}
}

// Open connects to the database dsn names (postgres://… or
// postgresql://…, or libpq's key=value form), brings its schema up to date
// and starts listening for the commits of other replicas.
func Open(dsn string, o Options) (*Store, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Secrets == nil && o.MasterKeyFile == "" {
		return nil, errors.New("postgres: a master key file is required (--master-key-file or PALISADE_MASTER_KEY_FILE), the same on every replica")
	}
	if o.MaxConns < 0 || o.LockTimeout < 0 || o.WaitPoll < 0 {
		return nil, fmt.Errorf("postgres: max conns %d, lock timeout %v, wait poll %v: want positive values", o.MaxConns, o.LockTimeout, o.WaitPoll)
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.LockTimeout < time.Millisecond {
		return nil, fmt.Errorf("postgres: lock timeout %v: want at least 1ms", o.LockTimeout)
	}
	if o.WaitPoll == 0 {
		o.WaitPoll = DefaultWaitPoll
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	where := fmt.Sprintf("postgres %s@%s/%s", cfg.User, cfg.Host, cfg.Database)
	ctx := context.Background()
	// Writers queue for the writer lock anyway: a few connections do, and
	// readers keep theirs while writers wait.
	w := stdlib.OpenDB(*cfg.Copy())
	w.SetMaxOpenConns(writerConns)
	w.SetMaxIdleConns(writerConns)
	w.SetConnMaxIdleTime(5 * time.Minute)
	d := dialect(o.LockTimeout, o.WaitPoll)
	if err := migrate(ctx, w, d); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	secrets := o.Secrets
	if secrets == nil {
		k, err := sqlstore.LoadKey(ctx, w, o.MasterKeyFile, log)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		secrets = k
	}
	r := stdlib.OpenDB(*cfg.Copy())
	r.SetMaxOpenConns(o.MaxConns)
	r.SetMaxIdleConns(o.MaxConns)
	r.SetConnMaxIdleTime(5 * time.Minute)
	db, err := sqlstore.New(ctx, w, r, d, secrets)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	conn, err := listen(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	lctx, stop := context.WithCancel(context.Background())
	s := &Store{DB: db, stop: stop, done: make(chan struct{})}
	go s.listen(lctx, cfg, conn, log)
	return s, nil
}

// Close stops listening and closes the pools.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	return s.DB.Close()
}

// migrate runs the migrations on one connection holding the migration lock:
// replicas started together wait for each other, and the later ones find
// every migration applied.
func migrate(ctx context.Context, pool *sql.DB, d sqlstore.Dialect) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	err = sqlstore.Migrate(ctx, conn, d, migrations, "migrations")
	if _, uerr := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrateLock); uerr != nil {
		// The lock goes with the session: drop the connection.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, fmt.Errorf("migrate: release the migration lock: %w", uerr))
	}
	return err
}

// listen opens a connection and LISTENs on Channel.
func listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+Channel); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

// listen wakes the store's waiters at each notification, reconnecting when
// the connection drops, until ctx ends. After reconnecting it wakes them
// once: a commit may have been announced while nobody listened.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, log *slog.Logger) {
	defer close(s.done)
	pause := minRelisten
	for {
		if conn != nil {
			for {
				_, err := conn.WaitForNotification(ctx)
				if err != nil {
					if ctx.Err() == nil {
						log.Warn("lost the connection listening for other replicas' changes; reconnecting", "err", err)
					}
					break
				}
				s.Wake()
				pause = minRelisten
			}
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(cctx)
			cancel()
			conn = nil
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		pause = min(2*pause, maxRelisten)
		var err error
		if conn, err = listen(ctx, cfg); err != nil {
			if ctx.Err() == nil {
				log.Warn("cannot listen for other replicas' changes; retrying", "err", err, "in", pause)
			}
			continue
		}
		s.Wake()
	}
}

func code(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func isUnique(err error) bool { return code(err) == codeUniqueViolation }

func isBusy(err error) bool {
	switch code(err) {
	case codeSerializationFailure, codeDeadlockDetected, codeLockNotAvailable:
		return true
	}
	return false
}
