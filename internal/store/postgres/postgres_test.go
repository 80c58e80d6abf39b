package postgres_test

import (
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/masterkey"
	"github.com/palisade-sg/palisade/internal/store/postgres"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
	"github.com/palisade-sg/palisade/internal/store/storetest"
)

// open opens a store on dsn with a master key in the test's directory.
func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(dsn, postgres.Options{MasterKeyFile: filepath.Join(t.TempDir(), "master.key")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	pgtest.Server(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.DSN(t)) })
}

func TestReplicas(t *testing.T) {
	pgtest.Server(t)
	storetest.RunReplicas(t, func(t *testing.T) storetest.Opener {
		dsn := pgtest.DSN(t)
		key := filepath.Join(t.TempDir(), "master.key")
		if _, err := masterkey.Create(key, nil); err != nil {
			t.Fatal(err)
		}
		return func() (store.Store, error) { return postgres.Open(dsn, postgres.Options{MasterKeyFile: key}) }
	})
}
