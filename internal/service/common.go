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
	return fromStore(s.st.Tx(ctx, fn))
}
