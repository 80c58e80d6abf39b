package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/masterkey"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/internal/store/storetest"
)

func open(t *testing.T, path string, o sqlite.Options) store.Store {
	t.Helper()
	s, err := sqlite.OpenWith(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB opens the file directly, as another process would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTxRetriesWhileLocked(t *testing.T) {
	ctx := context.Background()
	storetest.RunLockRetries(t, func(t *testing.T) (store.Store, func() func()) {
		path := filepath.Join(t.TempDir(), "palisade.db")
		s := open(t, path, sqlite.Options{BusyTimeout: 5 * time.Millisecond})
		return s, func() func() {
			conn, err := rawDB(t, path).Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
				t.Fatal(err)
			}
			return func() {
				if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
					t.Error(err)
				}
			}
		}
	})
}

func TestFeedRetention(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	s := open(t, path, sqlite.Options{})
	storetest.RunRetention(t, s, func(t *testing.T, from, to int64, tm time.Time) {
		t.Helper()
		db := rawDB(t, path)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO changes (revision, time, account_id, flags, ids) VALUES (?, ?, '', 0, ';;;;;')`)
		if err != nil {
			t.Fatal(err)
		}
		for r := from; r <= to; r++ {
			if _, err := st.ExecContext(ctx, r, tm.UnixMicro()); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		db.Close()
	})
}

func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		key := filepath.Join(dir, "master.key")
		if _, err := masterkey.Create(key, nil); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "palisade.db")
		return func() (store.Store, error) { return sqlite.OpenWith(path, sqlite.Options{MasterKeyFile: key}) }
	})
}
