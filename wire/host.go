package wire

// The host protocol: the actions an agent calls with its host credential,
// and only it. A host's desired state is every non-terminated instance
// placed on it, each with its effective rule lists (SPEC §3) in first-match
// order; the peers that come from a reference (a security group, an
// address template or template group) are named address sets, listed once
// in AddressSets, so that a membership change is the change of one set.

import (
	"fmt"
	"strings"
)

// The layers of a host rule (HostRule.Layer).
const (
	LayerPlatform      = "PLATFORM"
	LayerSecurityGroup = "SECURITY_GROUP"
)

// The platform rules (HostRule.Platform, HostCounter.Platform).
const (
	PlatformPort25Blocked  = "PORT25_BLOCKED"
	PlatformServiceAddress = "PLATFORM_ADDRESS"
)

// The directions of a counter (HostCounter.Direction).
const (
	DirectionIngress = "INGRESS"
	DirectionEgress  = "EGRESS"
)

// How long WatchHostState waits, in seconds: at most MaxWatchHostStateWait,
// DefaultWatchHostStateWait when the request does not say.
const (
	MaxWatchHostStateWait     = 60
	DefaultWatchHostStateWait = 30
)

// HostService is one protocol a rule matches and, for TCP and UDP, its
// destination ports ("ALL", "22", "80,443", "8000-8080"); Ports is "" for
// the protocols without ports.
type HostService struct {
	Protocol string `json:"Protocol"`
	Ports    string `json:"Ports"`
}

// HostRule is one entry of an instance's effective rule list: where it
// comes from (Layer; Platform for a platform rule; SecurityGroupId,
// PolicyIndex and Policy, the policy's text as ParsePolicy reads it, for a
// group's policy), its Action (ACCEPT or DROP), the Services it matches and
// its peer: either the literal prefixes CidrBlocks (sorted) or the named
// address set AddressSetId, never both.
type HostRule struct {
	Layer           string        `json:"Layer"`
	Platform        string        `json:"Platform,omitempty"`
	SecurityGroupId string        `json:"SecurityGroupId,omitempty"`
	PolicyIndex     *int          `json:"PolicyIndex,omitempty"`
	Policy          string        `json:"Policy,omitempty"`
	Action          string        `json:"Action"`
	Services        []HostService `json:"Services"`
	CidrBlocks      []string      `json:"CidrBlocks,omitempty"`
	AddressSetId    string        `json:"AddressSetId,omitempty"`
}

// HostInstance is one instance of a host's desired state: its host-side
// Interface, State, addresses, and its Ingress and Egress rules in
// first-match order (a packet no rule matches is dropped).
type HostInstance struct {
	InstanceId         string     `json:"InstanceId"`
	AccountId          string     `json:"AccountId"`
	Interface          string     `json:"Interface"`
	State              string     `json:"State"`
	PrivateIpAddresses []string   `json:"PrivateIpAddresses"`
	Ipv6Addresses      []string   `json:"Ipv6Addresses"`
	Ingress            []HostRule `json:"Ingress"`
	Egress             []HostRule `json:"Egress"`
	// FlushConnections: a write since the revision the agent held asked
	// for the instance's existing connections that these rules no longer
	// admit to be cut (its FlushConnections field); the agent deletes
	// exactly those connection tracking entries once it has applied them.
	FlushConnections bool `json:"FlushConnections,omitempty"`
}

// HostAddressSet is a named address set: Id is the security group
// (sg-…), address template (ipm-…) or template group (ipmg-…) its
// addresses come from, Addresses its prefixes, sorted (IPv4 first), none
// when the set is empty.
type HostAddressSet struct {
	Id        string   `json:"Id"`
	Addresses []string `json:"Addresses"`
}

// HostProblem is an instance of the host whose rule lists the server
// refuses to build, with the problem: the agent keeps the rules it last
// applied for it.
type HostProblem struct {
	InstanceId string `json:"InstanceId"`
	Message    string `json:"Message"`
}

