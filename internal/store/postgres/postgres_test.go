package postgres_test

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver of the raw connections

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/masterkey"
	"github.com/palisade-sg/palisade/internal/store/postgres"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
	"github.com/palisade-sg/palisade/internal/store/storetest"
)

// open opens a store on dsn with a master key in the test's directory.
func open(t *testing.T, dsn string, o postgres.Options) *postgres.Store {
	t.Helper()
	if o.MasterKeyFile == "" && o.Secrets == nil {
		o.MasterKeyFile = filepath.Join(t.TempDir(), "master.key")
	}
	s, err := postgres.Open(dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawDB connects to dsn directly, as another program would.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	pgtest.Server(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.DSN(t), postgres.Options{}) })
}

// TestReplicas runs the replica suite on databases of the server's default
// isolation and on databases whose transactions are serialisable by
// default: the store sets its own.
func TestReplicas(t *testing.T) {
	pgtest.Server(t)
	for _, isolation := range []string{"", "serializable"} {
		t.Run("isolation "+cmp.Or(isolation, "default"), func(t *testing.T) {
			storetest.RunReplicas(t, func(t *testing.T) storetest.Opener {
				dsn := pgtest.DSN(t)
				if isolation != "" {
					if _, err := rawDB(t, dsn).Exec(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = ` + isolation + `', current_database()); END $$`); err != nil {
						t.Fatal(err)
					}
				}
				key := filepath.Join(t.TempDir(), "master.key")
				if _, err := masterkey.Create(key, nil); err != nil {
					t.Fatal(err)
				}
				return func() (store.Store, error) {
					s, err := postgres.Open(dsn, postgres.Options{MasterKeyFile: key})
					if err != nil {
						return nil, err
					}
					return s, nil
				}
			})
		})
	}
}

