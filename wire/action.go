package wire

// Services, as named in the credential scope of a TC3-HMAC-SHA256
// signature.
const (
	// ServiceVPC is the vpc service: security groups, their policies and
	// parameter templates.
	ServiceVPC = "vpc"
	// ServiceCVM is the cvm service: instances and their bindings.
	ServiceCVM = "cvm"
	// ServiceTag is the tag service: the tags of security groups.
	ServiceTag = "tag"
	// ServicePalisade names Palisade's own actions. The server dispatches
	// them on the action name whatever the service and version of the
	// request.
	ServicePalisade = "palisade"
)

// Version is the only version of the vpc and cvm APIs served, sent in
// X-TC-Version. Palisade's own actions are served whatever the version.
const Version = "2017-03-12"

// VersionTag is the only version of the tag API served.
const VersionTag = "2018-08-13"

// ServiceVersion returns the API version served for a service: VersionTag
// for the tag service, Version for every other.
func ServiceVersion(service string) string {
	if service == ServiceTag {
		return VersionTag
	}
	return Version
}

// Names of the vpc security-group actions.
const (
	ActionCreateSecurityGroup                        = "CreateSecurityGroup"
	ActionCreateSecurityGroupWithPolicies            = "CreateSecurityGroupWithPolicies"
	ActionCreateDefaultSecurityGroup                 = "CreateDefaultSecurityGroup"
	ActionDescribeSecurityGroups                     = "DescribeSecurityGroups"
	ActionModifySecurityGroupAttribute               = "ModifySecurityGroupAttribute"
	ActionDeleteSecurityGroup                        = "DeleteSecurityGroup"
	ActionCloneSecurityGroup                         = "CloneSecurityGroup"
	ActionDescribeSecurityGroupAssociationStatistics = "DescribeSecurityGroupAssociationStatistics"
	ActionDescribeSecurityGroupReferences            = "DescribeSecurityGroupReferences"
	ActionDescribeSecurityGroupLimits                = "DescribeSecurityGroupLimits"
)

// Names of the vpc security-group policy actions.
const (
	ActionDescribeSecurityGroupPolicies = "DescribeSecurityGroupPolicies"
	ActionCreateSecurityGroupPolicies   = "CreateSecurityGroupPolicies"
	ActionDeleteSecurityGroupPolicies   = "DeleteSecurityGroupPolicies"
	ActionReplaceSecurityGroupPolicy    = "ReplaceSecurityGroupPolicy"
	ActionReplaceSecurityGroupPolicies  = "ReplaceSecurityGroupPolicies"
	ActionModifySecurityGroupPolicies   = "ModifySecurityGroupPolicies"
)

// Names of the vpc parameter-template actions.
const (
	ActionCreateAddressTemplate               = "CreateAddressTemplate"
	ActionDescribeAddressTemplates            = "DescribeAddressTemplates"
	ActionModifyAddressTemplateAttribute      = "ModifyAddressTemplateAttribute"
	ActionDeleteAddressTemplate               = "DeleteAddressTemplate"
	ActionCreateAddressTemplateGroup          = "CreateAddressTemplateGroup"
	ActionDescribeAddressTemplateGroups       = "DescribeAddressTemplateGroups"
	ActionModifyAddressTemplateGroupAttribute = "ModifyAddressTemplateGroupAttribute"
	ActionDeleteAddressTemplateGroup          = "DeleteAddressTemplateGroup"
	ActionCreateServiceTemplate               = "CreateServiceTemplate"
	ActionDescribeServiceTemplates            = "DescribeServiceTemplates"
	ActionModifyServiceTemplateAttribute      = "ModifyServiceTemplateAttribute"
	ActionDeleteServiceTemplate               = "DeleteServiceTemplate"
	ActionCreateServiceTemplateGroup          = "CreateServiceTemplateGroup"
	ActionDescribeServiceTemplateGroups       = "DescribeServiceTemplateGroups"
	ActionModifyServiceTemplateGroupAttribute = "ModifyServiceTemplateGroupAttribute"
	ActionDeleteServiceTemplateGroup          = "DeleteServiceTemplateGroup"
)

// Names of the cvm actions.
const (
	ActionAssociateSecurityGroups    = "AssociateSecurityGroups"
	ActionDisassociateSecurityGroups = "DisassociateSecurityGroups"
	ActionModifyInstancesAttribute   = "ModifyInstancesAttribute"
	ActionDescribeInstances          = "DescribeInstances"
	ActionTerminateInstances         = "TerminateInstances"
	ActionStopInstances              = "StopInstances"
	ActionStartInstances             = "StartInstances"
)

// Names of the tag actions.
const (
	ActionDescribeResourceTagsByResourceIds = "DescribeResourceTagsByResourceIds"
	ActionModifyResourceTags                = "ModifyResourceTags"
)

