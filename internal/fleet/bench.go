package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/wire"
)

// BenchOptions shape a propagation benchmark.
type BenchOptions struct {
	// Instances are spread over the hosts, instance i on host i mod
	// hosts, and bound in consecutive blocks of GroupSize (default 1000)
	// to one group each: a group's instances span min(GroupSize, hosts)
	// hosts.
	Instances, GroupSize int
	// Writes are measured one at a time (default 50): each replaces the
	// first policy of the next group, and its propagation is the time
	// from its acknowledgement until every agent its group affects holds
	// its revision.
	Writes int
	// Writers write concurrently for Duration (defaults 4 and 10 s) while
	// the agents follow: the write throughput, and how long after the last
	// acknowledged write every agent holds it.
	Writers  int
	Duration time.Duration
	// Timeout bounds one write's propagation (default 60 s); Poll is how
	// often the agents' revisions are read (default 2 ms).
	Timeout, Poll time.Duration
	// Progress, if set, is told of each step.
	Progress func(format string, args ...any)
	// Measuring, if set, is called once every agent holds the layout,
	// just before the first measured write (a profile of the measured
	// phases starts there).
	Measuring func()
}

// Result is what a propagation benchmark measured.
type Result struct {
	Replicas        int     `json:"replicas"`
	Agents          int     `json:"agents"`
	Instances       int     `json:"instances"`
	Groups          int     `json:"groups"`
	HostsPerWrite   int     `json:"hosts_per_write"`
	SetupSeconds    float64 `json:"setup_seconds"`
	ConvergeSeconds float64 `json:"initial_converge_seconds"`
	Writes          int     `json:"writes"`
	AckMsP50        float64 `json:"ack_ms_p50"`
	PropagationMs   Spread  `json:"propagation_ms"`
	// The throughput phase.
	Writers           int     `json:"writers"`
	ThroughputWrites  int     `json:"throughput_writes"`
	WritesPerSecond   float64 `json:"writes_per_second"`
	ThroughputAckP99  float64 `json:"throughput_ack_ms_p99"`
	CatchUpMs         float64 `json:"catch_up_ms"`
	ThroughputErrors  int     `json:"throughput_errors"`
	ThroughputRetries int     `json:"throughput_busy_retries"`
}

