package client

import (
	"context"

	"github.com/palisade-sg/palisade/wire"
)

// One typed method per action served, each over invoke with the action's
// service and its version (wire.VersionTag for the tag actions,
// wire.Version for the others). A nil request sends {}. Palisade's own actions
// are signed for the "palisade" service, which the server accepts for them.

// CreateSecurityGroup calls the vpc action CreateSecurityGroup.
func (c *Client) CreateSecurityGroup(ctx context.Context, req *wire.CreateSecurityGroupRequest) (*wire.CreateSecurityGroupResponse, error) {
	return invoke[wire.CreateSecurityGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateSecurityGroup, req)
}

// CreateSecurityGroupWithPolicies calls the vpc action CreateSecurityGroupWithPolicies.
func (c *Client) CreateSecurityGroupWithPolicies(ctx context.Context, req *wire.CreateSecurityGroupWithPoliciesRequest) (*wire.CreateSecurityGroupWithPoliciesResponse, error) {
	return invoke[wire.CreateSecurityGroupWithPoliciesResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateSecurityGroupWithPolicies, req)
}

// CreateDefaultSecurityGroup calls the vpc action CreateDefaultSecurityGroup.
func (c *Client) CreateDefaultSecurityGroup(ctx context.Context, req *wire.CreateDefaultSecurityGroupRequest) (*wire.CreateDefaultSecurityGroupResponse, error) {
	return invoke[wire.CreateDefaultSecurityGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateDefaultSecurityGroup, req)
}

// DescribeSecurityGroups calls the vpc action DescribeSecurityGroups.
func (c *Client) DescribeSecurityGroups(ctx context.Context, req *wire.DescribeSecurityGroupsRequest) (*wire.DescribeSecurityGroupsResponse, error) {
	return invoke[wire.DescribeSecurityGroupsResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeSecurityGroups, req)
}

// ModifySecurityGroupAttribute calls the vpc action ModifySecurityGroupAttribute.
func (c *Client) ModifySecurityGroupAttribute(ctx context.Context, req *wire.ModifySecurityGroupAttributeRequest) (*wire.ModifySecurityGroupAttributeResponse, error) {
	return invoke[wire.ModifySecurityGroupAttributeResponse](ctx, c, wire.ServiceVPC, wire.ActionModifySecurityGroupAttribute, req)
}

// DeleteSecurityGroup calls the vpc action DeleteSecurityGroup.
func (c *Client) DeleteSecurityGroup(ctx context.Context, req *wire.DeleteSecurityGroupRequest) (*wire.DeleteSecurityGroupResponse, error) {
	return invoke[wire.DeleteSecurityGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionDeleteSecurityGroup, req)
}

// CloneSecurityGroup calls the vpc action CloneSecurityGroup.
func (c *Client) CloneSecurityGroup(ctx context.Context, req *wire.CloneSecurityGroupRequest) (*wire.CloneSecurityGroupResponse, error) {
	return invoke[wire.CloneSecurityGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionCloneSecurityGroup, req)
}

// DescribeSecurityGroupAssociationStatistics calls the vpc action DescribeSecurityGroupAssociationStatistics.
func (c *Client) DescribeSecurityGroupAssociationStatistics(ctx context.Context, req *wire.DescribeSecurityGroupAssociationStatisticsRequest) (*wire.DescribeSecurityGroupAssociationStatisticsResponse, error) {
	return invoke[wire.DescribeSecurityGroupAssociationStatisticsResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeSecurityGroupAssociationStatistics, req)
}

// DescribeSecurityGroupReferences calls the vpc action DescribeSecurityGroupReferences.
func (c *Client) DescribeSecurityGroupReferences(ctx context.Context, req *wire.DescribeSecurityGroupReferencesRequest) (*wire.DescribeSecurityGroupReferencesResponse, error) {
	return invoke[wire.DescribeSecurityGroupReferencesResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeSecurityGroupReferences, req)
}

// DescribeSecurityGroupLimits calls the vpc action DescribeSecurityGroupLimits.
func (c *Client) DescribeSecurityGroupLimits(ctx context.Context, req *wire.DescribeSecurityGroupLimitsRequest) (*wire.DescribeSecurityGroupLimitsResponse, error) {
	return invoke[wire.DescribeSecurityGroupLimitsResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeSecurityGroupLimits, req)
}

