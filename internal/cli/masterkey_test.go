package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/store/masterkey"
)

// TestMasterKeyFile runs the operator commands and the server on one store
// with --master-key-file: the key is created once, 0600, where the flag says;
// the server started with it reads the credentials, without it (no key
// beside the database) it refuses to start, and with another key every
// request fails rather than be checked against garbage.
func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "palisade.db")
	key := filepath.Join(dir, "secrets", "master.key")
	if err := os.Mkdir(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	var out, stderr strings.Builder
	if err := Run(context.Background(), []string{"admin", "account", "create", "alice", "--db", dsn, "--master-key-file", key, "-o", "json"}, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(out.String()), &m); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if !strings.Contains(stderr.String(), "created a new master key") || !strings.Contains(stderr.String(), key) {
		t.Errorf("the first admin command said %q on stderr, want a warning that it created %s", stderr.String(), key)
	}
	id, secret := m["SecretId"], m["SecretKey"]
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file: %v, %v; want mode 0600", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "palisade.db.key")); err == nil {
		t.Errorf("a key was created beside the database although --master-key-file names another")
	}
	b, err := os.ReadFile(filepath.Join(dir, "palisade.db"))
	if err != nil || strings.Contains(string(b), secret) {
		t.Errorf("the database holds the SecretKey in plain text (%v)", err)
	}

	call := func(addr string) error {
		_, err := client.New(addr, id, secret, "ap-guangzhou").DescribeSecurityGroupLimits(context.Background(), nil)
		return err
	}
	addr, _, stop := startServe(t, ServeConfig{DSN: dsn, MasterKeyFile: key})
	if err := call(addr); err != nil {
		t.Errorf("a request with the credential, the server holding its key: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	err = Serve(context.Background(), ServeConfig{DSN: dsn, Listen: "127.0.0.1:0"}, &strings.Builder{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "palisade.db.key does not exist") {
		t.Errorf("serve without the key = %v, want an error naming the missing key file", err)
	}

	other := filepath.Join(dir, "other.key")
	if _, err := masterkey.Create(other, nil); err != nil {
		t.Fatal(err)
	}
	addr, _, stop = startServe(t, ServeConfig{DSN: dsn, MasterKeyFile: other})
	defer stop()
	var ce *client.Error
	if err := call(addr); !errors.As(err, &ce) || ce.Code != "InternalError" {
		t.Errorf("a request on a server holding another master key = %v, want InternalError", err)
	}
}

func TestServeRejectsNegativeRetention(t *testing.T) {
	err := Serve(context.Background(), ServeConfig{DSN: "sqlite:" + filepath.Join(t.TempDir(), "p.db"), HistoryRetention: -1}, &strings.Builder{}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "history retention -1") {
		t.Errorf("Serve with retention -1 = %v", err)
	}
}

// TestMasterKeyFileFromEnv: PALISADE_MASTER_KEY_FILE names the key file
// when --master-key-file is not given; the flag wins over it.
func TestMasterKeyFileFromEnv(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "palisade.db")
	fromEnv, fromFlag := filepath.Join(dir, "env.key"), filepath.Join(dir, "flag.key")
	getenv := func(name string) (string, bool) {
		if name == "PALISADE_MASTER_KEY_FILE" {
			return fromEnv, true
		}
		return "", false
	}
	tests := []struct {
		name  string
		args  []string
		wants string // the key file created
	}{
		{"env", nil, fromEnv},
		{"flag over env", []string{"--master-key-file", fromFlag}, fromFlag},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := strings.Replace(dsn, "palisade.db", fmt.Sprintf("p%d.db", i), 1)
			args := append([]string{"admin", "account", "create", "alice", "--db", db}, tt.args...)
			var out, stderr strings.Builder
			if err := RunEnv(context.Background(), args, getenv, strings.NewReader(""), &out, &stderr); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr.String(), "created a new master key") || !strings.Contains(stderr.String(), tt.wants) {
				t.Errorf("stderr %q, want a master key created at %s", stderr.String(), tt.wants)
			}
			if _, err := os.Stat(strings.TrimPrefix(db, "sqlite:") + ".key"); err == nil {
				t.Errorf("a key was created beside the database")
			}
			if err := os.Remove(tt.wants); err != nil {
				t.Errorf("the key file %s: %v", tt.wants, err)
			}
		})
	}
}
