package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
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
type HostWatch struct {
	Revision        int64
	Changed, Resync bool
	State           *HostState
}

// WatchHostInput is WatchHostState's request: the revision of the state
// the agent holds and how long to wait for a change (at most MaxHostWait).
type WatchHostInput struct {
	Revision int64
	Wait     time.Duration
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
	var snap *hostSnapshot
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		snap, err = s.hostSnapshot(ctx, tx, host)
		return err
	})
	if err != nil {
		return HostState{}, fromStore(err)
	}
	return snap.state, nil
}

// hostSnapshot is a host's state and what it depends on.
type hostSnapshot struct {
	state HostState
	// instances are the ids of the host's instances, sorted.
	instances []string
	// deps are what the resolved instances' lists were resolved from.
	deps []resolve.Deps
	// accounts are the accounts of the instances whose lists do not
	// resolve: any change of theirs may mend them.
	accounts []string
	// expires is the earliest expiry of a policy in the lists, zero if
	// none.
	expires time.Time
	// elsewhere caches instances known to be on other hosts (an
	// instance's host never changes).
	elsewhere map[string]bool
}

// resolveHost reads and resolves the state of host in tx, at tx's
// revision, and keeps it in the cache.
func (s *Service) resolveHost(ctx context.Context, tx store.Tx, host string) (*hostSnapshot, error) {
	snap, err := s.readHost(ctx, tx, host)
	if err != nil {
		return nil, err
	}
	s.hosts.put(snap)
	return snap.clone(snap.state.Revision), nil
}

// hostSnapshot returns the state of host at tx's revision: the cached
// snapshot, when the feed since it was last found valid holds nothing that
// affects it and no policy in it has expired, or else a new resolution.
func (s *Service) hostSnapshot(ctx context.Context, tx store.Tx, host string) (*hostSnapshot, error) {
	if c := s.hosts.get(host); c != nil && (c.expires.IsZero() || s.now().Before(c.expires)) {
		head, changes, err := tx.Changes(ctx, c.state.Revision, "", watchChanges)
		switch {
		case errors.Is(err, store.ErrCompacted):
		case err != nil:
			return nil, err
		case head == c.state.Revision:
			return c.clone(head), nil
		case changes != nil:
			w := c.clone(head)
			affected := false
			for i := 0; i < len(changes) && !affected; i++ {
				if affected, err = w.affectedBy(ctx, tx, &changes[i]); err != nil {
					return nil, err
				}
			}
			if !affected {
				s.hosts.put(w)
				return w.clone(head), nil
			}
		}
	}
	return s.resolveHost(ctx, tx, host)
}

// readHost reads and resolves the state of host in tx, at tx's revision.
func (s *Service) readHost(ctx context.Context, tx store.Tx, host string) (*hostSnapshot, error) {
	head, err := tx.Revision(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.GetHost(ctx, host); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, kernel.NotFound(kernel.ResourceHost, host)
		}
		return nil, err
	}
	ids, err := tx.HostInstances(ctx, host)
	if err != nil {
		return nil, err
	}
	snap := &hostSnapshot{state: HostState{Revision: head, HostID: host}, instances: slices.Sorted(slices.Values(ids)), elsewhere: map[string]bool{}}
	now := s.now()
	accounts := map[string]store.Account{}
	for _, id := range ids {
		ins, groups, err := tx.GetInstancePolicies(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("instance %s of host %s: %w", id, host, err)
		}
		a, ok := accounts[ins.AccountID]
		if !ok {
			if a, err = tx.GetAccount(ctx, ins.AccountID); err != nil {
				return nil, fmt.Errorf("account %s of instance %s: %w", ins.AccountID, id, err)
			}
			accounts[ins.AccountID] = a
		}
		lists, err := resolve.BuildWith(ctx, tx, a, ins, groups, now, s.prefixes)
		var re *resolve.Error
		if errors.As(err, &re) {
			snap.state.Unresolvable = append(snap.state.Unresolvable, hoststate.Problem{InstanceID: id, Message: re.Summary(maxProblems)})
			snap.deps = append(snap.deps, resolve.Deps{Account: ins.AccountID, Region: ins.Region, Instance: id, Groups: slices.Clone(ins.GroupIDs)})
			if !slices.Contains(snap.accounts, ins.AccountID) {
				snap.accounts = append(snap.accounts, ins.AccountID)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		snap.deps = append(snap.deps, lists.Deps)
		if !lists.Expires.IsZero() && (snap.expires.IsZero() || lists.Expires.Before(snap.expires)) {
			snap.expires = lists.Expires
		}
		snap.state.Instances = append(snap.state.Instances, hoststate.Instance{
			ID: id, AccountID: ins.AccountID, Interface: ins.Interface, State: string(ins.State),
			PrivateIPs: slices.Clone(ins.PrivateIPs), IPv6s: slices.Clone(ins.IPv6s),
			Ingress: lists.Ingress, Egress: lists.Egress,
		})
	}
	return snap, nil
}

// clone returns a copy of h valid at revision rev, with its own cache of
// instances elsewhere: a snapshot shared through the cache is never
// written.
func (h *hostSnapshot) clone(rev int64) *hostSnapshot {
	c := *h
	c.state.Revision = rev
	c.elsewhere = maps.Clone(h.elsewhere)
	return &c
}

// hostCache keeps each host's latest snapshot, with the revision it was
// last found valid at, for the watches and reads of its agent. It is safe
// for concurrent use; the snapshots in it are never written.
type hostCache struct {
	mu    sync.Mutex
	hosts map[string]*hostSnapshot
}

// hostCacheEntries bounds the hosts whose snapshots are kept.
const hostCacheEntries = 10_000

func newHostCache() *hostCache { return &hostCache{hosts: map[string]*hostSnapshot{}} }

func (c *hostCache) get(host string) *hostSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hosts[host]
}

