package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// The host protocol: what an agent, with its host credential, reads of its
// host's desired state and reports back.

// HostState is a host's desired state (see hoststate.State).
type HostState = hoststate.State

// HostWatch is WatchHostState's answer. Changed: something that may affect
// the host changed after the watched revision, and State is the state now.
// Resync: the watched revision is no longer in the change feed (or is
// ahead of it), and State is the whole state to start again from. Neither:
// nothing that affects the host changed up to Revision, and State is nil.
// Partial (with Changed, when the watch asked for it): State holds only the
// instances that may have changed since the watched revision, Removed the
// instances no longer on the host, and the others are as they were.
type HostWatch struct {
	Revision        int64
	Changed, Resync bool
	Partial         bool
	Removed         []string
	State           *HostState
}

// WatchHostInput is WatchHostState's request: the revision of the state
// the agent holds and how long to wait for a change (at most MaxHostWait).
type WatchHostInput struct {
	Revision int64
	Wait     time.Duration
	// Partial: a change may be answered with the instances that changed
	// only (HostWatch.Partial).
	Partial bool
}

// MaxHostWait is the longest WatchHostState waits.
const MaxHostWait = 60 * time.Second

// HostError is a problem an agent met with one instance ("" for the host).
type HostError = store.HostError

// HostCounter is an agent's cumulative counter of one rule of one instance
// since it started (CounterKey.HostID is the caller's).
type HostCounter = store.HostCounter

// HostReport is ReportHostStatus's request.
type HostReport struct {
	AppliedRevision int64
	AgentStart      time.Time
	Errors          []HostError
	Counters        []HostCounter
}

// watchChanges is the most feed entries one look at the feed reads for a
// watch; more than that since the watched revision is answered as a change.
const watchChanges = 1024

// hostCaller checks that c is a host credential and returns its host.
func hostCaller(c Caller) (string, error) {
	if c.Role != RoleHost {
		return "", kernel.Forbidden("only a host credential reads and reports a host's state; %s is a %s credential", c.SecretID, c.Role)
	}
	if c.HostID == "" {
		return "", kernel.Forbidden("credential %s names no host", c.SecretID)
	}
	return c.HostID, nil
}

// DescribeHostState returns the desired state of the caller's host at the
// store's current revision: every instance on it that is not terminated,
// with its effective rule lists as simulation resolves them, and the
// instances whose lists do not resolve, with the problem, in Unresolvable.
func (s *Service) DescribeHostState(ctx context.Context, c Caller) (HostState, error) {
	host, err := hostCaller(c)
	if err != nil {
		return HostState{}, err
	}
	snap, err := s.currentHost(ctx, host)
	if err != nil {
		return HostState{}, fromStore(err)
	}
	return snap.state, nil
}

// WatchHostState waits until something that may affect the caller's host
// changes after in.Revision, and returns the new state; or, after in.Wait,
// answers that nothing did, up to the revision it returns. A revision the
// change feed no longer holds (or one ahead of it) is answered with Resync
// and the whole state. A change is looked for in the feed: a missed wake-up
// only delays the answer, since each look reads every entry after the last
// revision looked at.
func (s *Service) WatchHostState(ctx context.Context, c Caller, in WatchHostInput) (HostWatch, error) {
	host, err := hostCaller(c)
	if err != nil {
		return HostWatch{}, err
	}
	switch {
	case in.Revision < 0:
		return HostWatch{}, kernel.FieldError("Revision", fmt.Sprint(in.Revision), policy.OutOfRange, "must be 0 or more")
	case in.Wait < 0 || in.Wait > MaxHostWait:
		return HostWatch{}, kernel.FieldError("WaitSeconds", fmt.Sprint(in.Wait.Seconds()), policy.OutOfRange, "must be between 0 and %d", int(MaxHostWait/time.Second))
	}
	snap, err := s.currentHost(ctx, host)
	if err != nil {
		return HostWatch{}, fromStore(err)
	}
	if in.Revision != snap.state.Revision {
		w, err := s.sinceHeld(ctx, snap, in.Revision, in.Partial)
		if err != nil || w.Changed || w.Resync {
			return w, fromStore(err)
		}
	}
	seen := snap.state.Revision
	timeout, cancel := context.WithTimeout(ctx, in.Wait)
	defer cancel()
	for {
		wait := timeout
		var stop context.CancelFunc = func() {}
		if !snap.expires.IsZero() {
			// A policy expiring changes the lists without a write.
			wait, stop = context.WithDeadline(timeout, snap.expires)
		}
		head, err := s.st.Wait(wait, seen)
		expired := err != nil && wait.Err() != nil && timeout.Err() == nil
		stop()
		switch {
		case err != nil && ctx.Err() != nil:
			return HostWatch{}, ctx.Err()
		case expired:
			next, _, err := s.readHostView(ctx, host, nil)
			if err != nil {
				return HostWatch{}, fromStore(err)
			}
			return HostWatch{Revision: next.state.Revision, Changed: true, State: &next.state}, nil
		case err != nil && timeout.Err() != nil:
			return HostWatch{Revision: seen}, nil
		case err != nil:
			return HostWatch{}, fromStore(err)
		}
		next, changes, changed, err := s.advanceHost(ctx, snap, head)
		if err != nil {
			return HostWatch{}, fromStore(err)
		}
		if changed {
			w := HostWatch{Revision: next.state.Revision, Changed: true, State: next.flushing(next.state, changes)}
			if in.Partial {
				// snap is the state the agent holds: that of in.Revision,
				// or one nothing affecting the host changed since.
				st, removed := next.changedSince(snap)
				w.Partial, w.Removed, w.State = true, removed, next.flushing(st, changes)
			}
			return w, nil
		}
		snap, seen = next, next.state.Revision
	}
}

