package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// ActionRevertUnconfirmed is the history action of the restore the
// service makes by itself of a policy write that was not confirmed in time
// (its rows carry ExpirySecretID).
const ActionRevertUnconfirmed = "RevertUnconfirmedChange"

// ConfirmInput is ConfirmSecurityGroupChange's request: the group and the
// version, written with ConfirmWithin, that is confirmed.
type ConfirmInput struct {
	SecurityGroupID string
	Version         uint64
}

// ConfirmSecurityGroupChange confirms a policy write made with
// ConfirmWithin: the group keeps it. A group with no write awaiting
// confirmation is a KindNotFound *Error; a Version other than the one
// awaiting it (a later write with ConfirmWithin replaced it) a
// KindVersionMismatch one. Nothing else changes.
func (s *Service) ConfirmSecurityGroupChange(ctx context.Context, c Caller, in ConfirmInput) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	if err := kernel.CheckID("SecurityGroupId", policy.PrefixSecurityGroup, in.SecurityGroupID); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", in.SecurityGroupID)
		if err != nil {
			return err
		}
		p, err := tx.GetPendingConfirmation(ctx, g.ID)
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Kind: KindNotFound, Resource: ResourceSecurityGroup, ID: g.ID, Field: "Version",
				Message: fmt.Sprintf("no change of %s awaits confirmation (it was confirmed, or reverted when its time ran out)", g.ID)}
		}
		if err != nil {
			return err
		}
		if p.Version != in.Version {
			return &Error{Kind: KindVersionMismatch, Resource: ResourceSecurityGroup, ID: g.ID, Field: "Version",
				Message: fmt.Sprintf("version %d of %s does not await confirmation; version %d does, until %s", in.Version, g.ID, p.Version, p.Deadline.UTC().Format("2006-01-02T15:04:05Z"))}
		}
		return tx.DeletePendingConfirmation(ctx, g.ID)
	})
}

// revertKey marks the context of a revert by the sweeper, carrying the
// pending confirmation it reverts.
type revertKey struct{}

// errConfirmed stops a revert whose pending confirmation was confirmed,
// or replaced, since the sweep read it.
var errConfirmed = errors.New("confirmed meanwhile")

// afterPolicyWrite runs in a policy write's transaction once the group is
// written at version: a revert by the sweeper removes the pending
// confirmation it reverts (and is abandoned if it changed meanwhile); a
// write with ConfirmWithin records its own, keeping the version to restore
// of an earlier one still pending. It returns the confirmation deadline.
func (s *Service) afterPolicyWrite(ctx context.Context, tx store.Tx, c Caller, groupID string, previous, version uint64) (WriteResult, error) {
	if p, ok := ctx.Value(revertKey{}).(store.PendingConfirmation); ok {
		cur, err := tx.GetPendingConfirmation(ctx, groupID)
		if errors.Is(err, store.ErrNotFound) || err == nil && cur != p {
			return WriteResult{}, errConfirmed
		}
		if err != nil {
			return WriteResult{}, err
		}
		return WriteResult{}, tx.DeletePendingConfirmation(ctx, groupID)
	}
	d := guardOf(ctx).ConfirmWithin
	if d <= 0 {
		return WriteResult{}, nil
	}
	restore := previous
	switch p, err := tx.GetPendingConfirmation(ctx, groupID); {
	case err == nil:
		restore = p.RestoreVersion
	case !errors.Is(err, store.ErrNotFound):
		return WriteResult{}, err
	}
	by := s.now().Add(d)
	err := tx.SetPendingConfirmation(ctx, store.PendingConfirmation{GroupID: groupID, AccountID: c.AccountID, Region: c.Region,
		Version: version, RestoreVersion: restore, Deadline: by, SecretID: c.SecretID, RequestID: c.RequestID})
	return WriteResult{ConfirmBy: by}, err
}

// SweepUnconfirmed restores, for every policy write made with
// ConfirmWithin whose deadline has passed at the service clock's now
// without confirmation, the version before it, as a new version recorded
// in the group's history with action RevertUnconfirmedChange by
// ExpirySecretID (later writes to the group are undone with it). It
// returns how many groups it reverted. A group deleted since has its
// pending confirmation dropped; a revert that fails is retried at the next
// sweep, and the errors are returned together.
func (s *Service) SweepUnconfirmed(ctx context.Context) (int, error) {
	now := s.now()
	var due []store.PendingConfirmation
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		due, err = tx.ListDueConfirmations(ctx, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep unconfirmed changes: %w", err)
	}
	reverted := 0
	var errs []error
	for _, p := range due {
		c := Caller{AccountID: p.AccountID, SecretID: ExpirySecretID, Role: RoleAdmin, Region: p.Region,
			RequestID: "revert-" + now.UTC().Format("20060102T150405.000000Z")}
		old, err := s.PolicyVersion(ctx, c, p.GroupID, p.RestoreVersion)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Kind == KindNotFound && e.Resource == ResourceSecurityGroup && e.ID == p.GroupID {
				// The group is gone: nothing to revert.
				err = s.update(ctx, func(tx store.Tx) error {
					if err := tx.DeletePendingConfirmation(ctx, p.GroupID); err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return nil
				})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("revert %s to version %d: %w", p.GroupID, p.RestoreVersion, err))
			}
			continue
		}
		_, err = s.writePoliciesFrom(context.WithValue(ctx, revertKey{}, p), c, p.GroupID, ActionRevertUnconfirmed, nil, p.RestoreVersion,
			func(set *policy.PolicySet) ([]written, error) {
				set.Ingress, set.Egress = old.Clone().Ingress, old.Clone().Egress
				return nil, nil
			})
		switch {
		case errors.Is(err, errConfirmed):
		case err != nil:
			errs = append(errs, fmt.Errorf("revert %s to version %d: %w", p.GroupID, p.RestoreVersion, err))
		default:
			reverted++
			s.log.Info("unconfirmed change reverted", "group", p.GroupID, "version", p.Version, "restored", p.RestoreVersion)
		}
	}
	return reverted, errors.Join(errs...)
}
