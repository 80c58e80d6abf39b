// Package backend opens a store.Store from a DSN, dispatching on its scheme.
// It sits apart from package store so that store does not import its own
// backends.
package backend

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/postgres"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// DefaultDSN is the store used when none is given.
const DefaultDSN = "sqlite:palisade.db"

// Options are what opening a store needs besides its DSN.
type Options struct {
	// MasterKeyFile holds the master key that seals SecretKeys at rest
	// (default: beside a SQLite database, its path with ".key" appended;
	// PostgreSQL has no default and refuses to open without one).
	MasterKeyFile string
	Logger        *slog.Logger // default: discard
}

// Open opens the store a DSN names with the default options.
func Open(dsn string) (store.Store, error) {
	return OpenWith(dsn, Options{})
}

// OpenWith opens the store a DSN names: "sqlite:PATH[?synchronous=full|normal]"
// or a PostgreSQL URL, "postgres://…" or "postgresql://…" (its parameters
// are libpq's, e.g. sslmode). For SQLite, synchronous=full, the default,
// makes every acknowledged write survive a power loss; normal trades that
// for write throughput.
func OpenWith(dsn string, o Options) (store.Store, error) {
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok || rest == "" {
		return nil, fmt.Errorf("store dsn %q: want SCHEME:…, e.g. %s", dsn, DefaultDSN)
	}
	switch scheme {
	case "sqlite":
		path, query, _ := strings.Cut(rest, "?")
		so := sqlite.Options{MasterKeyFile: o.MasterKeyFile, Logger: o.Logger}
		params, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("store dsn %q: parameters: %w", dsn, err)
		}
		for name, vals := range params {
			switch name {
			case "synchronous":
				if len(vals) != 1 {
					return nil, fmt.Errorf("store dsn %q: synchronous given %d times", dsn, len(vals))
				}
				if so.Synchronous, err = sqlite.ParseSynchronous(vals[0]); err != nil {
					return nil, fmt.Errorf("store dsn %q: %w", dsn, err)
				}
			default:
				return nil, fmt.Errorf("store dsn %q: unknown parameter %q (known: synchronous)", dsn, name)
			}
		}
		return sqlite.OpenWith(path, so)
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			// Not echoed: it may hold a password.
			return nil, fmt.Errorf("store dsn %s:…: want %s://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMETERS]", scheme, scheme)
		}
		return postgres.Open(dsn, postgres.Options{MasterKeyFile: o.MasterKeyFile, Logger: o.Logger})
	}
	return nil, fmt.Errorf("store dsn %q: unknown scheme %q", dsn, scheme)
}

// Redacted returns dsn fit for a log: a PostgreSQL DSN's password replaced
// by "xxxxx". A DSN that does not parse is replaced whole.
func Redacted(dsn string) string {
	scheme, _, _ := strings.Cut(dsn, ":")
	if scheme != "postgres" && scheme != "postgresql" {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return scheme + "://(unparsable)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Shared reports whether the store a DSN names may be shared by several
// replicas of the server (PostgreSQL), which must then agree on what each
// accepted, such as the signatures of requests.
func Shared(dsn string) bool {
	scheme, _, _ := strings.Cut(dsn, ":")
	return scheme == "postgres" || scheme == "postgresql"
}