// Spread is a distribution's quantiles, in milliseconds.
type Spread struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func spread(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(p*float64(len(s))+0.5) - 1
		i = max(0, min(i, len(s)-1))
		return ms(s[i])
	}
	return Spread{P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Layout is the groups and instances a benchmark writes to.
type Layout struct {
	Groups []string
	// GroupHosts are, for each group, the indexes of the hosts its
	// instances are on.
	GroupHosts [][]int
	// Instances are the instances' ids, instance i on host i mod hosts,
	// bound to group i / GroupSize.
	Instances    []string
	SetupSeconds float64
}

// Lay creates the groups, registers the instances and binds them through
// the replica at endpoint, before the agents start (an agent then reads
// its host's state once rather than following every registration).
func Lay(ctx context.Context, creds Credentials, endpoint string, o BenchOptions) (Layout, error) {
	o = o.withDefaults()
	if o.Instances <= 0 {
		return Layout{}, fmt.Errorf("bench: %d instances: want at least one", o.Instances)
	}
	start := time.Now()
	admin := client.New(endpoint, creds.AdminID, creds.AdminKey, Region)
	platform := client.New(endpoint, creds.PlatformID, creds.Platform, Region)
	lay, err := layout(ctx, admin, platform, creds, o, o.Progress)
	if err != nil {
		return Layout{}, err
	}
	lay.SetupSeconds = time.Since(start).Seconds()
	return lay, nil
}

func (o BenchOptions) withDefaults() BenchOptions {
	if o.GroupSize <= 0 {
		o.GroupSize = 1000
	}
	if o.Writes <= 0 {
		o.Writes = 50
	}
	if o.Writers <= 0 {
		o.Writers = 4
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Millisecond
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	return o
}

// Bench waits for the fleet, started after Lay, to hold the layout, then
// measures. The fleet must follow creds' hosts.
func Bench(ctx context.Context, creds Credentials, endpoints []string, lay Layout, f *Fleet, o BenchOptions) (Result, error) {
	o = o.withDefaults()
	progress := o.Progress
	hosts := len(creds.Hosts)
	if f.Len() != hosts {
		return Result{}, fmt.Errorf("bench: the fleet runs %d agents for %d hosts", f.Len(), hosts)
	}
	res := Result{Replicas: len(endpoints), Agents: hosts, Instances: o.Instances, Writers: o.Writers}
	admins := make([]*client.Client, len(endpoints))
	for i, e := range endpoints {
		admins[i] = client.New(e, creds.AdminID, creds.AdminKey, Region)
	}
	groups, groupHosts := lay.Groups, lay.GroupHosts
	res.Groups = len(groups)
	res.HostsPerWrite = len(groupHosts[0])
	res.SetupSeconds = lay.SetupSeconds
	start := time.Now()

	// Every agent holds the layout.
	progress("waiting for %d agents to hold the layout", hosts)
	head, err := lastRevision(ctx, admins[0], groups)
	if err != nil {
		return res, err
	}
	all := make([]int, hosts)
	for i := range all {
		all[i] = i
	}
	wctx, cancel := context.WithTimeout(ctx, 10*o.Timeout)
	_, err = f.WaitFor(wctx, all, head, 10*o.Poll)
	cancel()
	if err != nil {
		return res, fmt.Errorf("initial state: %w", err)
	}
	res.ConvergeSeconds = time.Since(start).Seconds()

	// One write at a time, alternating replicas.
	if o.Measuring != nil {
		o.Measuring()
	}
	progress("measuring %d writes, one at a time", o.Writes)
	var prop, acks []time.Duration
	for w := range o.Writes {
		g := w % len(groups)
		// The agents are watched from before the write: the revision it
		// made is known only after its acknowledgement, and an agent may
		// hold it before that is read.
		tr := f.Track(groupHosts[g], o.Poll)
		t0 := time.Now()
		if err := replaceFirst(ctx, admins[w%len(admins)], groups[g], 20000+w); err != nil {
			tr.Stop()
			return res, fmt.Errorf("write %d: %w", w, err)
		}
		acked := time.Now()
		acks = append(acks, acked.Sub(t0))
		rev, err := lastRevision(ctx, admins[w%len(admins)], groups[g:g+1])
		if err != nil {
			tr.Stop()
			return res, fmt.Errorf("write %d: %w", w, err)
		}
		wctx, cancel := context.WithTimeout(ctx, o.Timeout)
		at, err := tr.Until(wctx, rev, o.Poll)
		cancel()
		tr.Stop()
		if err != nil {
			return res, fmt.Errorf("write %d to %s: %w", w, groups[g], err)
		}
		prop = append(prop, max(0, at.Sub(acked))) // held before the client had the acknowledgement: 0
		if (w+1)%10 == 0 {
			progress("%d writes measured, the last reached its %d hosts in %.0f ms", w+1, len(groupHosts[g]), ms(at.Sub(acked)))
		}
	}
	res.Writes = len(prop)
	res.PropagationMs = spread(prop)
	res.AckMsP50 = spread(acks).P50

	// Concurrent writers while the agents follow.
	progress("%d writers for %s", o.Writers, o.Duration)
	var (
		n, failed, busy atomic.Int64
		mu              sync.Mutex
		tacks           []time.Duration
		wg              sync.WaitGroup
	)
	stop := time.Now().Add(o.Duration)
	tstart := time.Now()
	for wr := range o.Writers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop) && ctx.Err() == nil; i++ {
				// Each writer keeps to its own groups when there are
				// enough, so that writers do not wait on each other's
				// groups.
				g := (wr + i*o.Writers) % len(groups)
				t0 := time.Now()
				err := replaceFirst(ctx, admins[(wr+i)%len(admins)], groups[g], 30000+int(n.Load()%30000))
				var apiErr *client.Error
				switch {
				case err == nil:
					n.Add(1)
					d := time.Since(t0)
					mu.Lock()
					tacks = append(tacks, d)
					mu.Unlock()
				case errors.As(err, &apiErr) && apiErr.Code == "RequestLimitExceeded":
					busy.Add(1)
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(tstart)
	res.ThroughputWrites = int(n.Load())
	res.ThroughputErrors = int(failed.Load())
	res.ThroughputRetries = int(busy.Load())
	res.WritesPerSecond = float64(n.Load()) / elapsed.Seconds()
	res.ThroughputAckP99 = spread(tacks).P99
	head, err = lastRevision(ctx, admins[0], groups)
	if err != nil {
		return res, err
	}
	wctx, cancel = context.WithTimeout(ctx, 10*o.Timeout)
	at, err := f.WaitFor(wctx, all, head, o.Poll)
	cancel()
	if err != nil {
		return res, fmt.Errorf("after the throughput phase: %w", err)
	}
	res.CatchUpMs = ms(max(0, at.Sub(tstart.Add(elapsed))))
	return res, nil
}

// layout creates the groups, registers the instances and binds them.
func layout(ctx context.Context, admin, platform *client.Client, creds Credentials, o BenchOptions, progress func(string, ...any)) (Layout, error) {
	hosts := len(creds.Hosts)
	n := (o.Instances + o.GroupSize - 1) / o.GroupSize
	progress("creating %d groups", n)
	groups := make([]string, n)
	for g := range groups {
		resp, err := admin.CreateSecurityGroupWithPolicies(ctx, &wire.CreateSecurityGroupWithPoliciesRequest{
			GroupName: wire.NewString(fmt.Sprintf("fleet-%03d", g)), GroupDescription: wire.NewString("propagation benchmark"),
			SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{
				policy(10000), policy(443),
			}},
		})
		if err != nil {
			return Layout{}, fmt.Errorf("create group %d: %w", g, err)
		}
		groups[g] = resp.SecurityGroup.SecurityGroupId
	}
	progress("registering and binding %d instances on %d hosts", o.Instances, hosts)
	groupHosts := make([][]int, n)
	var instances []string
	const batch = 100
	for first := 0; first < o.Instances; first += batch {
		last := min(first+batch, o.Instances)
		var specs []wire.InstanceSpec
		for i := first; i < last; i++ {
			h := i % hosts
			specs = append(specs, wire.InstanceSpec{
				InstanceName: wire.NewString(fmt.Sprintf("vm-%05d", i)), Zone: wire.NewString(zone),
				PrivateIpAddresses: wire.Strings(fmt.Sprintf("10.%d.%d.%d", 64+i>>16, (i>>8)&255, i&255)),
				HostId:             wire.NewString(creds.Hosts[h].HostID), Interface: wire.NewString("tap" + strconv.Itoa(i)),
			})
		}
		reg, err := platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{AccountId: wire.NewString(creds.AccountID), Instances: specs})
		if err != nil {
			return Layout{}, fmt.Errorf("register instances %d–%d: %w", first, last-1, err)
		}
		instances = append(instances, reg.InstanceIdSet...)
		// A batch lies within one group when GroupSize is a multiple of
		// it; otherwise bind instance by instance's group.
		byGroup := map[int][]string{}
		for k, id := range reg.InstanceIdSet {
			byGroup[(first+k)/o.GroupSize] = append(byGroup[(first+k)/o.GroupSize], id)
		}
		for g, ids := range byGroup {
			if _, err := admin.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{
				SecurityGroupIds: wire.Strings(groups[g]), InstanceIds: wire.Strings(ids...),
			}); err != nil {
				return Layout{}, fmt.Errorf("bind instances %d–%d: %w", first, last-1, err)
			}
		}
		for i := first; i < last; i++ {
			g := i / o.GroupSize
			if h := i % hosts; !slices.Contains(groupHosts[g], h) {
				groupHosts[g] = append(groupHosts[g], h)
			}
		}
	}
	return Layout{Groups: groups, GroupHosts: groupHosts, Instances: instances}, nil
}

