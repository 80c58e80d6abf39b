package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/masterkey"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/internal/store/sqlstore"
)

// secretKey returns a random 40-character SecretKey, as the service makes.
var secureT0 = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

func secretKey(t *testing.T) string {
	t.Helper()
	return strings.ToUpper(rand.Text())[:26] + rand.Text()[:14]
}

// addCredentials creates an account and n credentials of it, and returns
// the credentials.
func addCredentials(t *testing.T, s store.Store, account string, n int) []store.Credential {
	t.Helper()
	ctx := context.Background()
	var out []store.Credential
	err := s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, store.Account{ID: account, Name: account, Created: secureT0}); err != nil {
			return err
		}
		for i := range n {
			c := store.Credential{SecretID: fmt.Sprintf("AKID%s%04d", account, i), SecretKey: secretKey(t), AccountID: account, Role: "admin", Created: secureT0}
			if err := tx.CreateCredential(ctx, c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// secretsInFiles returns, for each of the database, its -wal and its -shm
// file, the credentials whose SecretKey appears in it in plain text.
func secretsInFiles(t *testing.T, path string, creds []store.Credential) map[string][]string {
	t.Helper()
	scanned := 0
	found := map[string][]string{}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		scanned += len(b)
		for _, c := range creds {
			if bytes.Contains(b, []byte(c.SecretKey)) {
				found[filepath.Base(f)] = append(found[filepath.Base(f)], c.SecretID)
			}
		}
	}
	if scanned == 0 {
		t.Fatalf("no store file to scan at %s", path)
	}
	return found
}

// assertNoSecretInFiles fails if any SecretKey appears in the database, its
// -wal or its -shm file.
func assertNoSecretInFiles(t *testing.T, path string, creds []store.Credential) {
	t.Helper()
	for f, ids := range secretsInFiles(t, path, creds) {
		t.Errorf("%s holds the SecretKey of %s in plain text", f, strings.Join(ids, ", "))
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s = %v, want %v", filepath.Base(path), got, want)
	}
}

func getCredential(s store.Store, id string) (store.Credential, error) {
	var c store.Credential
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.GetCredential(context.Background(), id)
		return err
	})
	return c, err
}

func TestSecretsAtRest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "palisade")
	path := filepath.Join(dir, "palisade.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var creds []store.Credential
	for i := range 5 {
		creds = append(creds, addCredentials(t, s, fmt.Sprintf("acc-0000000%d", i), 20)...)
	}
	// While the store is open, the WAL and shared memory file exist.
	for _, f := range []string{path, path + "-wal", path + "-shm", path + ".key"} {
		assertMode(t, f, 0o600)
	}
	assertMode(t, dir, 0o700)
	assertNoSecretInFiles(t, path, creds)
	for _, c := range creds[:3] {
		got, err := getCredential(s, c.SecretID)
		if err != nil || got.SecretKey != c.SecretKey || got.AccountID != c.AccountID {
			t.Errorf("GetCredential(%s) = %+v, %v; want key %s", c.SecretID, got, err, c.SecretKey)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoSecretInFiles(t, path, creds)

	// Reopened with its key, the store reads every credential.
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := getCredential(s, creds[len(creds)-1].SecretID); err != nil || got.SecretKey != creds[len(creds)-1].SecretKey {
		t.Errorf("after reopening, GetCredential = %+v, %v", got, err)
	}
	s.Close()
}

func TestWrongMasterKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "palisade.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	creds := addCredentials(t, s, "acc-00000001", 2)
	s.Close()

	other := filepath.Join(dir, "other.key")
	if _, err := masterkey.Create(other, nil); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	s, err = sqlite.OpenWith(path, sqlite.Options{MasterKeyFile: other, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatalf("open with another key: %v", err)
	}
	defer s.Close()
	if !strings.Contains(logged.String(), "sealed under another master key") || !strings.Contains(logged.String(), "credentials=2") {
		t.Errorf("opening with another key logged %q, want a warning that 2 credentials are sealed under another key", logged.String())
	}
	got, err := getCredential(s, creds[0].SecretID)
	want := "secret key of " + creds[0].SecretID + " cannot be decrypted: wrong master key?"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, masterkey.ErrWrongKey) || got.SecretKey != "" {
		t.Errorf("GetCredential with the wrong key = %+v, %v; want an error %q", got, err, want)
	}
	// An unknown credential is still not found.
	if _, err := getCredential(s, "AKIDnone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCredential(unknown) = %v, want ErrNotFound", err)
	}
}

func TestMissingMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	addCredentials(t, s, "acc-00000001", 1)
	s.Close()
	if err := os.Remove(path + ".key"); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.Open(path); err == nil || !strings.Contains(err.Error(), path+".key") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("open without the key of sealed credentials = %v, want an error naming the key file", err)
	}
	if _, err := os.Stat(path + ".key"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new master key was created for a store whose credentials it cannot open (%v)", err)
	}
}

