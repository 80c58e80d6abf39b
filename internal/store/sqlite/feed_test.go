package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/masterkey"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/internal/store/storetest"
)

func open(t *testing.T, path string, o sqlite.Options) *sqlStore {
	t.Helper()
	s, err := sqlite.OpenWith(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &sqlStore{s}
}

type sqlStore struct{ store.Store }

// addAccount writes one change.
func (s *sqlStore) addAccount(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	if err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateAccount(ctx, store.Account{ID: id, Name: id}) }); err != nil {
		t.Fatal(err)
	}
}

func (s *sqlStore) changes(since int64) (int64, []store.Change, error) {
	ctx := context.Background()
	var head int64
	var out []store.Change
	err := s.View(ctx, func(tx store.Tx) error {
		var err error
		head, out, err = tx.Changes(ctx, since, "", 0)
		return err
	})
	return head, out, err
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

func TestWaitSeesAnotherStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	a, b := open(t, path, sqlite.Options{}), open(t, path, sqlite.Options{})
	go func() {
		time.Sleep(30 * time.Millisecond)
		b.addAccount(t, "acc-00000001")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	rev, err := a.Wait(ctx, 0)
	if err != nil || rev != 1 {
		t.Fatalf("Wait(0) = %d, %v; want 1", rev, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Wait saw another store's write after %v", d)
	}
}

func TestTxRetriesWhileLocked(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		holdFor time.Duration // 0: until the transaction returns
		wantErr error
	}{
		{"lock released during the retries", 20 * time.Millisecond, nil},
		{"lock held throughout", 0, store.ErrBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "palisade.db")
			s := open(t, path, sqlite.Options{BusyTimeout: 5 * time.Millisecond})
			conn, err := rawDB(t, path).Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
				t.Fatal(err)
			}
			release := func() {
				if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
					t.Error(err)
				}
			}
			start := time.Now()
			if tt.holdFor > 0 {
				time.AfterFunc(tt.holdFor, release)
			}
			calls := 0
			err = s.Tx(ctx, func(tx store.Tx) error {
				calls++
				return tx.CreateAccount(ctx, store.Account{ID: "acc-00000001", Name: "a"})
			})
			if tt.holdFor == 0 {
				release()
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Tx = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (calls != 1 || time.Since(start) < tt.holdFor) {
				t.Errorf("Tx ran its function %d times, returned after %v; want once, after the lock was released", calls, time.Since(start))
			}
		})
	}
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
