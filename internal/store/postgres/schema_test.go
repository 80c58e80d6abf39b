package postgres_test

import (
	"database/sql"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read SQLite's schema

	"github.com/palisade-sg/palisade/internal/store/postgres"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestSchemaMatchesSQLite checks that the PostgreSQL migrations keep the
// SQLite ones' numbers and names (checked without a server: a migration
// added to one needs its counterpart in the other) and build the same
// tables with the same columns, in the same order (one body of SQL serves
// both), besides PostgreSQL's writer_lock.
func TestSchemaMatchesSQLite(t *testing.T) {
	names := func(dir string) []string {
		t.Helper()
		files, err := fs.Glob(os.DirFS(dir), "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	if pg, lite := names("migrations"), names(filepath.Join("..", "sqlite", "migrations")); !reflect.DeepEqual(pg, lite) {
		t.Errorf("PostgreSQL migrations %q, SQLite's %q: want the same numbers and names", pg, lite)
	}

	dsn := pgtest.DSN(t)
	open(t, dsn, postgres.Options{})
	pgCols := columns(t, rawDB(t, dsn), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'writer_lock' ORDER BY table_name, ordinal_position`)

	path := filepath.Join(t.TempDir(), "palisade.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	lite, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	liteCols := columns(t, lite, `SELECT m.name, c.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
		WHERE m.type = 'table' ORDER BY m.name, c.cid`)
	if !reflect.DeepEqual(pgCols, liteCols) {
		t.Errorf("PostgreSQL's tables:\n%s\nSQLite's:\n%s", format(pgCols), format(liteCols))
	}
}

// columns reads (table, column) rows into each table's column list.
func columns(t *testing.T, db *sql.DB, query string) map[string][]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func format(tables map[string][]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		b.WriteString("  " + name + "(" + strings.Join(tables[name], ", ") + ")\n")
	}
	return b.String()
}