// Names of Palisade's own actions.
const (
	ActionRegisterInstances              = "RegisterInstances"
	ActionPurgeInstances                 = "PurgeInstances"
	ActionUnblockPort25                  = "UnblockPort25"
	ActionDescribeAccount                = "DescribeAccount"
	ActionSimulateTraffic                = "SimulateTraffic"
	ActionDescribeSecurityGroupTemplates = "DescribeSecurityGroupTemplates"
	ActionDescribeCommonPorts            = "DescribeCommonPorts"
	ActionDescribeSecurityGroupHistory   = "DescribeSecurityGroupHistory"
	ActionRestoreSecurityGroupVersion    = "RestoreSecurityGroupVersion"
	ActionDescribeSecurityGroupFindings  = "DescribeSecurityGroupFindings"
	ActionCheckReachability              = "CheckReachability"
	ActionPreviewSecurityGroupChange     = "PreviewSecurityGroupChange"
	ActionConfirmSecurityGroupChange     = "ConfirmSecurityGroupChange"

	// The host protocol, for host credentials only.
	ActionDescribeHostState = "DescribeHostState"
	ActionWatchHostState    = "WatchHostState"
	ActionReportHostStatus  = "ReportHostStatus"

	// How far changes have reached the hosts.
	ActionDescribeSecurityGroupPropagation = "DescribeSecurityGroupPropagation"
	// The hosts' hit counters of a group's policies.
	ActionDescribeSecurityGroupPolicyStatistics = "DescribeSecurityGroupPolicyStatistics"
)

// Action is one action served: its name and the service it belongs to.
type Action struct {
	Name    string
	Service string // ServiceVPC, ServiceCVM, ServiceTag or ServicePalisade
}

// Actions returns every action served, grouped by service in the order of
// the constants above.
func Actions() []Action {
	vpc := []string{
		ActionCreateSecurityGroup, ActionCreateSecurityGroupWithPolicies, ActionCreateDefaultSecurityGroup,
		ActionDescribeSecurityGroups, ActionModifySecurityGroupAttribute, ActionDeleteSecurityGroup,
		ActionCloneSecurityGroup, ActionDescribeSecurityGroupAssociationStatistics,
		ActionDescribeSecurityGroupReferences, ActionDescribeSecurityGroupLimits,
		ActionDescribeSecurityGroupPolicies, ActionCreateSecurityGroupPolicies, ActionDeleteSecurityGroupPolicies,
		ActionReplaceSecurityGroupPolicy, ActionReplaceSecurityGroupPolicies, ActionModifySecurityGroupPolicies,
		ActionCreateAddressTemplate, ActionDescribeAddressTemplates, ActionModifyAddressTemplateAttribute,
		ActionDeleteAddressTemplate, ActionCreateAddressTemplateGroup, ActionDescribeAddressTemplateGroups,
		ActionModifyAddressTemplateGroupAttribute, ActionDeleteAddressTemplateGroup,
		ActionCreateServiceTemplate, ActionDescribeServiceTemplates, ActionModifyServiceTemplateAttribute,
		ActionDeleteServiceTemplate, ActionCreateServiceTemplateGroup, ActionDescribeServiceTemplateGroups,
		ActionModifyServiceTemplateGroupAttribute, ActionDeleteServiceTemplateGroup,
	}
	cvm := []string{
		ActionAssociateSecurityGroups, ActionDisassociateSecurityGroups, ActionModifyInstancesAttribute,
		ActionDescribeInstances, ActionTerminateInstances, ActionStopInstances, ActionStartInstances,
	}
	tag := []string{ActionDescribeResourceTagsByResourceIds, ActionModifyResourceTags}
	palisade := []string{
		ActionRegisterInstances, ActionPurgeInstances, ActionUnblockPort25, ActionDescribeAccount,
		ActionSimulateTraffic, ActionDescribeSecurityGroupTemplates, ActionDescribeCommonPorts,
		ActionDescribeSecurityGroupHistory, ActionRestoreSecurityGroupVersion, ActionDescribeSecurityGroupFindings,
		ActionDescribeHostState, ActionWatchHostState, ActionReportHostStatus,
		ActionDescribeSecurityGroupPropagation, ActionDescribeSecurityGroupPolicyStatistics,
		ActionCheckReachability, ActionPreviewSecurityGroupChange, ActionConfirmSecurityGroupChange,
	}
	out := make([]Action, 0, len(vpc)+len(cvm)+len(tag)+len(palisade))
	for _, g := range []struct {
		service string
		names   []string
	}{{ServiceVPC, vpc}, {ServiceCVM, cvm}, {ServiceTag, tag}, {ServicePalisade, palisade}} {
		for _, n := range g.names {
			out = append(out, Action{Name: n, Service: g.service})
		}
	}
	return out
}
