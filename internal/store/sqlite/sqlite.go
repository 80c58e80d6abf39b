// Package sqlite is Palisade's embedded store: one SQLite file through the
// pure-Go modernc.org/sqlite driver, in WAL mode with foreign keys on, with
// versioned migrations embedded in the binary. Writers are serialised on one
// connection (BEGIN IMMEDIATE, busy timeout for other processes); readers
// use a separate pool and run alongside the writer.
//
// The database and its -wal and -shm files are readable by their owner only
// (0600): Open creates them so and tightens the mode of existing ones. Every
// SecretKey is sealed with AES-256-GCM under a master key read from a file
// beside the database (PATH.key unless Options say otherwise), created on
// first start. Commits are durable by default (synchronous=FULL: the WAL is
// synced before a commit is acknowledged).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/palisade-sg/palisade/internal/store/masterkey"
	"github.com/palisade-sg/palisade/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Synchronous is how hard a commit is pushed to disk before it is
// acknowledged (SQLite's PRAGMA synchronous, in WAL mode).
type Synchronous uint8

const (
	// SyncFull syncs the WAL at every commit: an acknowledged write
	// survives a power loss or an operating system crash. The default.
	SyncFull Synchronous = iota + 1
	// SyncNormal syncs only at checkpoints: faster, and the database never
	// corrupts, but a power loss may lose the last acknowledged commits.
	SyncNormal
)

// ParseSynchronous reads "full" or "normal" (any case).
func ParseSynchronous(s string) (Synchronous, error) {
	switch strings.ToLower(s) {
	case "full":
		return SyncFull, nil
	case "normal":
		return SyncNormal, nil
	}
	return 0, fmt.Errorf("synchronous %q: want full or normal", s)
}

// String returns "full" or "normal".
func (s Synchronous) String() string {
	switch s {
	case SyncFull:
		return "full"
	case SyncNormal:
		return "normal"
	}
	return "Synchronous(" + strconv.Itoa(int(s)) + ")"
}

// Options tune Open. The zero value is the default.
type Options struct {
	// MasterKeyFile holds the master key that seals SecretKeys (default:
	// the database path with ".key" appended). When it does not exist and
	// the store holds no sealed SecretKey, Open creates it (32 random bytes,
	// 0600); when it does not exist but the store holds sealed SecretKeys,
	// Open fails rather than make a key that opens none of them.
	MasterKeyFile string
	// Secrets, when set, seals SecretKeys instead of the master key (no key
	// file is read or created). For tests that measure the cost of
	// encryption.
	Secrets sqlstore.Secrets
	// Synchronous is the commit durability (zero: SyncFull).
	Synchronous Synchronous
	// MaxPageCount caps the database file at that many pages (PRAGMA
	// max_page_count; 0: no cap). A write that would grow it further fails
	// with SQLITE_FULL and changes nothing.
	MaxPageCount int
	// Logger receives warnings: file modes tightened, a master key created
	// (default: discard).
	Logger *slog.Logger
	// BusyTimeout is how long one attempt waits for another process's
	// write lock before the transaction is retried (default 10s).
	BusyTimeout time.Duration
}

// Open opens (creating if needed) the SQLite database at path with the
// default options and brings its schema up to date.
func Open(path string) (*sqlstore.DB, error) {
	return OpenWith(path, Options{})
}

