// Package agent is Palisade's data plane: on each host it fetches and then
// follows the host's desired state from the server, compiles it to one
// nftables table (package nft) and applies it atomically, repairs drift,
// keeps enforcing the last applied state when the server is unreachable
// (fail static), restores it from its state directory on restart before
// the server answers, and reports what it applied, the errors it met and
// its per-policy hit counters.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/wire"
)

// Source is the server as the agent sees it: the host protocol's three
// actions. *client.Client satisfies it, and so does Failover.
type Source interface {
	DescribeHostState(ctx context.Context, req *wire.DescribeHostStateRequest) (*wire.DescribeHostStateResponse, error)
	WatchHostState(ctx context.Context, req *wire.WatchHostStateRequest) (*wire.WatchHostStateResponse, error)
	ReportHostStatus(ctx context.Context, req *wire.ReportHostStatusRequest) (*wire.ReportHostStatusResponse, error)
}

// Defaults of Options.
const (
	DefaultDriftInterval  = 500 * time.Millisecond
	DefaultReportInterval = 10 * time.Second
	DefaultWatchWait      = 30 * time.Second
	maxBackoff            = 5 * time.Second
)

// Options configure an Agent. Source, Kernel and Mode are required.
type Options struct {
	Source Source
	Kernel Kernel
	Mode   nft.Mode
	// StateDir keeps the last applied desired state, restored at start;
	// "" keeps nothing.
	StateDir string
	// RegionLimit bounds each list's regions (nft.Config.RegionLimit).
	RegionLimit int
	// DriftInterval is how often the kernel's table is compared with the
	// one applied; ReportInterval how often status and counters are
	// reported besides after each apply; WatchWait how long one
	// WatchHostState waits.
	DriftInterval, ReportInterval, WatchWait time.Duration
	Logger                                   *slog.Logger
	Metrics                                  *Metrics // nil: none
	// Conntrack cuts the connections a write asks to flush; nil cuts
	// none (and reports so).
	Conntrack Conntrack
}

// Agent enforces one host's desired state. Run it once.
type Agent struct {
	o       Options
	log     *slog.Logger
	started time.Time

	// mu serialises the kernel and guards what was applied.
	mu       sync.Mutex
	applied  *applied
	counters counterTotals
	errs     []wire.HostError // of the last apply attempt

	reportNow chan struct{}
	// refetched is the expiry of the applied state the agent last fetched
	// the whole state again for.
	refetched string
	checks    int // drift checks made, by driftLoop only

	// compiler keeps each distinct list compiled, so that a change
	// compiles only the lists it changes.
	compiler nft.Compiler
}

// applied is the state the kernel holds.
type applied struct {
	state   wire.HostState // as received, with refused instances kept from before
	decoded hoststate.State
	ruleset *nft.Ruleset
	digest  string // the kernel's table as applied, counters and elements aside
	// full is the digest with elements, taken by the drift check after
	// the apply ("" until then).
	full string
}

// New checks o and returns an agent.
func New(o Options) (*Agent, error) {
	switch {
	case o.Source == nil:
		return nil, errors.New("agent: no source")
	case o.Kernel == nil:
		return nil, errors.New("agent: no kernel")
	case o.Mode != nft.Hypervisor && o.Mode != nft.Host:
		return nil, errors.New("agent: mode must be hypervisor or host")
	}
	if o.DriftInterval <= 0 {
		o.DriftInterval = DefaultDriftInterval
	}
	if o.ReportInterval <= 0 {
		o.ReportInterval = DefaultReportInterval
	}
	if o.WatchWait <= 0 {
		o.WatchWait = DefaultWatchWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Agent{o: o, log: o.Logger, started: time.Now().UTC(), counters: newCounterTotals(), reportNow: make(chan struct{}, 1)}, nil
}

// Revision returns the revision of the state applied, 0 before any.
func (a *Agent) Revision() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.revisionLocked()
}

