package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
