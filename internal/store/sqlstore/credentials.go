package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/palisade-sg/palisade/internal/store/masterkey"
)

// SealCredentials seals, in one transaction, every SecretKey stored in plain
// text (by a store created before encryption at rest), as decided by
// sealed, and returns how many it sealed. Stored keys already sealed are
// left as they are.
func (db *DB) SealCredentials(ctx context.Context, sealed func(stored string) bool) (int, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("seal credentials: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT secret_id, secret_key FROM credentials ORDER BY secret_id`)
	if err != nil {
		return 0, fmt.Errorf("seal credentials: %w", err)
	}
	type plain struct{ id, key string }
	var todo []plain
	for rows.Next() {
		var p plain
		if err := rows.Scan(&p.id, &p.key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("seal credentials: %w", err)
		}
		if !sealed(p.key) {
			todo = append(todo, p)
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("seal credentials: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("seal credentials: %w", err)
	}
	for _, p := range todo {
		s, err := db.secrets.Seal(p.id, p.key)
		if err != nil {
			return 0, fmt.Errorf("seal credential %s: %w", p.id, err)
		}
		if _, err := tx.ExecContext(ctx, db.rebind(`UPDATE credentials SET secret_key = ? WHERE secret_id = ?`), s, p.id); err != nil {
			return 0, fmt.Errorf("seal credential %s: %w", p.id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("seal credentials: %w", err)
	}
	return len(todo), nil
}

// LoadKey reads the master key file, creating it when it does not exist and
// no stored SecretKey is sealed under an earlier key. It warns when stored
// SecretKeys are sealed under another key than the file's: they will fail
// when read.
func LoadKey(ctx context.Context, w Conn, keyFile string, log *slog.Logger) (*masterkey.Key, error) {
	sealed, keyIDs, err := sealedCredentials(ctx, w)
	if err != nil {
		return nil, err
	}
	k, err := masterkey.Load(keyFile)
	if err == nil {
		if fi, err := os.Stat(keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(keyFile, fi.Mode().Perm()&0o700); err != nil {
				log.Warn("the master key file is readable by others and its mode cannot be tightened", "file", keyFile, "mode", fi.Mode().Perm().String(), "err", err)
			} else {
				log.Warn("tightened the mode of the master key file", "file", keyFile, "was", fi.Mode().Perm().String())
			}
		}
		for id, n := range keyIDs {
			if id != k.ID() {
				log.Warn("secret keys are sealed under another master key: those credentials cannot be used (wrong --master-key-file?)",
					"file", keyFile, "key_id", k.ID(), "sealed_under", id, "credentials", n)
			}
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if len(sealed) > 0 {
		return nil, fmt.Errorf("master key file %s does not exist, but the store holds %d secret key(s) sealed under a master key (%s…): restore the key file, or give its path with --master-key-file", keyFile, len(sealed), sealed[0])
	}
	k, err = masterkey.Create(keyFile, nil)
	if err != nil {
		return nil, err
	}
	log.Warn("created a new master key: back it up with the database, without it no credential can be read", "file", keyFile, "key_id", k.ID())
	return k, nil
}

// sealedCredentials returns the SecretIds of the credentials whose
// SecretKey is sealed, and how many are sealed under each master key id.
func sealedCredentials(ctx context.Context, w Conn) ([]string, map[string]int, error) {
	rows, err := w.QueryContext(ctx, `SELECT secret_id, secret_key FROM credentials ORDER BY secret_id`)
	if err != nil {
		return nil, nil, fmt.Errorf("read credentials: %w", err)
	}
	defer rows.Close()
	var sealed []string
	keyIDs := map[string]int{}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, nil, fmt.Errorf("read credentials: %w", err)
		}
		if !masterkey.Sealed(key) {
			continue
		}
		sealed = append(sealed, id)
		kid, ok := masterkey.KeyID(key)
		if !ok {
			kid = "an unknown format"
		}
		keyIDs[kid]++
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read credentials: %w", err)
	}
	return sealed, keyIDs, nil
}