// TestSealPlainTextStore opens a store written before encryption at rest
// (schema 0001: SecretKeys in plain text, history rows with whole policy
// sets, files others can read): the keys are sealed in place, no copy of
// them stays in the files, the modes are tightened and the old history rows
// become snapshots.
func TestSealPlainTextStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	initial, err := os.ReadFile("migrations/0001_initial.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	if err := sqlstore.Migrate(ctx, raw, sqlstore.Dialect{}, fstest.MapFS{"m/0001_initial.sql": {Data: initial}}, "m"); err != nil {
		t.Fatal(err)
	}
	var creds []store.Credential
	stmts := []string{`INSERT INTO accounts (id, name, created) VALUES ('acc-00000001', 'alice', 0)`}
	for i := range 30 {
		c := store.Credential{SecretID: fmt.Sprintf("AKIDplain%04d", i), SecretKey: secretKey(t)}
		creds = append(creds, c)
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO credentials (secret_id, secret_key, account_id, role, created) VALUES ('%s', '%s', 'acc-00000001', 'admin', 0)`, c.SecretID, c.SecretKey))
	}
	set := `{"Version":"%d","Ingress":[{"Protocol":"TCP","Port":"22","CidrBlock":"10.0.0.0/8","Ipv6CidrBlock":"","SecurityGroupId":"","AddressId":"","AddressGroupId":"","ServiceId":"","ServiceGroupId":"","Action":"ACCEPT","PolicyDescription":""}],"Egress":[]}`
	stmts = append(stmts,
		`INSERT INTO group_history (group_id, account_id, version, time, secret_id, request_id, action, detail) VALUES ('sg-00000001', 'acc-00000001', 1, 0, '', '', 'CreateSecurityGroup', '{"Name":"web","After":`+fmt.Sprintf(set, 1)+`}')`,
		`INSERT INTO group_history (group_id, account_id, version, time, secret_id, request_id, action, detail) VALUES ('sg-00000001', 'acc-00000001', 1, 0, '', '', 'ModifySecurityGroupAttribute', '{"Before":{"Name":"web"},"After":{"Name":"www","Description":""}}')`,
		`INSERT INTO group_history (group_id, account_id, version, time, secret_id, request_id, action, detail) VALUES ('sg-00000001', 'acc-00000001', 2, 0, '', '', 'CreateSecurityGroupPolicies', '{"Before":`+fmt.Sprintf(set, 1)+`,"After":`+fmt.Sprintf(set, 2)+`}')`,
	)
	for _, q := range stmts {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if found := secretsInFiles(t, path, creds); len(found["palisade.db"]) != len(creds) {
		t.Fatalf("the plain-text store holds %d of the %d SecretKeys, want all", len(found["palisade.db"]), len(creds))
	}

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, path+".key", 0o600)
	assertNoSecretInFiles(t, path, creds)
	for _, c := range creds {
		if got, err := getCredential(s, c.SecretID); err != nil || got.SecretKey != c.SecretKey {
			t.Errorf("GetCredential(%s) after sealing = %+v, %v; want key %s", c.SecretID, got, err, c.SecretKey)
		}
	}
	var hs []store.History
	if err := s.View(ctx, func(tx store.Tx) error {
		hs, err = tx.ListHistory(ctx, "sg-00000001")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(hs) != 3 || hs[0].Snapshot != fmt.Sprintf(set, 1) || hs[1].Snapshot != "" || hs[2].Snapshot != fmt.Sprintf(set, 2) {
		t.Errorf("history after migration = %+v; want the two policy sets as snapshots", hs)
	}
	s.Close()
	assertNoSecretInFiles(t, path, creds)

	// Every stored key is sealed under the key file's key.
	k, err := masterkey.Load(path + ".key")
	if err != nil {
		t.Fatal(err)
	}
	raw, err = sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT secret_key FROM credentials`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if id, ok := masterkey.KeyID(v); !ok || id != k.ID() {
			t.Errorf("stored secret key %q is not sealed under %s", v, k.ID())
		}
		n++
	}
	if n != len(creds) {
		t.Errorf("%d stored credentials, want %d", n, len(creds))
	}
}

// TestDiskFull fills a store capped at a few pages: the write that does not
// fit fails with an error and changes nothing, every earlier write stays
// readable, and reads go on.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	s, err := sqlite.OpenWith(path, sqlite.Options{MaxPageCount: 120})
	if err != nil {
		t.Fatal(err)
	}
	creds := addCredentials(t, s, "acc-00000001", 1)
	detail := strings.Repeat("x", 8000)
	written := 0
	var full error
	write := func(v uint64) error {
		return s.Tx(ctx, func(tx store.Tx) error {
			// Two rows per transaction: a failure must take both back.
			for i := range 2 {
				if err := tx.AddHistory(ctx, store.History{GroupID: "sg-00000001", Version: v, Time: secureT0, Action: fmt.Sprint(i), Detail: detail}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for v := uint64(1); v <= 500; v++ {
		if err := write(v); err != nil {
			full = err
			break
		}
		written++
	}
	if full == nil || written < 3 {
		t.Fatalf("after %d writes, error %v; want the store to fill up after a few", written, full)
	}
	if !strings.Contains(full.Error(), "full") {
		t.Errorf("write to a full store = %v, want SQLITE_FULL", full)
	}
	check := func(s store.Store) {
		t.Helper()
		var hs []store.History
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			hs, err = tx.ListHistory(ctx, "sg-00000001")
			return err
		})
		if err != nil {
			t.Fatalf("read a full store: %v", err)
		}
		if len(hs) != 2*written {
			t.Errorf("%d history rows, want the %d written before the store filled up", len(hs), 2*written)
		}
		for _, h := range hs {
			if h.Detail != detail || h.Version > uint64(written) {
				t.Errorf("history row %d (version %d) changed", h.Seq, h.Version)
				break
			}
		}
		if c, err := getCredential(s, creds[0].SecretID); err != nil || c.SecretKey != creds[0].SecretKey {
			t.Errorf("GetCredential in a full store = %+v, %v", c, err)
		}
	}
	check(s)
	// The next write fails too, and reads still answer.
	if err := write(uint64(written) + 1); err == nil {
		t.Errorf("a second write to the full store succeeded")
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Without the cap the same data is there, and the file is sound.
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q, %v", ok, err)
	}
}