// HostState is a host's desired state at store Revision.
type HostState struct {
	Revision     int64            `json:"Revision"`
	HostId       string           `json:"HostId"`
	Instances    []HostInstance   `json:"Instances"`
	AddressSets  []HostAddressSet `json:"AddressSets"`
	Unresolvable []HostProblem    `json:"Unresolvable"`
	// Expires (RFC 3339, absent when none) is when the first policy in
	// these rules expires: the rules change then without a write, and the
	// agent fetches the state again (DescribeHostState).
	Expires string `json:"Expires,omitempty"`
}

// DescribeHostStateRequest is the request of DescribeHostState (no
// fields): the calling host's desired state.
type DescribeHostStateRequest struct{}

// DescribeHostStateResponse is the response of DescribeHostState: the
// host's desired state at the store's current revision.
type DescribeHostStateResponse struct {
	HostState
	RequestId string `json:"RequestId,omitempty"`
}

// WatchHostStateRequest is the request of WatchHostState: the Revision of
// the state the agent holds, and how long to wait for a change that may
// affect it (WaitSeconds, 0 to MaxWatchHostStateWait; absent:
// DefaultWatchHostStateWait).
type WatchHostStateRequest struct {
	Revision    *Int `json:"Revision,omitzero"`
	WaitSeconds *Int `json:"WaitSeconds,omitzero"`
	// Partial: the agent takes a change as only the instances that
	// changed since Revision (see WatchHostStateResponse.Partial).
	Partial *Bool `json:"Partial,omitzero"`
}

// WatchHostStateResponse is the response of WatchHostState. Changed: the
// host's state may differ from the one at the request's Revision, and
// State is the new one. Resync: the request's Revision is older than the
// server's change feed keeps (or newer than its head), so nothing can be
// said about it; State is the whole current state, to apply as a fresh
// DescribeHostState. Otherwise (neither) nothing that affects the host
// changed up to Revision, which may be past the request's: the agent's
// state is that of Revision, and State is absent.
//
// Partial (only when the request asked for it, and only with Changed):
// State holds only the instances whose rules or attributes may have
// changed since the request's Revision (in Instances or Unresolvable, with
// the address sets they use), Removed the instances no longer on the host;
// every other instance is as in the state of the request's Revision. The
// agent merges them (hoststate.Merge). State.Expires is the whole state's.
type WatchHostStateResponse struct {
	Revision  int64      `json:"Revision"`
	Changed   bool       `json:"Changed"`
	Resync    bool       `json:"Resync"`
	Partial   bool       `json:"Partial,omitempty"`
	Removed   []string   `json:"Removed,omitempty"`
	State     *HostState `json:"State,omitempty"`
	RequestId string     `json:"RequestId,omitempty"`
}

// HostError is a problem an agent met applying one instance's rules
// (InstanceId "" for the host as a whole).
type HostError struct {
	InstanceId *String `json:"InstanceId,omitzero"`
	Message    *String `json:"Message,omitzero"`
}

// HostCounter is an agent's cumulative hit counter of one rule of one
// instance since the agent started (AgentStartTime): Direction INGRESS or
// EGRESS, and either SecurityGroupId with PolicyIndex, or Platform (the
// platform rule's name; the platform address rules are counted together).
type HostCounter struct {
	InstanceId      *String `json:"InstanceId,omitzero"`
	Direction       *String `json:"Direction,omitzero"`
	SecurityGroupId *String `json:"SecurityGroupId,omitzero"`
	Platform        *String `json:"Platform,omitzero"`
	PolicyIndex     *Int    `json:"PolicyIndex,omitzero"`
	Packets         *Int    `json:"Packets,omitzero"`
	Bytes           *Int    `json:"Bytes,omitzero"`
}

