package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/history"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// DefaultHistoryRetention is how many versions of a group's policy set its
// history keeps by default.
const DefaultHistoryRetention = 1000

// PolicyVersion returns a group's policy set as it was at version, rebuilt
// from its history. A version the history no longer holds (or never held)
// is a KindNotFound *Error.
func (s *Service) PolicyVersion(ctx context.Context, c Caller, groupID string, version uint64) (policy.PolicySet, error) {
	if err := s.base.Tenant(c, false); err != nil {
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
func (s *Service) recordPolicies(ctx context.Context, tx store.Tx, c Caller, groupID, action string, restoredFrom uint64, before, after policy.PolicySet) error {
	detail, err := json.Marshal(history.Diff{Changes: history.Changes(before, after), RestoredFrom: restoredFrom})
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

// HistoryEntry is one change to a security group as its history lists
// it: the version after the change, when, by which credential, in which
// request and action, and the readable diff (see history.Line).
// RestoredFrom is the version a restore re-applied, zero otherwise.
type HistoryEntry struct {
	Version      uint64
	Time         time.Time
	SecretID     string
	RequestID    string
	Action       string
	RestoredFrom uint64
	Diff         []history.Line
}

// HistoryQuery selects part of a group's history, newest first: the
// changes that left the policy set at Version when it is given (a
// version's policy write and the attribute changes after it), a Page of
// them.
type HistoryQuery struct {
	SecurityGroupID string
	Version         *uint64
	Page            Page
}

// DescribeSecurityGroupHistory returns a page of a group's history,
// newest change first, and the number of changes retained. Read-only
// credentials may read it; another account's group is not found. A row
// that cannot be read is an error naming it.
func (s *Service) DescribeSecurityGroupHistory(ctx context.Context, c Caller, q HistoryQuery) ([]HistoryEntry, int, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, 0, err
	}
	offset, limit, err := kernel.Bounds(q.Page)
	if err != nil {
		return nil, 0, err
	}
	var out []HistoryEntry
	var total int
	err = s.view(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", q.SecurityGroupID)
		if err != nil {
			return err
		}
		rows, err := tx.ListHistory(ctx, g.ID)
		if err != nil {
			return err
		}
		if q.Version != nil {
			var match []store.History
			for _, h := range rows {
				if h.Version == *q.Version {
					match = append(match, h)
				}
			}
			rows = match
		}
		total = len(rows)
		for i := len(rows) - 1 - offset; i >= 0 && len(out) < limit; i-- {
			h := rows[i]
			diff, err := history.Lines(h)
			if err != nil {
				return fmt.Errorf("history of %s: %w", g.ID, err)
			}
			var d history.Diff
			if err := json.Unmarshal([]byte(h.Detail), &d); err != nil {
				return fmt.Errorf("history of %s: row %d: %w", g.ID, h.Seq, err)
			}
			out = append(out, HistoryEntry{Version: h.Version, Time: h.Time, SecretID: h.SecretID, RequestID: h.RequestID,
				Action: h.Action, RestoredFrom: d.RestoredFrom, Diff: diff})
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// RestoreInput is RestoreSecurityGroupVersion's request: the group, the
// retained version to re-apply and, when given, the version the group
// must be at now.
type RestoreInput struct {
	SecurityGroupID string
	Version         uint64
	CurrentVersion  *uint64
}

// RestoreSecurityGroupVersion re-applies a retained version's policy set,
// exactly as it was (order, text and modify times), as a new version
// recorded in the history as a restore of that version. The policy set is
// checked as any write's is (quotas, references still existing); a version
// the history no longer holds is a KindNotFound *Error; a CurrentVersion
// other than the group's is a KindVersionMismatch *Error, nothing changed.
func (s *Service) RestoreSecurityGroupVersion(ctx context.Context, c Caller, in RestoreInput) (WriteResult, error) {
	if err := s.base.Tenant(c, true); err != nil {
		return WriteResult{}, err
	}
	old, err := s.PolicyVersion(ctx, c, in.SecurityGroupID, in.Version)
	if err != nil {
		return WriteResult{}, err
	}
	return s.writePoliciesFrom(ctx, c, in.SecurityGroupID, "RestoreSecurityGroupVersion", in.CurrentVersion, in.Version,
		func(set *policy.PolicySet) ([]written, error) {
			set.Ingress, set.Egress = old.Clone().Ingress, old.Clone().Egress
			return nil, nil
		})
}
