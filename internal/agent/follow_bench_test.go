package agent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/internal/agent"
	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/wire"
)

// replaySource answers an agent as a server would while one group's
// policy flips between two forms: the whole state first, then, at each
// watch, the partial answer that takes the agent to the other form.
type replaySource struct {
	full    wire.HostState
	partial [2]wire.WatchHostStateResponse

	mu      sync.Mutex
	rev     int64
	applied chan int64
}

func (s *replaySource) DescribeHostState(context.Context, *wire.DescribeHostStateRequest) (*wire.DescribeHostStateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.full
	st.Revision = s.rev
	return &wire.DescribeHostStateResponse{HostState: st}, nil
}

func (s *replaySource) WatchHostState(ctx context.Context, req *wire.WatchHostStateRequest) (*wire.WatchHostStateResponse, error) {
	s.mu.Lock()
	s.rev++
	resp := s.partial[s.rev%2]
	resp.Revision = s.rev
	st := *resp.State
	st.Revision = s.rev
	resp.State = &st
	s.mu.Unlock()
	return &resp, nil
}

func (s *replaySource) ReportHostStatus(ctx context.Context, req *wire.ReportHostStatusRequest) (*wire.ReportHostStatusResponse, error) {
	if req.AppliedRevision == nil {
		return &wire.ReportHostStatusResponse{}, nil
	}
	rev, err := req.AppliedRevision.Int64()
	if err != nil {
		return nil, err
	}
	select {
	case s.applied <- rev:
	case <-ctx.Done():
	}
	return &wire.ReportHostStatusResponse{}, nil
}

// BenchmarkFollowSmallHost is what one agent of the propagation
// benchmark does for each write: a host of 10 instances, each bound to a
// group of its own, follows a write to one group (a partial answer of one
// instance) — merge, decode, compile, apply to a fake kernel, read back
// and report.
func BenchmarkFollowSmallHost(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	var groups []string
	for g := range 10 {
		resp, err := e.admin.CreateSecurityGroupWithPolicies(ctx, &wire.CreateSecurityGroupWithPoliciesRequest{
			GroupName: wire.NewString(fmt.Sprintf("g%d", g)), GroupDescription: wire.NewString(""),
			SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{
				policyInput("TCP", "10000", "10.0.0.0/8", "ACCEPT"), policyInput("TCP", "443", "10.0.0.0/8", "ACCEPT"),
			}},
		})
		if err != nil {
			b.Fatal(err)
		}
		groups = append(groups, resp.SecurityGroup.SecurityGroupId)
		reg, err := e.platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{AccountId: wire.NewString(e.account), Instances: []wire.InstanceSpec{{
			InstanceName: wire.NewString(fmt.Sprintf("vm%d", g)), Zone: wire.NewString("ap-guangzhou-3"),
			PrivateIpAddresses: wire.Strings(fmt.Sprintf("10.64.0.%d", g+1)), HostId: wire.NewString(e.hostID), Interface: wire.NewString(fmt.Sprintf("tap%d", g)),
		}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.admin.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{SecurityGroupIds: wire.Strings(groups[g]), InstanceIds: wire.Strings(reg.InstanceIdSet...)}); err != nil {
			b.Fatal(err)
		}
	}
	full, err := e.host.DescribeHostState(ctx, &wire.DescribeHostStateRequest{})
	if err != nil {
		b.Fatal(err)
	}
	src := &replaySource{full: full.HostState, applied: make(chan int64, 1)}
	rev := full.Revision
	for k, port := range []string{"20000", "10000"} {
		// The watch waits when the write comes: it is answered with what
		// changed.
		type answer struct {
			w   *wire.WatchHostStateResponse
			err error
		}
		got := make(chan answer, 1)
		go func() {
			w, err := e.host.WatchHostState(ctx, &wire.WatchHostStateRequest{Revision: wire.NewInt(rev), WaitSeconds: wire.NewInt(5), Partial: wire.NewBool(true)})
			got <- answer{w, err}
		}()
		time.Sleep(200 * time.Millisecond)
		p := policyInput("TCP", port, "10.0.0.0/8", "ACCEPT")
		p.PolicyIndex = wire.NewInt(0)
		if _, err := e.admin.ReplaceSecurityGroupPolicy(ctx, &wire.ReplaceSecurityGroupPolicyRequest{
			SecurityGroupId: wire.NewString(groups[0]), SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{p}},
		}); err != nil {
			b.Fatal(err)
		}
		ans := <-got
		w, err := ans.w, ans.err
		if err != nil {
			b.Fatal(err)
		}
		if !w.Partial || w.State == nil || len(w.State.Instances) != 1 {
			b.Fatalf("write %d: want a partial answer of one instance, got %+v", k, w)
		}
		rev = w.Revision
		// Watch k+1 (odd, then even) serves answer k.
		src.partial[(k+1)%2] = *w
	}
	src.rev = full.Revision

	a, err := agent.New(agent.Options{Source: src, Kernel: agent.NewKernelOver(knftables.NewFake(knftables.InetFamily, nft.Table)), Mode: nft.Hypervisor})
	if err != nil {
		b.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(actx); close(done) }() //nolint:errcheck // Run returns nil
	<-src.applied                            // the whole state
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		<-src.applied
	}
	b.StopTimer()
	cancel()
	<-done
}
