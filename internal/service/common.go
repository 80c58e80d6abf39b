package service

import (
	"context"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/instances"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// The service's short names for the shared kernel (see package kernel).

func (s *Service) randString(alphabet string, n int) (string, error) {
	return s.base.RandString(alphabet, n)
}

func (s *Service) newID(prefix string) (string, error) { return s.base.NewID(prefix) }

func fieldError(field, value string, kind policy.ErrorKind, format string, args ...any) *policy.FieldError {
	return kernel.FieldError(field, value, kind, format, args...)
}

func notFound(resource, id string) *Error { return kernel.NotFound(resource, id) }

func checkName(field, v string, required bool) error { return kernel.CheckName(field, v, required) }

func checkID(field, prefix, id string) error { return kernel.CheckID(field, prefix, id) }

func (s *Service) checkRegion(region string) (Region, error) { return s.base.CheckRegion(region) }

func (s *Service) tenant(c Caller, write bool) error { return s.base.Tenant(c, write) }

func (s *Service) loadInstance(ctx context.Context, tx store.Tx, accountID, region, field, id string) (store.Instance, error) {
	return instances.Load(ctx, tx, accountID, region, field, id)
}

func (s *Service) loadGroup(ctx context.Context, tx store.Tx, c Caller, field, id string) (store.Group, error) {
	return kernel.LoadOwnGroup(ctx, tx, c, field, id)
}

func (s *Service) effectiveQuotas(ctx context.Context, tx store.Tx, accountID string) (Quotas, error) {
	return s.base.EffectiveQuotas(ctx, tx, accountID)
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

// appendNew appends id to ids unless it is there.
func appendNew(ids []string, id string) []string { return kernel.AppendNew(ids, id) }
