// Package fleet simulates a fleet of hosts following Palisade's replicas:
// hosts with their own credentials, each running the real agent
// (agent.Agent) over a kernel that touches nothing (knftables' fake),
// through agent.Failover over every replica; instances spread over the
// hosts and bound to groups. It measures how long a write takes to reach
// every agent it affects. `palisade bench propagation` and the replica
// tests run it.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/agent"
	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/service"
)

// Region is the region the fleet's instances and groups live in.
const Region = "ap-guangzhou"

// zone is the zone of every instance.
const zone = "ap-guangzhou-3"

// Credentials are what a fleet needs of the store: an account to write
// with, a platform key to register instances with, and the hosts.
type Credentials struct {
	AccountID            string
	AdminID, AdminKey    string
	PlatformID, Platform string
	Hosts                []service.HostCredentials
}

// Seed creates, through svc (over the store the replicas share), an
// account, a platform key and hosts.
func Seed(ctx context.Context, svc *service.Service, hosts int) (Credentials, error) {
	if hosts <= 0 {
		return Credentials{}, fmt.Errorf("seed: %d hosts: want at least one", hosts)
	}
	acc, err := svc.CreateAccount(ctx, "fleet")
	if err != nil {
		return Credentials{}, fmt.Errorf("seed account: %w", err)
	}
	p, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("seed platform key: %w", err)
	}
	c := Credentials{AccountID: acc.AccountID, AdminID: acc.SecretID, AdminKey: acc.SecretKey, PlatformID: p.SecretID, Platform: p.SecretKey}
	for i := range hosts {
		h, err := svc.CreateHost(ctx, fmt.Sprintf("hv-%05d", i))
		if err != nil {
			return Credentials{}, fmt.Errorf("seed host %d: %w", i, err)
		}
		c.Hosts = append(c.Hosts, h)
	}
	return c, nil
}

// Fleet is the running agents of Credentials' hosts.
type Fleet struct {
	agents []*agent.Agent // in host order
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// AgentOptions tune the simulated agents.
type AgentOptions struct {
	// WatchWait is how long one WatchHostState waits (default
	// agent.DefaultWatchWait).
	WatchWait time.Duration
	// ReportInterval is how often an agent reports besides after each
	// apply (default agent.DefaultReportInterval).
	ReportInterval time.Duration
	// DriftInterval is how often an agent compares the kernel's table
	// with the one it applied (default: an hour — on a real host that
	// costs the host, not the server).
	DriftInterval time.Duration
	Logger        *slog.Logger // default: discard
}

// Start runs one agent per host, the i-th following the endpoints through
// agent.Failover starting at endpoint i mod len(endpoints), so that the
// agents spread over the replicas. Stop ends them.
func Start(creds Credentials, endpoints []string, o AgentOptions) (*Fleet, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("fleet: no endpoint")
	}
	if o.DriftInterval <= 0 {
		o.DriftInterval = time.Hour
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Fleet{cancel: cancel}
	for i, h := range creds.Hosts {
		var sources []agent.Source
		// Each agent is a process of its own on a host of its own: it
		// keeps its own connections (the process's default transport
		// keeps two idle connections per server, which a thousand agents
		// in one process would share).
		rt := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}
		for j := range endpoints {
			sources = append(sources, client.New(endpoints[(i+j)%len(endpoints)], h.SecretID, h.SecretKey, "").WithTransport(rt))
		}
		src, err := agent.NewFailover(sources...)
		if err != nil {
			f.Stop()
			return nil, fmt.Errorf("fleet: host %s: %w", h.HostID, err)
		}
		a, err := agent.New(agent.Options{
			Source: src, Kernel: agent.NewKernelOver(knftables.NewFake(knftables.InetFamily, nft.Table)), Mode: nft.Hypervisor,
			WatchWait: o.WatchWait, ReportInterval: o.ReportInterval, DriftInterval: o.DriftInterval, Logger: o.Logger,
		})
		if err != nil {
			f.Stop()
			return nil, fmt.Errorf("fleet: host %s: %w", h.HostID, err)
		}
		f.agents = append(f.agents, a)
		f.wg.Go(func() { a.Run(ctx) }) //nolint:errcheck // Run returns nil
	}
	return f, nil
}

// Stop ends every agent and waits for them.
func (f *Fleet) Stop() {
	f.cancel()
	f.wg.Wait()
}

// Len is the number of agents.
func (f *Fleet) Len() int { return len(f.agents) }

// Behind returns the indexes, among hosts, of the agents that do not hold
// revision rev yet.
func (f *Fleet) Behind(hosts []int, rev int64) []int {
	var out []int
	for _, i := range hosts {
		if f.agents[i].Revision() < rev {
			out = append(out, i)
		}
	}
	return out
}

// WaitFor polls every poll until every agent of hosts holds revision rev
// and returns when that was first seen, or fails when ctx ends first,
// naming how many are behind.
func (f *Fleet) WaitFor(ctx context.Context, hosts []int, rev int64, poll time.Duration) (time.Time, error) {
	t := f.Track(hosts, poll)
	defer t.Stop()
	return t.Until(ctx, rev, poll)
}

// Tracker records when each of some agents' revisions changed, from its
// start: a write's propagation is known from the moment of its
// acknowledgement, before its revision is (see Fleet.Track).
type Tracker struct {
	hosts []int
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	changes [][]observed // per host, in time order
}

// observed is a revision an agent was first seen holding.
type observed struct {
	rev int64
	at  time.Time
}

// Track starts recording, every poll, the revision each agent of hosts
// holds and when it was first seen (the one held at the start, seen then);
// Until reads the record. Stop ends it.
func (f *Fleet) Track(hosts []int, poll time.Duration) *Tracker {
	t := &Tracker{hosts: slices.Clone(hosts), stop: make(chan struct{}), done: make(chan struct{}), changes: make([][]observed, len(hosts))}
	last := make([]int64, len(hosts))
	now := time.Now()
	for k, i := range t.hosts {
		last[k] = f.agents[i].Revision()
		t.changes[k] = []observed{{last[k], now}}
	}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			now := time.Now()
			t.mu.Lock()
			for k, i := range t.hosts {
				if r := f.agents[i].Revision(); r != last[k] {
					last[k] = r
					t.changes[k] = append(t.changes[k], observed{r, now})
				}
			}
			t.mu.Unlock()
			select {
			case <-t.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return t
}

// Stop ends the recording.
func (t *Tracker) Stop() {
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	<-t.done
}

// Until waits until every tracked agent has been seen holding revision
// rev or a later one, and returns when the last of them first was; it
// fails when ctx ends first, naming how many are behind.
func (t *Tracker) Until(ctx context.Context, rev int64, poll time.Duration) (time.Time, error) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		var last time.Time
		behind := 0
		t.mu.Lock()
		for k := range t.hosts {
			i := slices.IndexFunc(t.changes[k], func(o observed) bool { return o.rev >= rev })
			if i < 0 {
				behind++
				continue
			}
			if at := t.changes[k][i].at; at.After(last) {
				last = at
			}
		}
		t.mu.Unlock()
		if behind == 0 {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d of %d agents do not hold revision %d: %w", behind, len(t.hosts), rev, ctx.Err())
		case <-tick.C:
		}
	}
}