// put keeps snap unless a snapshot of a later revision is there.
func (c *hostCache) put(snap *hostSnapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	host := snap.state.HostID
	if old := c.hosts[host]; old != nil && old.state.Revision > snap.state.Revision {
		return
	}
	if len(c.hosts) >= hostCacheEntries {
		clear(c.hosts)
	}
	c.hosts[host] = snap
}

// affectedBy reports whether change c may change the snapshot's state: it
// touches the host, something an instance's lists were resolved from, an
// account of an instance whose lists do not resolve, or an instance placed
// on the host (one registered or terminated since).
func (h *hostSnapshot) affectedBy(ctx context.Context, tx store.Tx, c *store.Change) (bool, error) {
	if slices.Contains(c.Hosts, h.state.HostID) {
		return true, nil
	}
	for i := range h.deps {
		if affects(c, &h.deps[i]) {
			return true, nil
		}
	}
	for _, a := range h.accounts {
		if c.AccountID == a || slices.Contains(c.Accounts, a) {
			return true, nil
		}
	}
	for _, id := range c.Instances {
		if _, ok := slices.BinarySearch(h.instances, id); ok {
			return true, nil
		}
		if h.elsewhere[id] {
			continue
		}
		ins, err := tx.GetInstance(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return true, nil // gone: it may have been on the host
		case err != nil:
			return false, err
		case ins.HostID == h.state.HostID:
			return true, nil
		}
		h.elsewhere[id] = true
	}
	return false, nil
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
	var snap *hostSnapshot
	var out HostWatch
	// look reads the feed after since, in tx, against the snapshot: it
	// sets out when the watch is answered.
	look := func(ctx context.Context, tx store.Tx, since int64) (int64, error) {
		head, changes, err := tx.Changes(ctx, since, "", watchChanges)
		switch {
		case errors.Is(err, store.ErrCompacted):
			out.Resync = true
		case err != nil:
			return 0, err
		case head > since && changes == nil:
			out.Changed = true // more than watchChanges entries
		}
		for i := 0; i < len(changes) && !out.Changed && !out.Resync; i++ {
			if out.Changed, err = snap.affectedBy(ctx, tx, &changes[i]); err != nil {
				return 0, err
			}
		}
		if out.Changed || out.Resync {
			if snap, err = s.resolveHost(ctx, tx, host); err != nil {
				return 0, err
			}
			out.Revision, out.State = snap.state.Revision, snap.flushing(changes)
		}
		return head, nil
	}
	var head int64
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		if snap, err = s.hostSnapshot(ctx, tx, host); err != nil {
			return err
		}
		if in.Revision == snap.state.Revision {
			head = in.Revision
			return nil
		}
		head, err = look(ctx, tx, in.Revision)
		return err
	})
	if err != nil {
		return HostWatch{}, fromStore(err)
	}
	if out.Changed || out.Resync {
		return out, nil
	}
	timeout, cancel := context.WithTimeout(ctx, in.Wait)
	defer cancel()
	for {
		wait := timeout
		var stop context.CancelFunc = func() {}
		if !snap.expires.IsZero() {
			// A policy expiring changes the lists without a write.
			wait, stop = context.WithDeadline(timeout, snap.expires)
		}
		_, err := s.st.Wait(wait, head)
		expired := err != nil && wait.Err() != nil && timeout.Err() == nil
		stop()
		switch {
		case err != nil && ctx.Err() != nil:
			return HostWatch{}, ctx.Err()
		case expired:
			err = s.view(ctx, func(tx store.Tx) error {
				var err error
				snap, err = s.resolveHost(ctx, tx, host)
				return err
			})
			if err != nil {
				return HostWatch{}, fromStore(err)
			}
			return HostWatch{Revision: snap.state.Revision, Changed: true, State: &snap.state}, nil
		case err != nil && timeout.Err() != nil:
			return HostWatch{Revision: head}, nil
		case err != nil:
			return HostWatch{}, fromStore(err)
		}
		err = s.view(ctx, func(tx store.Tx) error {
			var err error
			head, err = look(ctx, tx, head)
			return err
		})
		if err != nil {
			return HostWatch{}, fromStore(err)
		}
		if out.Changed || out.Resync {
			return out, nil
		}
	}
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
	// writers of the desired state, nor they for it.
	return fromStore(s.st.Report(ctx, func(tx store.Tx) error {
		if _, err := tx.GetHost(ctx, host); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return kernel.NotFound(kernel.ResourceHost, host)
			}
			return err
		}
		head, err := tx.Revision(ctx)
		if err != nil {
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

// flushing returns the snapshot's state with FlushConnections set on each
// instance that a change asking for it may affect (the lists it was
// resolved from, or the instance itself); the snapshot is not changed.
func (h *hostSnapshot) flushing(changes []store.Change) *HostState {
	st := h.state
	var marked []hoststate.Instance
	for i := range changes {
		c := &changes[i]
		if !c.Flush {
			continue
		}
		for j := range h.deps {
			if !affects(c, &h.deps[j]) {
				continue
			}
			if marked == nil {
				marked = slices.Clone(st.Instances)
			}
			for k := range marked {
				if marked[k].ID == h.deps[j].Instance {
					marked[k].FlushConnections = true
				}
			}
		}
	}
	if marked != nil {
		st.Instances = marked
	}
	return &st
}