// sinceHeld answers a watch from revision rev, other than snap's, by
// snap: Resync when the feed no longer holds rev (or rev is ahead of it),
// Changed when the feed entries after rev may affect the host (or are more
// than watchChanges), neither when they do not. A Changed answer is
// partial when the watch asks for it and the host has held the same
// instances since rev: the instances whose records were made after rev.
func (s *Service) sinceHeld(ctx context.Context, snap *hostSnapshot, rev int64, partial bool) (HostWatch, error) {
	head := snap.state.Revision
	changed := HostWatch{Revision: head, Changed: true, State: &snap.state}
	if rev > head {
		return HostWatch{Revision: head, Resync: true, State: &snap.state}, nil
	}
	changes, ok, compacted, err := s.feedChanges(ctx, rev, head)
	if err == nil && !ok && !compacted {
		// More than the shared tail holds: read them.
		err = s.view(ctx, func(tx store.Tx) error {
			var err error
			var h int64
			h, changes, err = tx.Changes(ctx, rev, "", watchChanges)
			switch {
			case errors.Is(err, store.ErrCompacted):
				compacted, err = true, nil
			case err == nil && changes == nil && h > rev:
				return nil // more than watchChanges
			case err == nil:
				changes, ok = changes[:min(len(changes), int(head-rev))], true
			}
			return err
		})
	}
	switch {
	case err != nil:
		return HostWatch{}, err
	case compacted:
		return HostWatch{Revision: head, Resync: true, State: &snap.state}, nil
	case !ok:
		return changed, nil
	}
	d, err := snap.delta(changes, func(ids []string) (map[string]string, error) { return s.placed.hosts(ctx, s.st, ids) })
	if err != nil {
		return HostWatch{}, err
	}
	if d.empty() {
		return HostWatch{Revision: head}, nil
	}
	if partial && snap.listed <= rev {
		changed.Partial, changed.State = true, snap.flushing(snap.changedAfter(rev), changes)
		return changed, nil
	}
	changed.State = snap.flushing(snap.state, changes)
	return changed, nil
}

