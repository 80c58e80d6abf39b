package service

import (
	"time"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/instances"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/service/tagging"
	"github.com/palisade-sg/palisade/internal/service/templates"
)

// Tag is a key/value label on a security group.
type Tag = tagging.Tag

// Filter is one of a Describe call's filters (see kernel.Filter).
type Filter = kernel.Filter

// Page selects part of a listing (see kernel.Page).
type Page = kernel.Page

// SecurityGroup is a security group without its policies.
type SecurityGroup struct {
	ID          string
	Name        string
	Description string
	ProjectID   int64
	Region      string
	IsDefault   bool
	Tags        []Tag
	Version     uint64 // of the policy set
	CreatedTime time.Time
	UpdateTime  time.Time
}

// PolicyInput is one policy of a request: its text fields and its
// PolicyIndex (nil when absent).
type PolicyInput struct {
	Index *int
	Raw   policy.Raw
	// Disabled and ExpiresAt are Palisade's lifecycle fields (see
	// policy.Policy); zero when the request leaves them out.
	Disabled  bool
	ExpiresAt time.Time
}

// PolicySetInput is a request's SecurityGroupPolicySet.
type PolicySetInput struct {
	Version string // "" when absent; else a decimal integer
	Ingress []PolicyInput
	Egress  []PolicyInput
}

// IndexedPolicy is a stored policy with its current PolicyIndex.
type IndexedPolicy struct {
	Index int
	policy.Policy
}

// GroupPolicies is a group's policy set as DescribeSecurityGroupPolicies
// returns it: policies with their indexes (filters may leave gaps).
type GroupPolicies struct {
	SecurityGroupID string
	Version         uint64
	Ingress         []IndexedPolicy
	Egress          []IndexedPolicy
}

// Warning is advice about a written policy; it never blocks the write.
type Warning = analysis.Warning

// WriteResult is what a policy write returns: the group's new Version and
// warnings about the policies written.
type WriteResult struct {
	Version  uint64
	Warnings []Warning
	// ConfirmBy is, for a write made with ConfirmWithin, the time by which
	// ConfirmSecurityGroupChange must confirm Version (zero otherwise).
	ConfirmBy time.Time
}

// CreateGroupInput is CreateSecurityGroup's request.
type CreateGroupInput struct {
	Name        string
	Description string
	ProjectID   int64
	Tags        []Tag
	// Template, when not empty, names a GroupTemplates entry whose policies
	// the group starts with ("open-all", "open-common", …). It excludes
	// Policies.
	Template string
	// Policies, when not nil, are the group's first policies
	// (CreateSecurityGroupWithPolicies): each direction appended in order.
	Policies *PolicySetInput
}

// GroupQuery is DescribeSecurityGroups' request. IDs and Filters exclude each
// other. Filters: security-group-id, security-group-name, project-id,
// tag-key, tag:KEY.
type GroupQuery struct {
	IDs            []string
	Filters        []Filter
	Page           Page
	OrderField     string // "", "CreatedTime" or "UpdateTime"
	OrderDirection string // "", "ASC" or "DESC"
}

// DescribePoliciesInput is DescribeSecurityGroupPolicies' request. Filters
// (optional): security-group-id, ip, address-module, service-module,
// protocol-type, port, poly, direction, description.
type DescribePoliciesInput struct {
	SecurityGroupID string
	Filters         []Filter
}

// ModifyGroupInput is ModifySecurityGroupAttribute's request; nil leaves a
// field unchanged.
type ModifyGroupInput struct {
	SecurityGroupID string
	Name            *string
	Description     *string
}

// PoliciesInput is the request of CreateSecurityGroupPolicies,
// DeleteSecurityGroupPolicies, ReplaceSecurityGroupPolicy and
// ReplaceSecurityGroupPolicies.
type PoliciesInput struct {
	SecurityGroupID string
	Set             PolicySetInput
}

// ModifyPoliciesInput is ModifySecurityGroupPolicies' request.
type ModifyPoliciesInput struct {
	SecurityGroupID string
	Set             PolicySetInput
	SortPolicys     bool // accepted; the order given is always kept
}

// CloneInput is CloneSecurityGroup's request. The clone is created in the
// caller's region; RemoteRegion ("" = the caller's) is the source's.
type CloneInput struct {
	SecurityGroupID string
	Name            *string // default: the source's name
	Description     *string // default: the source's description
	ProjectID       *int64  // default: 0
	RemoteRegion    string
	// Tags are set on the clone. CloneTags copies the source's tags first;
	// with both, the source's tags are merged with Tags, whose values win
	// for a key in both.
	Tags      []Tag
	CloneTags bool
}

// AssociationStatistics is one group's row of
// DescribeSecurityGroupAssociationStatistics.
type AssociationStatistics struct {
	SecurityGroupID string
	CVM             int // bound instances, recycle bin included
	CDB, ENI, CLB   int // always 0 in Palisade
	SG              int // groups whose policies reference this group
	TotalCount      int // CVM+CDB+ENI+CLB (references excluded)
}

// GroupReferences lists the groups whose policies reference a group.
type GroupReferences struct {
	SecurityGroupID          string
	ReferredSecurityGroupIDs []string
}

// Instance types are those of package instances.
type (
	InstanceState          = instances.State
	Instance               = instances.Instance
	InstanceSpec           = instances.Spec
	RegisterInstancesInput = instances.RegisterInput
	InstanceQuery          = instances.Query
	BindInput              = instances.BindInput
	ModifyInstancesInput   = instances.ModifyInput
)

// The lifecycle states.
const (
	StateRunning    = instances.StateRunning
	StateStopped    = instances.StateStopped
	StateRecycled   = instances.StateRecycled
	StateTerminated = instances.StateTerminated
)

// Template types are those of package templates.
type (
	TemplateEntry            = templates.Entry
	AddressTemplate          = templates.AddressTemplate
	AddressTemplateGroup     = templates.AddressTemplateGroup
	ServiceTemplate          = templates.ServiceTemplate
	ServiceTemplateGroup     = templates.ServiceTemplateGroup
	TemplateInput            = templates.Input
	ModifyTemplateInput      = templates.ModifyInput
	TemplateGroupInput       = templates.GroupInput
	ModifyTemplateGroupInput = templates.ModifyGroupInput
	TemplateQuery            = templates.Query
)

// Layer is the stage of the effective rule list that decided a packet.
type Layer string

// The layers.
const (
	LayerPlatform      Layer = "PLATFORM"
	LayerSecurityGroup Layer = "SECURITY_GROUP"
	LayerDefault       Layer = "DEFAULT"
)

// SimulateInput is SimulateTraffic's request.
type SimulateInput struct {
	InstanceID string
	Direction  string // INGRESS or EGRESS
	Protocol   string // TCP, UDP, ICMP, ICMPv6, GRE, ALL
	Address    string // the peer's IP
	Port       int    // destination port, or NoPort; ignored unless TCP or UDP
}

// NoPort is SimulateInput.Port when the request gives none.
const NoPort = -1

// Decision is SimulateTraffic's answer.
type Decision struct {
	Verdict         policy.Action
	Layer           Layer
	SecurityGroupID string // "" unless Layer is SECURITY_GROUP
	PolicyIndex     *int   // nil unless Layer is SECURITY_GROUP
	Trace           []string
	Warnings        []string
}

// List returns the policies of direction d.
func (s PolicySetInput) List(d policy.Direction) []PolicyInput {
	if d == policy.Egress {
		return s.Egress
	}
	return s.Ingress
}
