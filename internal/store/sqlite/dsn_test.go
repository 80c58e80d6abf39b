package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestConnectionPragmas checks that the writer's and the readers'
// connections run with the durability and size cap asked for.
func TestConnectionPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	tests := []struct {
		name     string
		sync     Synchronous
		maxPages int
		want     int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{"full", SyncFull, 0, 2},
		{"normal", SyncNormal, 0, 1},
		{"capped", SyncFull, 300, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writer, reader := dsns(path, tt.sync, tt.maxPages, 10*time.Second)
			for _, dsn := range []string{writer, reader} {
				db, err := sql.Open("sqlite", dsn)
				if err != nil {
					t.Fatal(err)
				}
				var sync, maxPages int
				if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRow(`PRAGMA max_page_count`).Scan(&maxPages); err != nil {
					t.Fatal(err)
				}
				db.Close()
				if sync != tt.want {
					t.Errorf("%s: synchronous = %d, want %d", dsn, sync, tt.want)
				}
				if dsn == writer && tt.maxPages > 0 && maxPages != tt.maxPages {
					t.Errorf("%s: max_page_count = %d, want %d", dsn, maxPages, tt.maxPages)
				}
			}
		})
	}
}

func TestParseSynchronous(t *testing.T) {
	tests := []struct {
		in      string
		want    Synchronous
		wantErr bool
	}{
		{"full", SyncFull, false},
		{"FULL", SyncFull, false},
		{"normal", SyncNormal, false},
		{"Normal", SyncNormal, false},
		{"off", 0, true},
		{"extra", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSynchronous(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseSynchronous(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != map[Synchronous]string{SyncFull: "full", SyncNormal: "normal"}[got] {
				t.Errorf("%v.String() = %q", got, got.String())
			}
		})
	}
}
