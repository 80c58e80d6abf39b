package service

import (
	"context"

	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

func (s *Service) loadGroup(ctx context.Context, tx store.Tx, c Caller, field, id string) (store.Group, error) {
	return kernel.LoadOwnGroup(ctx, tx, c, field, id)
}

func (s *Service) view(ctx context.Context, fn func(store.Tx) error) error {
	return s.st.View(ctx, fn)
}

// update runs fn in one write transaction, which the store may run again on
// a lock conflict (fn must not accumulate state across runs). The store
// records what it changed in its feed, where the simulation cache reads it;
// the store's errors of a race become domain errors.
func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	if flushing(ctx) {
		inner := fn
		fn = func(tx store.Tx) error {
			if err := inner(tx); err != nil {
				return err
			}
			tx.FlushConnections()
			return nil
		}
	}
	return fromStore(s.st.Tx(ctx, fn))
}

// flushKey marks a context whose writes ask for connections to be cut.
type flushKey struct{}

// WithFlushConnections returns ctx with its writes asking the agents to
// cut the existing connections that the rules they make no longer admit
// (by default, as in every cloud, established connections live on).
func WithFlushConnections(ctx context.Context) context.Context {
	return context.WithValue(ctx, flushKey{}, true)
}

func flushing(ctx context.Context) bool {
	v, _ := ctx.Value(flushKey{}).(bool)
	return v
}
