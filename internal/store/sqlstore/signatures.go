package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// Accepted request signatures. Like hosts' reports, these writes go through
// report: they commit no feed entry.

const signatureQuery = `SELECT signature, action, is_write, expires FROM request_signatures WHERE signature = ?`

const rememberSignatureQuery = `INSERT INTO request_signatures (signature, action, is_write, expires) VALUES (?, ?, ?, ?) ON CONFLICT (signature) DO NOTHING`

func (t *tx) RememberSignature(ctx context.Context, s store.Signature) (store.Signature, bool, error) {
	if s.Signature == "" || s.Action == "" {
		return store.Signature{}, false, fmt.Errorf("remember signature %q of action %q: both are required", s.Signature, s.Action)
	}
	res, err := t.report(ctx, rememberSignatureQuery, s.Signature, s.Action, boolInt(s.Write), toMicros(s.Expires))
	if err != nil {
		return store.Signature{}, false, fmt.Errorf("remember signature %s: %w", s.Signature, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.Signature{}, false, fmt.Errorf("remember signature %s: %w", s.Signature, err)
	}
	if n == 1 {
		return s, true, nil
	}
	var first store.Signature
	var write int
	var expires int64
	err = t.row(ctx, signatureQuery, s.Signature).
		Scan(&first.Signature, &first.Action, &write, &expires)
	if err != nil {
		return store.Signature{}, false, notFound(err, "remembered signature", s.Signature)
	}
	switch write {
	case 0, 1:
		first.Write = write == 1
	default:
		return store.Signature{}, false, fmt.Errorf("remembered signature %s: is_write %d is neither 0 nor 1", s.Signature, write)
	}
	first.Expires = fromMicros(expires)
	return first, false, nil
}

func (t *tx) PruneSignatures(ctx context.Context, before time.Time) (int, error) {
	res, err := t.report(ctx, `DELETE FROM request_signatures WHERE expires < ?`, toMicros(before))
	if err != nil {
		return 0, fmt.Errorf("prune signatures: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune signatures: %w", err)
	}
	return int(n), nil
}