// OpenWith opens (creating if needed) the SQLite database at path and brings
// its schema up to date: migrations, then the sealing of SecretKeys stored in
// plain text by an earlier version, in one transaction.
func OpenWith(path string, o Options) (*sqlstore.DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a file path is required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sync := o.Synchronous
	if sync == 0 {
		sync = SyncFull
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("sqlite %s: synchronous %v: want SyncFull or SyncNormal", path, sync)
	}
	if o.MaxPageCount < 0 {
		return nil, fmt.Errorf("sqlite %s: max page count %d is negative", path, o.MaxPageCount)
	}
	if err := prepareFiles(path, log); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	writer, reader := dsns(path, sync, o.MaxPageCount, o.BusyTimeout)
	w, err := sql.Open("sqlite", writer)
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	ctx := context.Background()
	d := sqlstore.Dialect{IsUnique: isUnique, IsBusy: isBusy}
	// Several processes opening a new file at once race to switch it to
	// WAL, which SQLite answers SQLITE_BUSY without waiting: try again
	// until the busy timeout.
	for deadline := time.Now().Add(o.BusyTimeout); ; {
		err := sqlstore.Migrate(ctx, w, d, migrations, "migrations")
		if err == nil {
			break
		}
		if !isBusy(err) || time.Now().After(deadline) {
			w.Close()
			return nil, fmt.Errorf("sqlite %s: %w", path, err)
		}
		time.Sleep(10*time.Millisecond + time.Duration(rand.N(20))*time.Millisecond)
	}
	secrets := o.Secrets
	if secrets == nil {
		keyFile := o.MasterKeyFile
		if keyFile == "" {
			keyFile = path + ".key"
		}
		k, err := sqlstore.LoadKey(ctx, w, keyFile, log)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite %s: %w", path, err)
		}
		secrets = k
	}
	r, err := sql.Open("sqlite", reader)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db, err := sqlstore.New(ctx, w, r, d, secrets)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if o.Secrets == nil {
		if err := sealPlain(ctx, db, w); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite %s: %w", path, err)
		}
	}
	return db, nil
}

// dsns returns the driver's DSNs of the writer and of the readers.
func dsns(path string, sync Synchronous, maxPages int, busy time.Duration) (writer, reader string) {
	common := "_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync.String() + ")&_pragma=cache_size(-65536)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + common
	writer = base + "&_txlock=immediate"
	if maxPages > 0 {
		writer += "&_pragma=max_page_count(" + strconv.Itoa(maxPages) + ")"
	}
	return writer, base + "&_pragma=query_only(1)"
}

// prepareFiles creates the database's directory (0700) and file (0600) when
// they do not exist, and tightens to 0600 the database, -wal and -shm files
// that others may read. SQLite creates the -wal and -shm files with the
// database file's mode.
func prepareFiles(path string, log *slog.Logger) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("create: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := tighten(p, log); err != nil {
			return err
		}
	}
	return nil
}

// tighten makes a file others may read or write readable by its owner only.
// A missing file is fine.
func tighten(path string, log *slog.Logger) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, fi.Mode().Perm()&0o700); err != nil {
		return fmt.Errorf("tighten the mode of %s (%v): %w", path, fi.Mode().Perm(), err)
	}
	log.Warn("tightened the mode of a store file others could read", "file", path, "was", fi.Mode().Perm().String(), "now", (fi.Mode().Perm() & 0o700).String())
	return nil
}

// sealPlain seals the SecretKeys an earlier version stored in plain text,
// overwriting the freed bytes (secure_delete) and truncating the WAL so that
// no copy of them stays in the files.
func sealPlain(ctx context.Context, db *sqlstore.DB, w *sql.DB) error {
	// The writer pool holds one connection: the pragma applies to the
	// transaction SealCredentials runs.
	if _, err := w.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return fmt.Errorf("seal credentials: %w", err)
	}
	n, err := db.SealCredentials(ctx, masterkey.Sealed)
	if _, perr := w.ExecContext(ctx, `PRAGMA secure_delete = OFF`); err == nil && perr != nil {
		err = fmt.Errorf("seal credentials: %w", perr)
	}
	if err != nil || n == 0 {
		return err
	}
	if _, err := w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("seal credentials: checkpoint: %w", err)
	}
	return nil
}

func code(err error) int {
	var e *sqlite3.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := code(err)
	return c == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isBusy(err error) bool {
	c := code(err) & 0xff
	return c == sqlite3lib.SQLITE_BUSY || c == sqlite3lib.SQLITE_LOCKED
}