// revisionLocked is Revision with a.mu held.
func (a *Agent) revisionLocked() int64 {
	if a.applied == nil {
		return 0
	}
	return a.applied.state.Revision
}

// Run restores the state kept in the state directory, then follows the
// server until ctx ends, repairing drift and reporting as it goes. A server
// that cannot be reached leaves the applied rules as they are.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.restore(ctx); err != nil {
		a.log.Error("restore from the state directory", "err", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.driftLoop(ctx) })
	wg.Go(func() { a.reportLoop(ctx) })
	a.follow(ctx)
	wg.Wait()
	return nil
}

// Once fetches the desired state and applies it, or with dryRun writes the
// ruleset it would apply to w, changing nothing.
func (a *Agent) Once(ctx context.Context, dryRun bool, w io.Writer) error {
	resp, err := a.o.Source.DescribeHostState(ctx, &wire.DescribeHostStateRequest{})
	if err != nil {
		return fmt.Errorf("describe host state: %w", err)
	}
	if dryRun {
		next, err := a.prepare(resp.HostState)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, next.ruleset.FullScript().String())
		return err
	}
	if err := a.apply(ctx, resp.HostState, false); err != nil {
		return err
	}
	return a.report(ctx, true)
}

// follow fetches the state, then long-polls for changes, until ctx ends.
func (a *Agent) follow(ctx context.Context) {
	resync := true
	failures := 0
	for ctx.Err() == nil {
		var err error
		if resync {
			var resp *wire.DescribeHostStateResponse
			if resp, err = a.o.Source.DescribeHostState(ctx, &wire.DescribeHostStateRequest{}); err == nil {
				resync = false
				a.applyAndReport(ctx, resp.HostState)
			}
		} else {
			rev, wait, expired := a.watchFrom()
			if expired {
				resync = true
				continue
			}
			req := &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(int64(wait / time.Second)), Partial: wire.NewBool(true)}
			var resp *wire.WatchHostStateResponse
			if resp, err = a.o.Source.WatchHostState(ctx, req); err == nil {
				switch {
				case resp.State != nil && resp.Changed && resp.Partial:
					if s, merr := a.merge(rev, *resp.State, resp.Removed); merr != nil {
						a.log.Warn("a partial state does not merge; fetching the whole", "revision", resp.Revision, "err", merr)
						resync = true
					} else {
						a.applyAndReport(ctx, s)
					}
				case resp.State != nil && (resp.Changed || resp.Resync):
					a.applyAndReport(ctx, *resp.State)
				case resp.Changed || resp.Resync:
					resync = true
				case resp.Revision > rev:
					a.advance(resp.Revision)
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			a.o.Metrics.serverError()
			a.log.Warn("server unreachable; the applied rules stay", "err", err)
			sleep(ctx, backoff(failures))
			resync = true
			continue
		}
		failures = 0
	}
}

// watchFrom returns the revision to watch from, how long to wait, and
// whether the applied state has expired: a policy in it expired since it
// was received (its rules changed without a write, which a server that
// resolved the same revision after the expiry would not see as a change),
// so it is to be fetched again, once for each expiry.
func (a *Agent) watchFrom() (int64, time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	wait := a.o.WatchWait
	if a.applied == nil || a.applied.state.Expires == "" || a.applied.state.Expires == a.refetched {
		return a.revisionLocked(), wait, false
	}
	exp, err := time.Parse(time.RFC3339Nano, a.applied.state.Expires)
	if err != nil {
		return a.revisionLocked(), wait, false // Decode refused it: not applied
	}
	if left := time.Until(exp); left <= 0 {
		a.refetched = a.applied.state.Expires
		return a.revisionLocked(), wait, true
	} else if left+time.Second < wait {
		wait = left + time.Second
	}
	return a.revisionLocked(), max(wait, time.Second), false
}

// merge returns the applied state, of revision rev, with a partial answer
// of WatchHostState merged in.
func (a *Agent) merge(rev int64, partial wire.HostState, removed []string) (wire.HostState, error) {
	a.mu.Lock()
	prev := a.applied
	a.mu.Unlock()
	if prev == nil || prev.state.Revision != rev {
		return wire.HostState{}, fmt.Errorf("a partial state from revision %d, and the state applied is not of it", rev)
	}
	return hoststate.Merge(prev.state, partial, removed)
}

// applyAndReport applies s and asks for a report, logging a failure (the
// previous rules stay; the report carries the error).
func (a *Agent) applyAndReport(ctx context.Context, s wire.HostState) {
	if err := a.apply(ctx, s, false); err != nil {
		a.log.Error("apply", "revision", s.Revision, "err", err)
	}
	a.askReport()
}

// advance records that the applied state is also that of rev: nothing
// affecting the host changed up to it.
func (a *Agent) advance(rev int64) {
	a.mu.Lock()
	if a.applied != nil && rev > a.applied.state.Revision {
		a.applied.state.Revision = rev
	}
	a.mu.Unlock()
	a.o.Metrics.setRevision(rev)
	a.askReport()
}

func (a *Agent) askReport() {
	select {
	case a.reportNow <- struct{}{}:
	default:
	}
}

// prepare decodes and compiles s, keeping for the instances the server
// refuses to resolve the rules last applied for them.
func (a *Agent) prepare(s wire.HostState) (*applied, error) {
	a.mu.Lock()
	prev := a.applied
	a.mu.Unlock()
	s = keepRefused(s, prev)
	var dec hoststate.State
	var err error
	if prev != nil {
		// The instances a partial answer left as they were are not
		// decoded again.
		dec, err = hoststate.DecodeKeeping(s, prev.state, prev.decoded)
	} else {
		dec, err = hoststate.Decode(s)
	}
	if err != nil {
		return nil, fmt.Errorf("desired state at revision %d: %w", s.Revision, err)
	}
	cfg := nft.Config{Mode: a.o.Mode, RegionLimit: a.o.RegionLimit}
	for _, in := range dec.Instances {
		cfg.Instances = append(cfg.Instances, nft.Instance{ID: in.ID, Interface: in.Interface, Ingress: in.Ingress, Egress: in.Egress})
	}
	rs, err := a.compiler.Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("compile revision %d: %w", s.Revision, err)
	}
	return &applied{state: s, decoded: dec, ruleset: rs}, nil
}