// ReportHostStatusRequest is the request of ReportHostStatus: the revision
// of the state the agent has applied, the errors it met, its counters and
// when it started (AgentStartTime, RFC 3339), which tells a restart (its
// counters start from zero again) from a later report of the same run.
type ReportHostStatusRequest struct {
	AppliedRevision *Int          `json:"AppliedRevision,omitzero"`
	AgentStartTime  *String       `json:"AgentStartTime,omitzero"`
	Errors          []HostError   `json:"Errors,omitzero"`
	Counters        []HostCounter `json:"Counters,omitzero"`
}

// ReportHostStatusResponse is the response of ReportHostStatus.
type ReportHostStatusResponse EmptyResponse

// DescribeSecurityGroupPropagationRequest is the request of
// DescribeSecurityGroupPropagation: the caller's groups to report on.
type DescribeSecurityGroupPropagationRequest struct {
	SecurityGroupIds []String `json:"SecurityGroupIds,omitzero"`
}

// HostLag is a host that has not reported applying a revision: the
// revision it last reported applying, absent when its agent never
// reported.
type HostLag struct {
	HostId          string `json:"HostId"`
	AppliedRevision *int64 `json:"AppliedRevision,omitempty"`
}

// SecurityGroupPropagation is how far a group's last change has reached
// the hosts it affects: Revision is the revision of that change (0 when it
// is older than the change feed keeps), AffectedHosts how many hosts have
// an instance whose rules depend on the group, AppliedHosts how many of
// them have reported applying Revision, and Laggards the others.
type SecurityGroupPropagation struct {
	SecurityGroupId string    `json:"SecurityGroupId"`
	Revision        int64     `json:"Revision"`
	AffectedHosts   uint64    `json:"AffectedHosts"`
	AppliedHosts    uint64    `json:"AppliedHosts"`
	Laggards        []HostLag `json:"Laggards"`
}

// String is the propagation as a sentence: "applied on 2 of 3 hosts
// (behind: host-…)".
func (p SecurityGroupPropagation) String() string {
	s := fmt.Sprintf("applied on %d of %d hosts", p.AppliedHosts, p.AffectedHosts)
	if len(p.Laggards) == 0 {
		return s
	}
	ids := make([]string, len(p.Laggards))
	for i, l := range p.Laggards {
		ids[i] = l.HostId
	}
	return s + " (behind: " + strings.Join(ids, ", ") + ")"
}

// DescribeSecurityGroupPropagationResponse is the response of
// DescribeSecurityGroupPropagation, in request order.
type DescribeSecurityGroupPropagationResponse struct {
	PropagationSet []SecurityGroupPropagation `json:"PropagationSet"`
	RequestId      string                     `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupPolicyStatisticsRequest is the request of
// DescribeSecurityGroupPolicyStatistics.
type DescribeSecurityGroupPolicyStatisticsRequest struct {
	SecurityGroupId *String `json:"SecurityGroupId,omitzero"`
}

// PolicyStatistic is the hit count of one policy: the packets and bytes
// the hosts' agents counted for its Direction and PolicyIndex, summed over
// hosts, from Since to Until ("2006-01-02 15:04:05" UTC, "" when no host
// counted it), and how many Hosts counted it.
type PolicyStatistic struct {
	Direction   string `json:"Direction"`
	PolicyIndex int    `json:"PolicyIndex"`
	Packets     int64  `json:"Packets"`
	Bytes       int64  `json:"Bytes"`
	Hosts       uint64 `json:"Hosts"`
	Since       string `json:"Since"`
	Until       string `json:"Until"`
}

// DescribeSecurityGroupPolicyStatisticsResponse is the response of
// DescribeSecurityGroupPolicyStatistics: every policy of the group,
// ingress then egress, in index order.
type DescribeSecurityGroupPolicyStatisticsResponse struct {
	SecurityGroupId string            `json:"SecurityGroupId"`
	StatisticSet    []PolicyStatistic `json:"StatisticSet"`
	RequestId       string            `json:"RequestId,omitempty"`
}
