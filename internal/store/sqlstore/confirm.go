package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

const confirmColumns = `group_id, account_id, region, version, restore_version, deadline, secret_id, request_id`

func (t *tx) SetPendingConfirmation(ctx context.Context, p store.PendingConfirmation) error {
	if _, err := t.report(ctx, `DELETE FROM pending_confirmations WHERE group_id = ?`, p.GroupID); err != nil {
		return fmt.Errorf("pending confirmation of %s: %w", p.GroupID, err)
	}
	if _, err := t.report(ctx, `INSERT INTO pending_confirmations (`+confirmColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.GroupID, p.AccountID, p.Region, int64(p.Version), int64(p.RestoreVersion), toMicros(p.Deadline), p.SecretID, p.RequestID); err != nil {
		return fmt.Errorf("pending confirmation of %s: %w", p.GroupID, err)
	}
	return nil
}

func (t *tx) GetPendingConfirmation(ctx context.Context, groupID string) (store.PendingConfirmation, error) {
	list, err := t.confirmations(ctx, `WHERE group_id = ?`, groupID)
	if err != nil {
		return store.PendingConfirmation{}, err
	}
	if len(list) == 0 {
		return store.PendingConfirmation{}, fmt.Errorf("pending confirmation of %s: %w", groupID, store.ErrNotFound)
	}
	return list[0], nil
}

func (t *tx) DeletePendingConfirmation(ctx context.Context, groupID string) error {
	res, err := t.report(ctx, `DELETE FROM pending_confirmations WHERE group_id = ?`, groupID)
	if err != nil {
		return fmt.Errorf("pending confirmation of %s: %w", groupID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("pending confirmation of %s: %w", groupID, err)
	} else if n == 0 {
		return fmt.Errorf("pending confirmation of %s: %w", groupID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) ListDueConfirmations(ctx context.Context, now time.Time) ([]store.PendingConfirmation, error) {
	return t.confirmations(ctx, `WHERE deadline <= ? ORDER BY deadline, group_id`, toMicros(now))
}

func (t *tx) confirmations(ctx context.Context, where string, args ...any) ([]store.PendingConfirmation, error) {
	rows, err := t.query(ctx, `SELECT `+confirmColumns+` FROM pending_confirmations `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("pending confirmations: %w", err)
	}
	defer rows.Close()
	var out []store.PendingConfirmation
	for rows.Next() {
		var p store.PendingConfirmation
		var version, restore, deadline int64
		if err := rows.Scan(&p.GroupID, &p.AccountID, &p.Region, &version, &restore, &deadline, &p.SecretID, &p.RequestID); err != nil {
			return nil, fmt.Errorf("pending confirmations: %w", err)
		}
		if version < 1 || restore < 0 {
			return nil, fmt.Errorf("pending confirmation of %s: stored versions %d and %d", p.GroupID, version, restore)
		}
		p.Version, p.RestoreVersion, p.Deadline = uint64(version), uint64(restore), fromMicros(deadline)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending confirmations: %w", err)
	}
	return out, nil
}
