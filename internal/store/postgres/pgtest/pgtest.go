// Package pgtest gives tests a fresh PostgreSQL database of their own, on
// the server named by the PALISADE_TEST_POSTGRES environment variable: a
// DSN of a database in which the test may create databases, e.g.
// postgres://postgres@127.0.0.1/postgres?sslmode=disable. Without it, the
// test is skipped with a message saying so.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the server tests run against.
const Env = "PALISADE_TEST_POSTGRES"

// Server returns the DSN of PALISADE_TEST_POSTGRES, skipping the test when
// it is not set.
func Server(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		t.Skip(Env + " is not set: no PostgreSQL server to test against (e.g. " + Env + "=postgres://postgres@127.0.0.1/postgres?sslmode=disable)")
	}
	return dsn
}

// DSN creates a fresh, empty database on the server of
// PALISADE_TEST_POSTGRES and returns its DSN; the database is dropped when
// the test ends (after the cleanups registered later, such as closing the
// stores opened on it). The test is skipped when the variable is not set.
func DSN(t testing.TB) string {
	t.Helper()
	server := Server(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "palisade_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin(ctx, server, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin(ctx, server, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	dsn, err := withDatabase(server, name)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", Env, err)
	}
	return dsn
}

// admin runs one statement on the server's database.
func admin(ctx context.Context, server, stmt string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// withDatabase returns dsn naming another database.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// libpq's key=value form: a later keyword overrides an earlier one.
	return dsn + " dbname=" + name, nil
}
