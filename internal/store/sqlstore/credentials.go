package sqlstore

import (
	"context"
	"fmt"
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