// DescribeSecurityGroupPolicies calls the vpc action DescribeSecurityGroupPolicies.
func (c *Client) DescribeSecurityGroupPolicies(ctx context.Context, req *wire.DescribeSecurityGroupPoliciesRequest) (*wire.DescribeSecurityGroupPoliciesResponse, error) {
	return invoke[wire.DescribeSecurityGroupPoliciesResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeSecurityGroupPolicies, req)
}

// CreateSecurityGroupPolicies calls the vpc action CreateSecurityGroupPolicies.
func (c *Client) CreateSecurityGroupPolicies(ctx context.Context, req *wire.CreateSecurityGroupPoliciesRequest) (*wire.CreateSecurityGroupPoliciesResponse, error) {
	return invoke[wire.CreateSecurityGroupPoliciesResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateSecurityGroupPolicies, req)
}

// DeleteSecurityGroupPolicies calls the vpc action DeleteSecurityGroupPolicies.
func (c *Client) DeleteSecurityGroupPolicies(ctx context.Context, req *wire.DeleteSecurityGroupPoliciesRequest) (*wire.DeleteSecurityGroupPoliciesResponse, error) {
	return invoke[wire.DeleteSecurityGroupPoliciesResponse](ctx, c, wire.ServiceVPC, wire.ActionDeleteSecurityGroupPolicies, req)
}

// ReplaceSecurityGroupPolicy calls the vpc action ReplaceSecurityGroupPolicy.
func (c *Client) ReplaceSecurityGroupPolicy(ctx context.Context, req *wire.ReplaceSecurityGroupPolicyRequest) (*wire.ReplaceSecurityGroupPolicyResponse, error) {
	return invoke[wire.ReplaceSecurityGroupPolicyResponse](ctx, c, wire.ServiceVPC, wire.ActionReplaceSecurityGroupPolicy, req)
}

// ReplaceSecurityGroupPolicies calls the vpc action ReplaceSecurityGroupPolicies.
func (c *Client) ReplaceSecurityGroupPolicies(ctx context.Context, req *wire.ReplaceSecurityGroupPoliciesRequest) (*wire.ReplaceSecurityGroupPoliciesResponse, error) {
	return invoke[wire.ReplaceSecurityGroupPoliciesResponse](ctx, c, wire.ServiceVPC, wire.ActionReplaceSecurityGroupPolicies, req)
}

// ModifySecurityGroupPolicies calls the vpc action ModifySecurityGroupPolicies.
func (c *Client) ModifySecurityGroupPolicies(ctx context.Context, req *wire.ModifySecurityGroupPoliciesRequest) (*wire.ModifySecurityGroupPoliciesResponse, error) {
	return invoke[wire.ModifySecurityGroupPoliciesResponse](ctx, c, wire.ServiceVPC, wire.ActionModifySecurityGroupPolicies, req)
}

// CreateAddressTemplate calls the vpc action CreateAddressTemplate.
func (c *Client) CreateAddressTemplate(ctx context.Context, req *wire.CreateAddressTemplateRequest) (*wire.CreateAddressTemplateResponse, error) {
	return invoke[wire.CreateAddressTemplateResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateAddressTemplate, req)
}

// DescribeAddressTemplates calls the vpc action DescribeAddressTemplates.
func (c *Client) DescribeAddressTemplates(ctx context.Context, req *wire.DescribeAddressTemplatesRequest) (*wire.DescribeAddressTemplatesResponse, error) {
	return invoke[wire.DescribeAddressTemplatesResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeAddressTemplates, req)
}

// ModifyAddressTemplateAttribute calls the vpc action ModifyAddressTemplateAttribute.
func (c *Client) ModifyAddressTemplateAttribute(ctx context.Context, req *wire.ModifyAddressTemplateAttributeRequest) (*wire.ModifyAddressTemplateAttributeResponse, error) {
	return invoke[wire.ModifyAddressTemplateAttributeResponse](ctx, c, wire.ServiceVPC, wire.ActionModifyAddressTemplateAttribute, req)
}

