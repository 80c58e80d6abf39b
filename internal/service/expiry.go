package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// ActionExpirePolicies is the history action of the removal of expired
// policies by the service itself, and ExpirySecretID the SecretId its
// history rows carry: no credential made the change.
const (
	ActionExpirePolicies = "ExpirePolicies"
	ExpirySecretID       = "palisade"
)

// DefaultSweepInterval is how often RunExpirySweeper looks for expired
// policies by default. Between sweeps an expired policy is already in no
// effective rule list (resolve passes it over); the sweep makes its
// removal a recorded version.
const DefaultSweepInterval = 10 * time.Second

// errNothingExpired stops a sweep's write to a group in which a concurrent
// write already removed the expired policies.
var errNothingExpired = errors.New("nothing expired")

// SweepExpired removes every policy expired at the service clock's now
// from its group: one write per group, a new version recorded in the
// group's history with action ExpirePolicies by ExpirySecretID. It returns
// how many policies it removed. A group whose write fails is left for the
// next sweep; the errors of every such group are returned together.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	now := s.now()
	var groups []store.Group
	err := s.view(ctx, func(tx store.Tx) error {
		all, _, err := tx.ListGroups(ctx, store.GroupFilter{})
		for _, g := range all {
			if expiredIn(g.Policies, now) > 0 {
				groups = append(groups, g)
			}
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep expired policies: %w", err)
	}
	removed := 0
	var errs []error
	for _, g := range groups {
		c := Caller{AccountID: g.AccountID, SecretID: ExpirySecretID, Role: RoleAdmin, Region: g.Region,
			RequestID: "expiry-" + now.UTC().Format("20060102T150405.000000Z")}
		n := 0
		_, err := s.writePolicies(ctx, c, g.ID, ActionExpirePolicies, nil, func(set *policy.PolicySet) ([]written, error) {
			n = expiredIn(*set, now)
			if n == 0 {
				return nil, errNothingExpired
			}
			for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
				var keep []policy.Policy
				for _, p := range set.List(d) {
					if p.ExpiresAt.IsZero() || now.Before(p.ExpiresAt) {
						keep = append(keep, p)
					}
				}
				set.SetList(d, keep)
			}
			return nil, nil
		})
		switch {
		case errors.Is(err, errNothingExpired):
		case err != nil:
			errs = append(errs, fmt.Errorf("expire policies of %s: %w", g.ID, err))
		default:
			removed += n
		}
	}
	return removed, errors.Join(errs...)
}

// expiredIn counts the policies of set expired at now.
func expiredIn(set policy.PolicySet, now time.Time) int {
	n := 0
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		for _, p := range set.List(d) {
			if !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt) {
				n++
			}
		}
	}
	return n
}

// RunExpirySweeper runs SweepExpired, then SweepUnconfirmed, every
// interval (DefaultSweepInterval when zero or less) until ctx is done,
// logging what each sweep removed or reverted and any failure.
func (s *Service) RunExpirySweeper(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.SweepExpired(ctx)
		if n > 0 {
			s.log.Info("expired policies removed", "policies", n)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("expiry sweep", "err", err)
		}
		if _, err := s.SweepUnconfirmed(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("unconfirmed change sweep", "err", err)
		}
	}
}
