// Package sqlite is Palisade's embedded store: one SQLite file through the
// pure-Go modernc.org/sqlite driver, in WAL mode with foreign keys on, with
// versioned migrations embedded in the binary. Writers are serialised on one
// connection (BEGIN IMMEDIATE, busy timeout for other processes); readers
// use a separate pool and run alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/palisade-sg/palisade/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a store; zero fields take defaults.
type Options struct {
	// BusyTimeout is how long one attempt waits for another process's
	// write lock before the transaction is retried (default 10s).
	BusyTimeout time.Duration
}

// Open opens (creating if needed) the SQLite database at path and brings its
// schema up to date.
func Open(path string) (*sqlstore.DB, error) {
	return OpenWith(path, Options{})
}

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*sqlstore.DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a file path is required")
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	common := fmt.Sprintf("_pragma=busy_timeout(%d)", o.BusyTimeout.Milliseconds()) + "&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", base+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	d := sqlstore.Dialect{IsUnique: isUnique, IsBusy: isBusy}
	if err := sqlstore.Migrate(context.Background(), w, d, migrations, "migrations"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db, err := sqlstore.New(context.Background(), w, r, d)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return db, nil
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