// DeleteAddressTemplate calls the vpc action DeleteAddressTemplate.
func (c *Client) DeleteAddressTemplate(ctx context.Context, req *wire.DeleteAddressTemplateRequest) (*wire.DeleteAddressTemplateResponse, error) {
	return invoke[wire.DeleteAddressTemplateResponse](ctx, c, wire.ServiceVPC, wire.ActionDeleteAddressTemplate, req)
}

// CreateAddressTemplateGroup calls the vpc action CreateAddressTemplateGroup.
func (c *Client) CreateAddressTemplateGroup(ctx context.Context, req *wire.CreateAddressTemplateGroupRequest) (*wire.CreateAddressTemplateGroupResponse, error) {
	return invoke[wire.CreateAddressTemplateGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateAddressTemplateGroup, req)
}

// DescribeAddressTemplateGroups calls the vpc action DescribeAddressTemplateGroups.
func (c *Client) DescribeAddressTemplateGroups(ctx context.Context, req *wire.DescribeAddressTemplateGroupsRequest) (*wire.DescribeAddressTemplateGroupsResponse, error) {
	return invoke[wire.DescribeAddressTemplateGroupsResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeAddressTemplateGroups, req)
}

// ModifyAddressTemplateGroupAttribute calls the vpc action ModifyAddressTemplateGroupAttribute.
func (c *Client) ModifyAddressTemplateGroupAttribute(ctx context.Context, req *wire.ModifyAddressTemplateGroupAttributeRequest) (*wire.ModifyAddressTemplateGroupAttributeResponse, error) {
	return invoke[wire.ModifyAddressTemplateGroupAttributeResponse](ctx, c, wire.ServiceVPC, wire.ActionModifyAddressTemplateGroupAttribute, req)
}

// DeleteAddressTemplateGroup calls the vpc action DeleteAddressTemplateGroup.
func (c *Client) DeleteAddressTemplateGroup(ctx context.Context, req *wire.DeleteAddressTemplateGroupRequest) (*wire.DeleteAddressTemplateGroupResponse, error) {
	return invoke[wire.DeleteAddressTemplateGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionDeleteAddressTemplateGroup, req)
}

// CreateServiceTemplate calls the vpc action CreateServiceTemplate.
func (c *Client) CreateServiceTemplate(ctx context.Context, req *wire.CreateServiceTemplateRequest) (*wire.CreateServiceTemplateResponse, error) {
	return invoke[wire.CreateServiceTemplateResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateServiceTemplate, req)
}

// DescribeServiceTemplates calls the vpc action DescribeServiceTemplates.
func (c *Client) DescribeServiceTemplates(ctx context.Context, req *wire.DescribeServiceTemplatesRequest) (*wire.DescribeServiceTemplatesResponse, error) {
	return invoke[wire.DescribeServiceTemplatesResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeServiceTemplates, req)
}

// ModifyServiceTemplateAttribute calls the vpc action ModifyServiceTemplateAttribute.
func (c *Client) ModifyServiceTemplateAttribute(ctx context.Context, req *wire.ModifyServiceTemplateAttributeRequest) (*wire.ModifyServiceTemplateAttributeResponse, error) {
	return invoke[wire.ModifyServiceTemplateAttributeResponse](ctx, c, wire.ServiceVPC, wire.ActionModifyServiceTemplateAttribute, req)
}

// DeleteServiceTemplate calls the vpc action DeleteServiceTemplate.
func (c *Client) DeleteServiceTemplate(ctx context.Context, req *wire.DeleteServiceTemplateRequest) (*wire.DeleteServiceTemplateResponse, error) {
	return invoke[wire.DeleteServiceTemplateResponse](ctx, c, wire.ServiceVPC, wire.ActionDeleteServiceTemplate, req)
}

// CreateServiceTemplateGroup calls the vpc action CreateServiceTemplateGroup.
func (c *Client) CreateServiceTemplateGroup(ctx context.Context, req *wire.CreateServiceTemplateGroupRequest) (*wire.CreateServiceTemplateGroupResponse, error) {
	return invoke[wire.CreateServiceTemplateGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionCreateServiceTemplateGroup, req)
}

