package service

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

const maxAddresses = 10 // private IPv4 or IPv6 addresses of one instance

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

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

func (s *Service) effectiveQuotas(ctx context.Context, tx store.Tx, accountID string) (Quotas, error) {
	return s.base.EffectiveQuotas(ctx, tx, accountID)
}

func (s *Service) view(ctx context.Context, fn func(store.Tx) error) error {
	return s.st.View(ctx, fn)
}

// update runs fn in one write transaction; the simulation cache learns what
// it changed.
func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	return s.cache.update(ctx, s.st, fn)
}

// noneLeft reports whether filters narrowed a set of values to nothing, so
// that nothing can match.
func noneLeft[T any](vs []T) bool { return vs != nil && len(vs) == 0 }

// projectIDs parses the values of a project-id filter.
func projectIDs(values []string) ([]int64, error) {
	out := make([]int64, 0, len(values))
	for _, v := range values {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fieldError("Filters.Values", v, policy.Malformed, "project-id must be a number")
		}
		out = append(out, n)
	}
	return out, nil
}

// appendNew appends id to ids unless it is there.
func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
