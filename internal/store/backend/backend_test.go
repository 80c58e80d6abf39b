package backend_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/store/backend"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
)

func TestOpenDSN(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		dsn     string
		wantErr string // "" opens
	}{
		{"default durability", "sqlite:" + filepath.Join(dir, "a.db"), ""},
		{"synchronous full", "sqlite:" + filepath.Join(dir, "b.db") + "?synchronous=full", ""},
		{"synchronous normal", "sqlite:" + filepath.Join(dir, "c.db") + "?synchronous=NORMAL", ""},
		{"synchronous off", "sqlite:" + filepath.Join(dir, "d.db") + "?synchronous=off", `synchronous "off": want full or normal`},
		{"synchronous twice", "sqlite:" + filepath.Join(dir, "e.db") + "?synchronous=full&synchronous=normal", "synchronous given 2 times"},
		{"unknown parameter", "sqlite:" + filepath.Join(dir, "f.db") + "?cache=shared", `unknown parameter "cache"`},
		{"no scheme", "palisade.db", "want SCHEME:"},
		{"unknown scheme", "mysql:x", `unknown scheme "mysql"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := backend.Open(tt.dsn)
			if st != nil {
				st.Close()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Open(%q) = %v", tt.dsn, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open(%q) = %v, want an error containing %q", tt.dsn, err, tt.wantErr)
			}
		})
	}
}

func TestOpenMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "keys", "master.key")
	if _, err := backend.OpenWith("sqlite:"+filepath.Join(dir, "p.db"), backend.Options{MasterKeyFile: key}); err == nil {
		t.Fatalf("open with a key file in a missing directory succeeded")
	}
	key = filepath.Join(dir, "master.key")
	st, err := backend.OpenWith("sqlite:"+filepath.Join(dir, "p.db"), backend.Options{MasterKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if m, _ := filepath.Glob(filepath.Join(dir, "p.db.key")); len(m) != 0 {
		t.Errorf("a default key file was created beside the database although --master-key-file names another")
	}
	if m, _ := filepath.Glob(key); len(m) != 1 {
		t.Errorf("the master key file %s was not created", key)
	}
}

func TestOpenPostgres(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		for _, dsn := range []string{"postgres:db", "postgresql:user:secret@host/db"} {
			_, err := backend.OpenWith(dsn, backend.Options{MasterKeyFile: filepath.Join(t.TempDir(), "k")})
			if err == nil || !strings.Contains(err.Error(), "://") || strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%q) = %v, want an error asking for SCHEME://…, without the DSN", dsn, err)
			}
		}
	})
	t.Run("no master key file", func(t *testing.T) {
		// Refused before connecting: no server needed.
		_, err := backend.Open("postgres://nobody@127.0.0.1:1/none?sslmode=disable")
		if err == nil || !strings.Contains(err.Error(), "master key file is required") {
			t.Errorf("Open(postgres, no master key) = %v, want a master key file required", err)
		}
	})
	t.Run("opens", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		key := filepath.Join(t.TempDir(), "master.key")
		st, err := backend.OpenWith(dsn, backend.Options{MasterKeyFile: key})
		if err != nil {
			t.Fatalf("Open(%s) = %v", dsn, err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if m, _ := filepath.Glob(key); len(m) != 1 {
			t.Errorf("the master key file %s was not created", key)
		}
	})
}

func TestRedacted(t *testing.T) {
	tests := []struct{ name, dsn, want string }{
		{"sqlite", "sqlite:/var/lib/palisade.db?synchronous=normal", "sqlite:/var/lib/palisade.db?synchronous=normal"},
		{"no password", "postgres://palisade@db/palisade?sslmode=verify-full", "postgres://palisade@db/palisade?sslmode=verify-full"},
		{"password", "postgres://palisade:s3cret@db:5432/palisade", "postgres://palisade:xxxxx@db:5432/palisade"},
		{"password parameter", "postgresql://palisade@db/palisade?password=s3cret", "postgresql://palisade@db/palisade?password=xxxxx"},
		{"unparsable", "postgres://palisade:s3cret@db:port/x", "postgres://(unparsable)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backend.Redacted(tt.dsn); got != tt.want {
				t.Errorf("Redacted(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
		})
	}
}