// DescribeServiceTemplateGroups calls the vpc action DescribeServiceTemplateGroups.
func (c *Client) DescribeServiceTemplateGroups(ctx context.Context, req *wire.DescribeServiceTemplateGroupsRequest) (*wire.DescribeServiceTemplateGroupsResponse, error) {
	return invoke[wire.DescribeServiceTemplateGroupsResponse](ctx, c, wire.ServiceVPC, wire.ActionDescribeServiceTemplateGroups, req)
}

// ModifyServiceTemplateGroupAttribute calls the vpc action ModifyServiceTemplateGroupAttribute.
func (c *Client) ModifyServiceTemplateGroupAttribute(ctx context.Context, req *wire.ModifyServiceTemplateGroupAttributeRequest) (*wire.ModifyServiceTemplateGroupAttributeResponse, error) {
	return invoke[wire.ModifyServiceTemplateGroupAttributeResponse](ctx, c, wire.ServiceVPC, wire.ActionModifyServiceTemplateGroupAttribute, req)
}

// DeleteServiceTemplateGroup calls the vpc action DeleteServiceTemplateGroup.
func (c *Client) DeleteServiceTemplateGroup(ctx context.Context, req *wire.DeleteServiceTemplateGroupRequest) (*wire.DeleteServiceTemplateGroupResponse, error) {
	return invoke[wire.DeleteServiceTemplateGroupResponse](ctx, c, wire.ServiceVPC, wire.ActionDeleteServiceTemplateGroup, req)
}

// AssociateSecurityGroups calls the cvm action AssociateSecurityGroups.
func (c *Client) AssociateSecurityGroups(ctx context.Context, req *wire.AssociateSecurityGroupsRequest) (*wire.AssociateSecurityGroupsResponse, error) {
	return invoke[wire.AssociateSecurityGroupsResponse](ctx, c, wire.ServiceCVM, wire.ActionAssociateSecurityGroups, req)
}

// DisassociateSecurityGroups calls the cvm action DisassociateSecurityGroups.
func (c *Client) DisassociateSecurityGroups(ctx context.Context, req *wire.DisassociateSecurityGroupsRequest) (*wire.DisassociateSecurityGroupsResponse, error) {
	return invoke[wire.DisassociateSecurityGroupsResponse](ctx, c, wire.ServiceCVM, wire.ActionDisassociateSecurityGroups, req)
}

// ModifyInstancesAttribute calls the cvm action ModifyInstancesAttribute.
func (c *Client) ModifyInstancesAttribute(ctx context.Context, req *wire.ModifyInstancesAttributeRequest) (*wire.ModifyInstancesAttributeResponse, error) {
	return invoke[wire.ModifyInstancesAttributeResponse](ctx, c, wire.ServiceCVM, wire.ActionModifyInstancesAttribute, req)
}

// DescribeInstances calls the cvm action DescribeInstances.
func (c *Client) DescribeInstances(ctx context.Context, req *wire.DescribeInstancesRequest) (*wire.DescribeInstancesResponse, error) {
	return invoke[wire.DescribeInstancesResponse](ctx, c, wire.ServiceCVM, wire.ActionDescribeInstances, req)
}

// TerminateInstances calls the cvm action TerminateInstances.
func (c *Client) TerminateInstances(ctx context.Context, req *wire.TerminateInstancesRequest) (*wire.TerminateInstancesResponse, error) {
	return invoke[wire.TerminateInstancesResponse](ctx, c, wire.ServiceCVM, wire.ActionTerminateInstances, req)
}

// StopInstances calls the cvm action StopInstances.
func (c *Client) StopInstances(ctx context.Context, req *wire.StopInstancesRequest) (*wire.StopInstancesResponse, error) {
	return invoke[wire.StopInstancesResponse](ctx, c, wire.ServiceCVM, wire.ActionStopInstances, req)
}

// StartInstances calls the cvm action StartInstances.
func (c *Client) StartInstances(ctx context.Context, req *wire.StartInstancesRequest) (*wire.StartInstancesResponse, error) {
	return invoke[wire.StartInstancesResponse](ctx, c, wire.ServiceCVM, wire.ActionStartInstances, req)
}

