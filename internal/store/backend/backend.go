// Package backend opens a store.Store from a DSN, dispatching on its scheme.
// It sits apart from package store so that store does not import its own
// backends.
package backend

import (
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// DefaultDSN is the store used when none is given.
const DefaultDSN = "sqlite:palisade.db"

// Open opens the store a DSN names: "sqlite:PATH" (PostgreSQL comes later).
func Open(dsn string) (store.Store, error) {
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok || rest == "" {
		return nil, fmt.Errorf("store dsn %q: want SCHEME:…, e.g. %s", dsn, DefaultDSN)
	}
	switch scheme {
	case "sqlite":
		return sqlite.Open(rest)
	case "postgres", "postgresql":
		return nil, fmt.Errorf("store dsn %q: PostgreSQL is not supported yet", dsn)
	}
	return nil, fmt.Errorf("store dsn %q: unknown scheme %q", dsn, scheme)
}