// keepRefused returns s with, for each instance the server could not
// resolve, the instance as last applied (if it was): fail static per
// instance.
func keepRefused(s wire.HostState, prev *applied) wire.HostState {
	if len(s.Unresolvable) == 0 || prev == nil {
		return s
	}
	have := map[string]bool{}
	for _, in := range s.Instances {
		have[in.InstanceId] = true
	}
	sets := map[string]bool{}
	for _, set := range s.AddressSets {
		sets[set.Id] = true
	}
	out := s
	out.Instances = append([]wire.HostInstance(nil), s.Instances...)
	out.AddressSets = append([]wire.HostAddressSet(nil), s.AddressSets...)
	for _, p := range s.Unresolvable {
		for _, in := range prev.state.Instances {
			if in.InstanceId != p.InstanceId || have[in.InstanceId] {
				continue
			}
			out.Instances = append(out.Instances, in)
			have[in.InstanceId] = true
			// The sets it uses, as they were, unless the new state has them.
			for _, r := range append(append([]wire.HostRule(nil), in.Ingress...), in.Egress...) {
				if r.AddressSetId == "" || sets[r.AddressSetId] {
					continue
				}
				for _, set := range prev.state.AddressSets {
					if set.Id == r.AddressSetId {
						out.AddressSets = append(out.AddressSets, set)
						sets[set.Id] = true
					}
				}
			}
		}
	}
	return out
}

