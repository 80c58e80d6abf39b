package api

import (
	"context"

	"github.com/palisade-sg/palisade/internal/service"
)

// Service is what the API needs of the control plane; *service.Service
// implements it.
type Service interface {
	LookupCredential(ctx context.Context, secretID string) (service.Credential, error)
	DescribeAccount(ctx context.Context, c service.Caller) (service.Account, error)
	UnblockPort25(ctx context.Context, c service.Caller) error

	CreateSecurityGroup(ctx context.Context, c service.Caller, in service.CreateGroupInput) (service.SecurityGroup, []service.Warning, error)
	CreateDefaultSecurityGroup(ctx context.Context, c service.Caller, projectID int64) (service.SecurityGroup, error)
	DescribeSecurityGroups(ctx context.Context, c service.Caller, q service.GroupQuery) ([]service.SecurityGroup, int, error)
	DescribeSecurityGroupPolicies(ctx context.Context, c service.Caller, in service.DescribePoliciesInput) (service.GroupPolicies, error)
	ModifySecurityGroupAttribute(ctx context.Context, c service.Caller, in service.ModifyGroupInput) error
	DeleteSecurityGroup(ctx context.Context, c service.Caller, id string) error
	CloneSecurityGroup(ctx context.Context, c service.Caller, in service.CloneInput) (service.SecurityGroup, error)
	DescribeSecurityGroupAssociationStatistics(ctx context.Context, c service.Caller, ids []string) ([]service.AssociationStatistics, error)
	DescribeSecurityGroupReferences(ctx context.Context, c service.Caller, ids []string) ([]service.GroupReferences, error)
	DescribeSecurityGroupLimits(ctx context.Context, c service.Caller) (service.Quotas, error)

	CreateSecurityGroupPolicies(ctx context.Context, c service.Caller, in service.PoliciesInput) (service.WriteResult, error)
	DeleteSecurityGroupPolicies(ctx context.Context, c service.Caller, in service.PoliciesInput) (service.WriteResult, error)
	ReplaceSecurityGroupPolicy(ctx context.Context, c service.Caller, in service.PoliciesInput) (service.WriteResult, error)
	ReplaceSecurityGroupPolicies(ctx context.Context, c service.Caller, in service.ReplacePoliciesInput) (service.WriteResult, error)
	ModifySecurityGroupPolicies(ctx context.Context, c service.Caller, in service.ModifyPoliciesInput) (service.WriteResult, error)

	RegisterInstances(ctx context.Context, c service.Caller, in service.RegisterInstancesInput) ([]string, error)
	DescribeInstances(ctx context.Context, c service.Caller, q service.InstanceQuery) ([]service.Instance, int, error)
	StopInstances(ctx context.Context, c service.Caller, ids []string) error
	StartInstances(ctx context.Context, c service.Caller, ids []string) error
	TerminateInstances(ctx context.Context, c service.Caller, ids []string) error
	PurgeInstances(ctx context.Context, c service.Caller, ids []string) error
	AssociateSecurityGroups(ctx context.Context, c service.Caller, in service.BindInput) error
	DisassociateSecurityGroups(ctx context.Context, c service.Caller, in service.BindInput) error
	ModifyInstancesAttribute(ctx context.Context, c service.Caller, in service.ModifyInstancesInput) error

	CreateAddressTemplate(ctx context.Context, c service.Caller, in service.TemplateInput) (service.AddressTemplate, error)
	DescribeAddressTemplates(ctx context.Context, c service.Caller, q service.TemplateQuery) ([]service.AddressTemplate, int, error)
	ModifyAddressTemplateAttribute(ctx context.Context, c service.Caller, in service.ModifyTemplateInput) error
	DeleteAddressTemplate(ctx context.Context, c service.Caller, id string) error
	CreateAddressTemplateGroup(ctx context.Context, c service.Caller, in service.TemplateGroupInput) (service.AddressTemplateGroup, error)
	DescribeAddressTemplateGroups(ctx context.Context, c service.Caller, q service.TemplateQuery) ([]service.AddressTemplateGroup, int, error)
	ModifyAddressTemplateGroupAttribute(ctx context.Context, c service.Caller, in service.ModifyTemplateGroupInput) error
	DeleteAddressTemplateGroup(ctx context.Context, c service.Caller, id string) error
	CreateServiceTemplate(ctx context.Context, c service.Caller, in service.TemplateInput) (service.ServiceTemplate, error)
	DescribeServiceTemplates(ctx context.Context, c service.Caller, q service.TemplateQuery) ([]service.ServiceTemplate, int, error)
	ModifyServiceTemplateAttribute(ctx context.Context, c service.Caller, in service.ModifyTemplateInput) error
	DeleteServiceTemplate(ctx context.Context, c service.Caller, id string) error
	CreateServiceTemplateGroup(ctx context.Context, c service.Caller, in service.TemplateGroupInput) (service.ServiceTemplateGroup, error)
	DescribeServiceTemplateGroups(ctx context.Context, c service.Caller, q service.TemplateQuery) ([]service.ServiceTemplateGroup, int, error)
	ModifyServiceTemplateGroupAttribute(ctx context.Context, c service.Caller, in service.ModifyTemplateGroupInput) error
	DeleteServiceTemplateGroup(ctx context.Context, c service.Caller, id string) error

	DescribeGroupTags(ctx context.Context, c service.Caller, ids []string) ([]service.ResourceTags, error)
	ModifyGroupTags(ctx context.Context, c service.Caller, in service.ModifyTagsInput) error

	SimulateTraffic(ctx context.Context, c service.Caller, in service.SimulateInput) (service.Decision, error)
	DescribeSecurityGroupHistory(ctx context.Context, c service.Caller, q service.HistoryQuery) ([]service.HistoryEntry, int, error)
	RestoreSecurityGroupVersion(ctx context.Context, c service.Caller, in service.RestoreInput) (service.WriteResult, error)
	DescribeSecurityGroupFindings(ctx context.Context, c service.Caller, in service.FindingsInput) ([]service.FindingSet, error)
	CheckReachability(ctx context.Context, c service.Caller, in service.ReachInput) (service.Reachability, error)
	PreviewSecurityGroupChange(ctx context.Context, c service.Caller, in service.PreviewInput) (service.Preview, error)
	ConfirmSecurityGroupChange(ctx context.Context, c service.Caller, in service.ConfirmInput) error

	DescribeHostState(ctx context.Context, c service.Caller) (service.HostState, error)
	WatchHostState(ctx context.Context, c service.Caller, in service.WatchHostInput) (service.HostWatch, error)
	ReportHostStatus(ctx context.Context, c service.Caller, in service.HostReport) error
	DescribeSecurityGroupPropagation(ctx context.Context, c service.Caller, ids []string) ([]service.GroupPropagation, error)
	WaitApplied(ctx context.Context, c service.Caller, in service.WaitAppliedInput) error
	DescribeSecurityGroupPolicyStatistics(ctx context.Context, c service.Caller, id string) ([]service.PolicyStatistics, error)
}

// The service must satisfy the interface.
var _ Service = (*service.Service)(nil)
