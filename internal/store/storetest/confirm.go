package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// testPendingConfirmations: a group's pending confirmation is set,
// replaced, listed once due and deleted, and none of it is a change.
func testPendingConfirmations(t *testing.T, s store.Store) {
	ctx := context.Background()
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetPendingConfirmation(ctx, "sg-00000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetPendingConfirmation before any: %v, want ErrNotFound", err)
		}
		return nil
	})
	rev := revision(t, s)
	a := store.PendingConfirmation{GroupID: "sg-00000001", AccountID: "acc-00000001", Region: "ap-guangzhou", Version: 4, RestoreVersion: 3,
		Deadline: t0.Add(time.Minute), SecretID: "AKID1", RequestID: "req-1"}
	b := store.PendingConfirmation{GroupID: "sg-00000002", AccountID: "acc-00000001", Region: "ap-guangzhou", Version: 2, RestoreVersion: 1,
		Deadline: t0.Add(30 * time.Second), SecretID: "AKID1", RequestID: "req-2"}
	tx(t, s, func(tx store.Tx) error {
		if err := tx.SetPendingConfirmation(ctx, a); err != nil {
			return err
		}
		return tx.SetPendingConfirmation(ctx, b)
	})
	a.Version, a.Deadline, a.RequestID = 5, t0.Add(2*time.Minute), "req-3"
	tx(t, s, func(tx store.Tx) error { return tx.SetPendingConfirmation(ctx, a) })
	if got := revision(t, s); got != rev {
		t.Errorf("revision after pending confirmations = %d, want %d: they are not changes", got, rev)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetPendingConfirmation(ctx, a.GroupID)
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("GetPendingConfirmation = %+v, %v, want %+v", got, err, a)
		}
		for _, c := range []struct {
			at   time.Time
			want []string
		}{{t0, nil}, {t0.Add(30 * time.Second), []string{b.GroupID}}, {t0.Add(time.Hour), []string{b.GroupID, a.GroupID}}} {
			due, err := tx.ListDueConfirmations(ctx, c.at)
			var ids []string
			for _, p := range due {
				ids = append(ids, p.GroupID)
			}
			if err != nil || !reflect.DeepEqual(ids, c.want) {
				t.Errorf("ListDueConfirmations(%v) = %v, %v, want %v", c.at, ids, err, c.want)
			}
		}
		return nil
	})
	tx(t, s, func(tx store.Tx) error { return tx.DeletePendingConfirmation(ctx, b.GroupID) })
	tx(t, s, func(tx store.Tx) error {
		if err := tx.DeletePendingConfirmation(ctx, b.GroupID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeletePendingConfirmation twice: %v, want ErrNotFound", err)
		}
		return nil
	})
}