// apply makes the kernel hold s. On failure the previous rules stay whole,
// and the error is kept for the next report. force applies in full even
// when nothing changed (drift repair, restore).
func (a *Agent) apply(ctx context.Context, s wire.HostState, force bool) error {
	t0 := time.Now()
	next, err := a.prepare(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs = problems(s)
	if err != nil {
		a.errs = append(a.errs, hostError("", err.Error()))
		a.o.Metrics.applyError()
		return err
	}
	var old *nft.Ruleset
	if a.applied != nil && !force {
		old = a.applied.ruleset
	}
	// Counters of what the apply makes again restart from zero: a reading
	// just before keeps what they counted. On a large host a reading takes
	// seconds, more than the apply: there the last report's reading is
	// kept instead, and what those counters counted since it is lost.
	if a.applied != nil && !force && len(a.applied.ruleset.Counters) <= preApplyReadMax {
		if hits, err := a.o.Kernel.Counters(ctx, a.applied.ruleset); err == nil {
			a.counters.update(hits)
		}
	}
	inc, err := a.o.Kernel.Apply(ctx, old, next.ruleset)
	if err != nil {
		a.errs = append(a.errs, hostError("", err.Error()))
		a.o.Metrics.applyError()
		return err
	}
	// What the apply made again counts from zero: its last reading is final.
	var prev *nft.Ruleset
	if a.applied != nil {
		prev = a.applied.ruleset
	}
	a.counters.restarted(next.ruleset.Restarted(prev, inc && !force))
	if next.digest, err = a.o.Kernel.Digest(ctx, false); err != nil {
		a.log.Warn("read back the applied table", "err", err)
	}
	a.applied = next
	a.o.Metrics.applied(s.Revision, time.Since(t0))
	if a.o.StateDir != "" {
		if err := saveState(a.o.StateDir, s); err != nil {
			a.log.Error("save state", "err", err)
			a.errs = append(a.errs, hostError("", "save state: "+err.Error()))
		}
	}
	a.log.Info("applied", "revision", s.Revision, "instances", len(s.Instances), "took", time.Since(t0))
	if force {
		return nil // drift repair and restore cut nothing: the write's agent run did
	}
	if err := a.flush(ctx, s, next.decoded); err != nil {
		a.log.Error("flush connections", "err", err)
		a.errs = append(a.errs, hostError("", err.Error()))
	}
	return nil
}

// flush deletes the connection tracking entries of the instances whose
// state asks for it that the rules just applied no longer admit.
func (a *Agent) flush(ctx context.Context, s wire.HostState, dec hoststate.State) error {
	only := map[string]bool{}
	for _, in := range s.Instances {
		if in.FlushConnections {
			only[in.InstanceId] = true
		}
	}
	if len(only) == 0 {
		return nil
	}
	if a.o.Conntrack == nil {
		return errors.New("connections were asked to be cut, and this agent has no connection tracking access")
	}
	flows, err := a.o.Conntrack.List(ctx)
	if err != nil {
		return err
	}
	cut, err := flushable(flows, dec.Instances, only)
	if err != nil {
		return err
	}
	for _, f := range cut {
		if err := a.o.Conntrack.Delete(ctx, f); err != nil {
			return err
		}
	}
	a.log.Info("cut connections no longer admitted", "revision", s.Revision, "connections", len(cut))
	return nil
}

// problems are the server's refusals of s, as host errors.
func problems(s wire.HostState) []wire.HostError {
	var out []wire.HostError
	for _, p := range s.Unresolvable {
		out = append(out, hostError(p.InstanceId, "the server cannot resolve the instance's rules; the last applied stay: "+p.Message))
	}
	return out
}

func hostError(instance, msg string) wire.HostError {
	e := wire.HostError{Message: new(wire.String(msg))}
	if instance != "" {
		e.InstanceId = new(wire.String(instance))
	}
	return e
}

// restore applies the state kept in the state directory, if any.
func (a *Agent) restore(ctx context.Context) error {
	if a.o.StateDir == "" {
		return nil
	}
	s, ok, err := loadState(a.o.StateDir)
	if err != nil || !ok {
		return err
	}
	if err := a.apply(ctx, s, true); err != nil {
		return fmt.Errorf("restore revision %d: %w", s.Revision, err)
	}
	a.log.Info("restored from the state directory", "revision", s.Revision)
	return nil
}

// driftLoop compares the kernel's table with the one applied and applies
// it again in full when they differ.
func (a *Agent) driftLoop(ctx context.Context) {
	t := time.NewTicker(a.o.DriftInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.repair(ctx); err != nil {
			a.log.Error("drift repair", "err", err)
		}
	}
}

// repair applies the state again if the kernel's table is not the one
// applied. It reports whether it did.
func (a *Agent) repair(ctx context.Context) error {
	a.mu.Lock()
	cur := a.applied
	a.mu.Unlock()
	if cur == nil {
		return nil
	}
	d, err := a.o.Kernel.Digest(ctx, false)
	if err == nil && d == cur.digest && a.fullCheck(ctx, cur) {
		return nil
	}
	a.mu.Lock()
	if a.applied != cur { // applied again meanwhile
		a.mu.Unlock()
		return nil
	}
	a.mu.Unlock()
	a.log.Warn("the table differs from the one applied; applying it again")
	a.o.Metrics.driftRepaired()
	return a.apply(ctx, cur.state, true)
}

// preApplyReadMax is the most hits whose counters are read just before an
// apply.
const preApplyReadMax = 10_000

// fullDigestEvery is how many drift checks pass between two checks of the
// table with its elements, which on a large host take seconds.
const fullDigestEvery = 60

// fullCheck reports whether the table's elements are those applied: every
// fullDigestEvery-th check compares them with the first listing after the
// apply (the elements as the kernel holds them just after applying).
func (a *Agent) fullCheck(ctx context.Context, cur *applied) bool {
	a.checks++
	if cur.full != "" && a.checks%fullDigestEvery != 0 {
		return true
	}
	d, err := a.o.Kernel.Digest(ctx, true)
	if err != nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.applied != cur {
		return true // applied again meanwhile: the next check looks
	}
	if cur.full == "" {
		cur.full = d
		return true
	}
	return d == cur.full
}

// reportLoop reports status and counters every ReportInterval and when
// asked.
func (a *Agent) reportLoop(ctx context.Context) {
	t := time.NewTicker(a.o.ReportInterval)
	defer t.Stop()
	for {
		counters := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			counters = true
		case <-a.reportNow:
		}
		if err := a.report(ctx, counters); err != nil && ctx.Err() == nil {
			a.log.Warn("report", "err", err)
		}
	}
}