// RegisterInstances calls Palisade's action RegisterInstances.
func (c *Client) RegisterInstances(ctx context.Context, req *wire.RegisterInstancesRequest) (*wire.RegisterInstancesResponse, error) {
	return invoke[wire.RegisterInstancesResponse](ctx, c, wire.ServicePalisade, wire.ActionRegisterInstances, req)
}

// PurgeInstances calls Palisade's action PurgeInstances.
func (c *Client) PurgeInstances(ctx context.Context, req *wire.PurgeInstancesRequest) (*wire.PurgeInstancesResponse, error) {
	return invoke[wire.PurgeInstancesResponse](ctx, c, wire.ServicePalisade, wire.ActionPurgeInstances, req)
}

// UnblockPort25 calls Palisade's action UnblockPort25.
func (c *Client) UnblockPort25(ctx context.Context, req *wire.UnblockPort25Request) (*wire.UnblockPort25Response, error) {
	return invoke[wire.UnblockPort25Response](ctx, c, wire.ServicePalisade, wire.ActionUnblockPort25, req)
}

// DescribeAccount calls Palisade's action DescribeAccount.
func (c *Client) DescribeAccount(ctx context.Context, req *wire.DescribeAccountRequest) (*wire.DescribeAccountResponse, error) {
	return invoke[wire.DescribeAccountResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeAccount, req)
}

// DescribeSecurityGroupFindings calls Palisade's action
// DescribeSecurityGroupFindings.
func (c *Client) DescribeSecurityGroupFindings(ctx context.Context, req *wire.DescribeSecurityGroupFindingsRequest) (*wire.DescribeSecurityGroupFindingsResponse, error) {
	return invoke[wire.DescribeSecurityGroupFindingsResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeSecurityGroupFindings, req)
}

// SimulateTraffic calls Palisade's action SimulateTraffic.
func (c *Client) SimulateTraffic(ctx context.Context, req *wire.SimulateTrafficRequest) (*wire.SimulateTrafficResponse, error) {
	return invoke[wire.SimulateTrafficResponse](ctx, c, wire.ServicePalisade, wire.ActionSimulateTraffic, req)
}

// DescribeSecurityGroupTemplates calls Palisade's action DescribeSecurityGroupTemplates.
func (c *Client) DescribeSecurityGroupTemplates(ctx context.Context, req *wire.DescribeSecurityGroupTemplatesRequest) (*wire.DescribeSecurityGroupTemplatesResponse, error) {
	return invoke[wire.DescribeSecurityGroupTemplatesResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeSecurityGroupTemplates, req)
}

// DescribeCommonPorts calls Palisade's action DescribeCommonPorts.
func (c *Client) DescribeCommonPorts(ctx context.Context, req *wire.DescribeCommonPortsRequest) (*wire.DescribeCommonPortsResponse, error) {
	return invoke[wire.DescribeCommonPortsResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeCommonPorts, req)
}

// DescribeResourceTagsByResourceIds calls the tag action DescribeResourceTagsByResourceIds.
func (c *Client) DescribeResourceTagsByResourceIds(ctx context.Context, req *wire.DescribeResourceTagsByResourceIdsRequest) (*wire.DescribeResourceTagsByResourceIdsResponse, error) {
	return invoke[wire.DescribeResourceTagsByResourceIdsResponse](ctx, c, wire.ServiceTag, wire.ActionDescribeResourceTagsByResourceIds, req)
}

// ModifyResourceTags calls the tag action ModifyResourceTags.
func (c *Client) ModifyResourceTags(ctx context.Context, req *wire.ModifyResourceTagsRequest) (*wire.ModifyResourceTagsResponse, error) {
	return invoke[wire.ModifyResourceTagsResponse](ctx, c, wire.ServiceTag, wire.ActionModifyResourceTags, req)
}

// DescribeSecurityGroupHistory calls Palisade's action DescribeSecurityGroupHistory.
func (c *Client) DescribeSecurityGroupHistory(ctx context.Context, req *wire.DescribeSecurityGroupHistoryRequest) (*wire.DescribeSecurityGroupHistoryResponse, error) {
	return invoke[wire.DescribeSecurityGroupHistoryResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeSecurityGroupHistory, req)
}

