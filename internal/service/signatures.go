package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// signaturePruneEvery is how often a SignatureLog deletes the signatures
// that expired.
const signaturePruneEvery = 30 * time.Second

// SignatureLog remembers accepted request signatures in the store, where
// every replica of the server sees them, so that a request accepted by one
// replica is refused as a replay by every other. It deletes the expired
// ones every signaturePruneEvery, in the transaction of a request. Its
// transactions do not wait for the writers of the desired state.
type SignatureLog struct {
	st  store.Store
	now func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
}

// NewSignatureLog returns a SignatureLog over st; now is the clock
// (default time.Now).
func NewSignatureLog(st store.Store, now func() time.Time) *SignatureLog {
	if now == nil {
		now = time.Now
	}
	return &SignatureLog{st: st, now: now}
}

// Urgent returns ctx marked so that the record Remember makes with it is
// stored before the agents' reports waiting to be: the request of a person
// or a program waits for it.
func Urgent(ctx context.Context) context.Context { return store.Urgent(ctx) }

// RememberedSignature is what the log holds of a signature: the action it
// was first accepted for and whether that action writes.
type RememberedSignature struct {
	Action string
	Write  bool
}

// Remember records sig, accepted for action (a write or not) and safe to
// forget after expires, unless another replica or an earlier request
// recorded it first. It returns the first record and whether this one is
// it.
func (l *SignatureLog) Remember(ctx context.Context, sig, action string, write bool, expires time.Time) (RememberedSignature, bool, error) {
	now := l.now()
	prune := false
	l.mu.Lock()
	if now.Sub(l.lastPrune) >= signaturePruneEvery {
		l.lastPrune, prune = now, true
	}
	l.mu.Unlock()
	var first store.Signature
	var fresh bool
	err := l.st.Report(ctx, func(tx store.Tx) error {
		if prune {
			if _, err := tx.PruneSignatures(ctx, now); err != nil {
				return err
			}
		}
		var err error
		first, fresh, err = tx.RememberSignature(ctx, store.Signature{Signature: sig, Action: action, Write: write, Expires: expires})
		return err
	})
	if err != nil {
		return RememberedSignature{}, false, fmt.Errorf("remember signature: %w", err)
	}
	return RememberedSignature{Action: first.Action, Write: first.Write}, fresh, nil
}