// report sends the applied revision, the errors of the last apply and the
// counters, read from the kernel first when readCounters is set (on a
// large host that takes seconds: a report right after an apply, which
// tells the server the revision is applied, does not wait for it).
func (a *Agent) report(ctx context.Context, readCounters bool) error {
	a.mu.Lock()
	cur := a.applied
	a.mu.Unlock()
	var hits []nft.Hit
	if readCounters && cur != nil {
		var err error
		if hits, err = a.o.Kernel.Counters(ctx, cur.ruleset); err != nil {
			a.log.Warn("read counters", "err", err)
		}
	}
	a.mu.Lock()
	req := &wire.ReportHostStatusRequest{AgentStartTime: new(wire.String(a.started.Format(time.RFC3339Nano))), Errors: a.errs}
	if a.applied != nil {
		req.AppliedRevision = wire.NewInt(a.applied.state.Revision)
	}
	if hits != nil && a.applied == cur {
		// A reading of a ruleset applied again meanwhile is dropped: the
		// apply took its own.
		a.counters.update(hits)
	}
	req.Counters = a.counters.report()
	a.mu.Unlock()
	_, err := a.o.Source.ReportHostStatus(ctx, req)
	return err
}

func backoff(failures int) time.Duration {
	d := 100 * time.Millisecond << min(failures, 6)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