// RestoreSecurityGroupVersion calls Palisade's action RestoreSecurityGroupVersion.
func (c *Client) RestoreSecurityGroupVersion(ctx context.Context, req *wire.RestoreSecurityGroupVersionRequest) (*wire.RestoreSecurityGroupVersionResponse, error) {
	return invoke[wire.RestoreSecurityGroupVersionResponse](ctx, c, wire.ServicePalisade, wire.ActionRestoreSecurityGroupVersion, req)
}

// DescribeHostState calls Palisade's action DescribeHostState (a host
// credential only): the host's whole desired state.
func (c *Client) DescribeHostState(ctx context.Context, req *wire.DescribeHostStateRequest) (*wire.DescribeHostStateResponse, error) {
	return invoke[wire.DescribeHostStateResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeHostState, req)
}

// WatchHostState calls Palisade's action WatchHostState (a host credential
// only): it returns when the host's state may have changed after
// req.Revision, or after req.WaitSeconds. The client's HTTP timeout must
// outlast the wait.
func (c *Client) WatchHostState(ctx context.Context, req *wire.WatchHostStateRequest) (*wire.WatchHostStateResponse, error) {
	return invoke[wire.WatchHostStateResponse](ctx, c, wire.ServicePalisade, wire.ActionWatchHostState, req)
}

// ReportHostStatus calls Palisade's action ReportHostStatus (a host
// credential only): the applied revision, errors and counters of the
// host's agent.
func (c *Client) ReportHostStatus(ctx context.Context, req *wire.ReportHostStatusRequest) (*wire.ReportHostStatusResponse, error) {
	return invoke[wire.ReportHostStatusResponse](ctx, c, wire.ServicePalisade, wire.ActionReportHostStatus, req)
}

// DescribeSecurityGroupPropagation calls Palisade's action
// DescribeSecurityGroupPropagation: how far each group's last change has
// reached the hosts it affects.
func (c *Client) DescribeSecurityGroupPropagation(ctx context.Context, req *wire.DescribeSecurityGroupPropagationRequest) (*wire.DescribeSecurityGroupPropagationResponse, error) {
	return invoke[wire.DescribeSecurityGroupPropagationResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeSecurityGroupPropagation, req)
}

// DescribeSecurityGroupPolicyStatistics calls Palisade's action
// DescribeSecurityGroupPolicyStatistics: the hosts' hit counts of each
// policy of a group.
func (c *Client) DescribeSecurityGroupPolicyStatistics(ctx context.Context, req *wire.DescribeSecurityGroupPolicyStatisticsRequest) (*wire.DescribeSecurityGroupPolicyStatisticsResponse, error) {
	return invoke[wire.DescribeSecurityGroupPolicyStatisticsResponse](ctx, c, wire.ServicePalisade, wire.ActionDescribeSecurityGroupPolicyStatistics, req)
}

// CheckReachability calls Palisade's action CheckReachability.
func (c *Client) CheckReachability(ctx context.Context, req *wire.CheckReachabilityRequest) (*wire.CheckReachabilityResponse, error) {
	return invoke[wire.CheckReachabilityResponse](ctx, c, wire.ServicePalisade, wire.ActionCheckReachability, req)
}

// PreviewSecurityGroupChange calls Palisade's action
// PreviewSecurityGroupChange.
func (c *Client) PreviewSecurityGroupChange(ctx context.Context, req *wire.PreviewSecurityGroupChangeRequest) (*wire.PreviewSecurityGroupChangeResponse, error) {
	return invoke[wire.PreviewSecurityGroupChangeResponse](ctx, c, wire.ServicePalisade, wire.ActionPreviewSecurityGroupChange, req)
}

// ConfirmSecurityGroupChange calls Palisade's action
// ConfirmSecurityGroupChange.
func (c *Client) ConfirmSecurityGroupChange(ctx context.Context, req *wire.ConfirmSecurityGroupChangeRequest) (*wire.ConfirmSecurityGroupChangeResponse, error) {
	return invoke[wire.ConfirmSecurityGroupChangeResponse](ctx, c, wire.ServicePalisade, wire.ActionConfirmSecurityGroupChange, req)
}