func TestFeedRetention(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := open(t, dsn, postgres.Options{})
	raw := rawDB(t, dsn)
	storetest.RunRetention(t, s, func(t *testing.T, from, to int64, tm time.Time) {
		t.Helper()
		if _, err := raw.Exec(`INSERT INTO changes (revision, time, account_id, flags, ids) SELECT r, $3, '', 0, ';;;;;' FROM generate_series($1::bigint, $2::bigint) r`,
			from, to, tm.UnixMicro()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReopen opens a database twice: the second open applies no migration
// again and finds the data.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	key := filepath.Join(t.TempDir(), "master.key")
	s, err := postgres.Open(dsn, postgres.Options{MasterKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	cred := store.Credential{SecretID: "AKID0001", SecretKey: "secret", Role: store.RolePlatform, Created: time.Now()}
	if err := s.Tx(ctx, func(tx store.Tx) error { return tx.CreateCredential(ctx, cred) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	migrations := func() []string {
		t.Helper()
		rows, err := rawDB(t, dsn).Query(`SELECT version || ' ' || name FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	// One row per migration file, numbered as the file is.
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %q, %v", files, err)
	}
	var want []string
	for _, f := range files {
		name := filepath.Base(f)
		num, _, _ := strings.Cut(name, "_")
		want = append(want, strings.TrimLeft(num, "0")+" "+name)
	}
	if got := migrations(); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
	s = open(t, dsn, postgres.Options{MasterKeyFile: key})
	if got := migrations(); !slices.Equal(got, want) {
		t.Errorf("schema_migrations after reopening = %q, want %q", got, want)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		c, err := tx.GetCredential(ctx, cred.SecretID)
		if err != nil || c.SecretKey != cred.SecretKey {
			t.Errorf("GetCredential after reopening = %+v, %v; want the secret key back", c, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Sealed: the stored key is not the secret.
	var stored string
	if err := rawDB(t, dsn).QueryRow(`SELECT secret_key FROM credentials`).Scan(&stored); err != nil || !masterkey.Sealed(stored) {
		t.Errorf("stored secret key %q, %v; want it sealed", stored, err)
	}
	// Without the key, the store does not open.
	other := filepath.Join(t.TempDir(), "missing.key")
	if _, err := postgres.Open(dsn, postgres.Options{MasterKeyFile: other}); err == nil {
		t.Errorf("Open with a missing master key over sealed secret keys succeeded")
	}
}

func TestOpenNeedsMasterKey(t *testing.T) {
	if _, err := postgres.Open("postgres://nobody@127.0.0.1:1/none", postgres.Options{}); err == nil {
		t.Fatal("Open without a master key file succeeded")
	}
}

// TestTxRetriesWhileLocked holds the writer lock from another connection.
func TestTxRetriesWhileLocked(t *testing.T) {
	pgtest.Server(t)
	storetest.RunLockRetries(t, func(t *testing.T) (store.Store, func() func()) {
		dsn := pgtest.DSN(t)
		s := open(t, dsn, postgres.Options{LockTimeout: 5 * time.Millisecond})
		return s, func() func() {
			holder, err := rawDB(t, dsn).Begin()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := holder.Exec(`SELECT id FROM writer_lock FOR UPDATE`); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := holder.Rollback(); err != nil {
					t.Error(err)
				}
			}
		}
	})
}

// TestListenerReconnects ends every listening connection on the server:
// each store reconnects, and a write through one still wakes Wait on the
// other promptly, right after and once the connections are back.
func TestListenerReconnects(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn, postgres.Options{}), open(t, dsn, postgres.Options{})
	var ended int
	if err := rawDB(t, dsn).QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN ` + postgres.Channel + `'`).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended != 2 {
		t.Fatalf("ended %d listening connections, want 2 (one per store)", ended)
	}
	listening := func() int {
		var n int
		if err := rawDB(t, dsn).QueryRow(`SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN ` + postgres.Channel + `'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Write 1 comes while the listeners are away: its notification is
	// lost, and the wake-up comes from the reconnection (or the poll):
	// delayed, never lost. Write 2 comes once both listen again: woken by
	// its notification.
	for i, bound := range []time.Duration{5 * time.Second, time.Second} {
		if i == 1 {
			for deadline := time.Now().Add(10 * time.Second); listening() < 2; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the listeners did not come back within 10 s (%d listening)", listening())
				}
			}
		}
		head, err := a.Wait(ctx, -1)
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("acc-%08d", i+1)
		go func() {
			time.Sleep(20 * time.Millisecond)
			if err := b.Tx(ctx, func(tx store.Tx) error { return tx.CreateAccount(ctx, store.Account{ID: id, Name: id}) }); err != nil {
				t.Error(err)
			}
		}()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		rev, err := a.Wait(wctx, head)
		cancel()
		if err != nil || rev != head+1 {
			t.Fatalf("write %d: Wait(%d) = %d, %v; want %d", i+1, head, rev, err, head+1)
		}
		if took := time.Since(start); took > bound {
			t.Errorf("write %d after the listeners were ended: Wait woke after %v, want within %v", i+1, took, bound)
		}
	}
}

// BenchmarkPolicyWrite measures one policy write as the service makes it: a
// transaction reading the group, updating it at its version and adding a
// history row.
func BenchmarkPolicyWrite(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(pgtest.DSN(b), postgres.Options{MasterKeyFile: filepath.Join(b.TempDir(), "master.key")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := store.Group{ID: "sg-00000001", AccountID: "acc-00000001", Region: "ap-guangzhou", Name: "web"}
	if err := s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, store.Account{ID: g.AccountID, Name: "a"}); err != nil {
			return err
		}
		return tx.CreateGroup(ctx, g)
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.Tx(ctx, func(tx store.Tx) error {
			cur, err := tx.GetGroup(ctx, g.ID)
			if err != nil {
				return err
			}
			next := cur
			next.Policies.Version++
			if err := tx.UpdateGroup(ctx, next, cur.Policies.Version); err != nil {
				return err
			}
			return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: g.AccountID, Version: next.Policies.Version, Detail: "{}"})
		}); err != nil {
			b.Fatal(err)
		}
	}
}
