package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/palisade-sg/palisade/internal/history"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// DefaultHistoryRetention is how many versions of a group's policy set its
// history keeps by default.
const DefaultHistoryRetention = 1000

// PolicyVersion returns a group's policy set as it was at version, rebuilt
// from its history. A version the history no longer holds (or never held)
// is a KindNotFound *Error.
func (s *Service) PolicyVersion(ctx context.Context, c Caller, groupID string, version uint64) (policy.PolicySet, error) {
	if err := s.tenant(c, false); err != nil {
		return policy.PolicySet{}, err
	}
	var out policy.PolicySet
	err := s.view(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", groupID)
		if err != nil {
			return err
		}
		rows, err := tx.ListHistory(ctx, g.ID)
		if err != nil {
			return err
		}
		out, err = history.Rebuild(rows, version)
		if errors.Is(err, history.ErrVersionNotRetained) {
			return &Error{Kind: KindNotFound, Resource: ResourceSecurityGroup, ID: g.ID, Field: "Version",
				Message: fmt.Sprintf("version %d of %s is not in its history: %v", version, g.ID, err)}
		}
		if err != nil {
			return fmt.Errorf("history of %s: %w", g.ID, err)
		}
		return nil
	})
	return out, err
}

// recordPolicies records a write to a group's policy set: the diff from
// before to after and, every few versions, a snapshot of after, pruning
// then the rows older than the retention needs.
func (s *Service) recordPolicies(ctx context.Context, tx store.Tx, c Caller, groupID, action string, before, after policy.PolicySet) error {
	detail, err := json.Marshal(history.Diff{Changes: history.Changes(before, after)})
	if err != nil {
		return fmt.Errorf("history of %s: %w", groupID, err)
	}
	h := store.History{GroupID: groupID, AccountID: c.AccountID, Version: after.Version, Time: s.now(),
		SecretID: c.SecretID, RequestID: c.RequestID, Action: action, Detail: string(detail)}
	snap := after.Version%uint64(min(history.SnapshotEvery, s.retention)) == 0
	if snap {
		if h.Snapshot, err = history.Snapshot(after); err != nil {
			return fmt.Errorf("history of %s: %w", groupID, err)
		}
	}
	if err := tx.AddHistory(ctx, h); err != nil {
		return err
	}
	if retain := uint64(s.retention); snap && after.Version > retain {
		if _, err := tx.PruneHistory(ctx, groupID, after.Version-retain+1); err != nil {
			return err
		}
	}
	return nil
}