// ReportHostStatus stores what the caller's agent reports: the revision it
// has applied, the errors it met, and its counters, summed with those of
// its earlier runs (see store.Tx.AddHostCounters). A report is not a change
// of the desired state: it commits nothing to the change feed.
func (s *Service) ReportHostStatus(ctx context.Context, c Caller, in HostReport) error {
	host, err := hostCaller(c)
	if err != nil {
		return err
	}
	var errs []error
	if in.AppliedRevision < 0 {
		errs = append(errs, kernel.FieldError("AppliedRevision", fmt.Sprint(in.AppliedRevision), policy.OutOfRange, "must be 0 or more"))
	}
	if in.AgentStart.IsZero() {
		errs = append(errs, kernel.FieldError("AgentStartTime", "", policy.Missing, "is required"))
	}
	now := s.now()
	for i, k := range in.Counters {
		field := fmt.Sprintf("Counters.%d", i)
		switch {
		case !policy.ValidID(policy.PrefixInstance, k.InstanceID):
			errs = append(errs, kernel.FieldError(field+".InstanceId", k.InstanceID, policy.Malformed, "is not an instance id"))
		case !k.Direction.Valid():
			errs = append(errs, kernel.FieldError(field+".Direction", k.Direction.String(), policy.Malformed, "must be INGRESS or EGRESS"))
		case k.Packets < 0 || k.Bytes < 0:
			errs = append(errs, kernel.FieldError(field, fmt.Sprintf("%d packets %d bytes", k.Packets, k.Bytes), policy.OutOfRange, "counters are 0 or more"))
		case (k.GroupID == "") == (k.Platform == ""):
			errs = append(errs, kernel.FieldError(field+".SecurityGroupId", k.GroupID, policy.Coexist, "a counter names a SecurityGroupId or a Platform rule, not both"))
		case k.GroupID != "" && (!policy.ValidID(policy.PrefixSecurityGroup, k.GroupID) || k.PolicyIndex < 0):
			errs = append(errs, kernel.FieldError(field+".SecurityGroupId", k.GroupID, policy.Malformed, "a group's counter names a security group id and a PolicyIndex of 0 or more"))
		case k.Platform != "" && k.PolicyIndex != -1:
			errs = append(errs, kernel.FieldError(field+".PolicyIndex", fmt.Sprint(k.PolicyIndex), policy.Coexist, "a platform rule's counter has no PolicyIndex"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if in.AgentStart.After(now.Add(maxClockAhead)) {
		return kernel.FieldError("AgentStartTime", in.AgentStart.Format(time.RFC3339), policy.OutOfRange, "is in the future")
	}
	// Counters of one rule listed more than once (rules the agent counts
	// apart, such as each platform address) are one counter: their sum.
	counters := make([]HostCounter, 0, len(in.Counters))
	at := map[store.CounterKey]int{}
	for _, k := range in.Counters {
		if i, ok := at[k.CounterKey]; ok {
			counters[i].Packets += k.Packets
			counters[i].Bytes += k.Bytes
			continue
		}
		at[k.CounterKey] = len(counters)
		counters = append(counters, k)
	}
	in.Counters = counters
	// A report is not the desired state: it does not wait for the
	// writers of the desired state, nor they for it; the store commits it
	// with the other reports of the moment.
	// Every revision the agent may hold was committed before it sent the
	// report: the store's revision read after the report arrived is at
	// least that. The waiters' shared read, usually as new, is read again
	// only when the report is ahead of it.
	head, err := s.st.Wait(ctx, -1)
	if err == nil && in.AppliedRevision > head {
		head, err = s.st.Head(ctx)
	}
	if err != nil {
		return fromStore(err)
	}
	return fromStore(s.st.Report(ctx, func(tx store.Tx) error {
		if _, err := tx.GetHost(ctx, host); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return kernel.NotFound(kernel.ResourceHost, host)
			}
			return err
		}
		if in.AppliedRevision > head {
			return kernel.FieldError("AppliedRevision", fmt.Sprint(in.AppliedRevision), policy.OutOfRange, "is ahead of the store's revision %d", head)
		}
		// A host reports on its own instances only.
		checked := map[string]bool{}
		for i, k := range in.Counters {
			if checked[k.InstanceID] {
				continue
			}
			checked[k.InstanceID] = true
			ins, err := tx.GetInstance(ctx, k.InstanceID)
			if errors.Is(err, store.ErrNotFound) || err == nil && ins.HostID != host {
				return kernel.FieldError(fmt.Sprintf("Counters.%d.InstanceId", i), k.InstanceID, policy.Malformed, "is not an instance of host %s", host)
			}
			if err != nil {
				return err
			}
		}
		if err := tx.SetHostStatus(ctx, store.HostStatus{HostID: host, AppliedRevision: in.AppliedRevision, AgentStart: in.AgentStart, Reported: now, Errors: in.Errors}); err != nil {
			return err
		}
		return tx.AddHostCounters(ctx, host, in.AgentStart, now, in.Counters)
	}))
}

// maxClockAhead is how far ahead of the server's clock an agent's start
// time may be: the clocks of two machines differ a little.
const maxClockAhead = 5 * time.Minute