func policy(port int) wire.SecurityGroupPolicyInput {
	return wire.SecurityGroupPolicyInput{Protocol: wire.NewString("TCP"), Port: wire.NewString(strconv.Itoa(port)),
		CidrBlock: wire.NewString("10.0.0.0/8"), Action: wire.NewString("ACCEPT")}
}

// replaceFirst replaces the first ingress policy of group with one
// admitting port.
func replaceFirst(ctx context.Context, c *client.Client, group string, port int) error {
	p := policy(port)
	p.PolicyIndex = wire.NewInt(0)
	_, err := c.ReplaceSecurityGroupPolicy(ctx, &wire.ReplaceSecurityGroupPolicyRequest{
		SecurityGroupId:        wire.NewString(group),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{p}},
	})
	return err
}

// lastRevision returns the newest revision of the groups' last changes, as
// the server's propagation view tells it.
func lastRevision(ctx context.Context, c *client.Client, groups []string) (int64, error) {
	var head int64
	for first := 0; first < len(groups); first += 100 {
		resp, err := c.DescribeSecurityGroupPropagation(ctx, &wire.DescribeSecurityGroupPropagationRequest{SecurityGroupIds: wire.Strings(groups[first:min(first+100, len(groups))]...)})
		if err != nil {
			return 0, fmt.Errorf("propagation of the groups: %w", err)
		}
		for _, p := range resp.PropagationSet {
			if p.Revision == 0 {
				return 0, fmt.Errorf("propagation of %s: no revision (older than the feed keeps)", p.SecurityGroupId)
			}
			head = max(head, p.Revision)
		}
	}
	return head, nil
}

// newAdmin returns a client of the fleet's account at endpoint.
func newAdmin(endpoint string, creds Credentials) *client.Client {
	return client.New(endpoint, creds.AdminID, creds.AdminKey, Region)
}
