// Package service owns every invariant and every write of Palisade's control
// plane: accounts and credentials, regions, instances and their bindings,
// security groups and their policy sets, templates, quotas, clone, delete
// protection, the outbound TCP 25 block, platform service addresses, history
// and traffic simulation. Each write is one store transaction.
//
// Parts of it live in leaf packages below it, which import none of it:
// kernel (Caller, Error and its kinds, quotas, regions, request-field
// checks), templates, tagging and instances (their actions, promoted
// through the Service embedding their types), policyset (the pure edits of
// a policy list) and internal/history (the policy-set history's encoding).
// This package keeps the type names its callers use as aliases.
//
// Front ends (the API, the CLI, the console) authenticate a request, build a
// Caller and call one method. The service enforces roles, tenancy (another
// account's resources are simply not found) and regionality (groups,
// templates and instances live in one region; a lookup from another region
// finds nothing).
//
// # Errors
//
// Methods return three families of errors, all inspectable with errors.As:
//
//   - *policy.FieldError (possibly several, joined with errors.Join; use
//     policy.FieldErrors): a malformed, out-of-range, missing, conflicting or
//     too long request field. Field is the API's field path, for example
//     "SecurityGroupPolicySet.Ingress.2.Port", "GroupName",
//     "SecurityGroupPolicySet.Ingress.0.PolicyIndex" (OutOfRange for an index
//     beyond the list), "Filters.Name" (an unknown filter key), "Limit".
//   - *Error: a domain failure with a Kind (NotFound, InUse, LimitExceeded,
//     VersionMismatch, Duplicate, DuplicatePolicy, Unsupported, Forbidden,
//     UnsupportedRegion, Invalid). For LimitExceeded, Quota names the quota;
//     for NotFound and InUse, Resource and ID name the resource and Blockers
//     lists what holds it.
//   - anything else is an internal error.
//
// # Actions
//
// Where each API action lands (vpc and cvm 2017-03-12, and Palisade's own):
//
//	CreateSecurityGroup                        CreateSecurityGroup (Template optional)
//	CreateSecurityGroupWithPolicies            CreateSecurityGroup with Policies set
//	CreateSecurityGroupPolicies                CreateSecurityGroupPolicies
//	DeleteSecurityGroup                        DeleteSecurityGroup
//	DeleteSecurityGroupPolicies                DeleteSecurityGroupPolicies
//	DescribeSecurityGroups                     DescribeSecurityGroups
//	DescribeSecurityGroupPolicies              DescribeSecurityGroupPolicies
//	ModifySecurityGroupAttribute               ModifySecurityGroupAttribute
//	ModifySecurityGroupPolicies                ModifySecurityGroupPolicies
//	ReplaceSecurityGroupPolicy                 ReplaceSecurityGroupPolicy
//	ReplaceSecurityGroupPolicies               ReplaceSecurityGroupPolicies
//	CloneSecurityGroup                         CloneSecurityGroup
//	CreateDefaultSecurityGroup                 CreateDefaultSecurityGroup
//	DescribeSecurityGroupAssociationStatistics DescribeSecurityGroupAssociationStatistics
//	DescribeSecurityGroupLimits                DescribeSecurityGroupLimits
//	DescribeSecurityGroupReferences            DescribeSecurityGroupReferences
//	CreateAddressTemplate                      CreateAddressTemplate
//	DescribeAddressTemplates                   DescribeAddressTemplates
//	ModifyAddressTemplateAttribute             ModifyAddressTemplateAttribute
//	DeleteAddressTemplate                      DeleteAddressTemplate
//	CreateAddressTemplateGroup                 CreateAddressTemplateGroup
//	DescribeAddressTemplateGroups              DescribeAddressTemplateGroups
//	ModifyAddressTemplateGroupAttribute        ModifyAddressTemplateGroupAttribute
//	DeleteAddressTemplateGroup                 DeleteAddressTemplateGroup
//	CreateServiceTemplate                      CreateServiceTemplate
//	DescribeServiceTemplates                   DescribeServiceTemplates
//	ModifyServiceTemplateAttribute             ModifyServiceTemplateAttribute
//	DeleteServiceTemplate                      DeleteServiceTemplate
//	CreateServiceTemplateGroup                 CreateServiceTemplateGroup
//	DescribeServiceTemplateGroups              DescribeServiceTemplateGroups
//	ModifyServiceTemplateGroupAttribute        ModifyServiceTemplateGroupAttribute
//	DeleteServiceTemplateGroup                 DeleteServiceTemplateGroup
//	cvm AssociateSecurityGroups                AssociateSecurityGroups
//	cvm DisassociateSecurityGroups             DisassociateSecurityGroups
//	cvm ModifyInstancesAttribute               ModifyInstancesAttribute (SecurityGroupIDs, InstanceName)
//	cvm DescribeInstances                      DescribeInstances
//	cvm StopInstances                          StopInstances (RUNNING → STOPPED)
//	cvm StartInstances                         StartInstances (STOPPED → RUNNING)
//	cvm TerminateInstances                     TerminateInstances (to the recycle bin)
//	RegisterInstances                          RegisterInstances (platform caller)
//	PurgeInstances                             PurgeInstances (recycle bin → TERMINATED)
//	UnblockPort25                              UnblockPort25
//	SimulateTraffic                            SimulateTraffic
//	DescribeSecurityGroupFindings              DescribeSecurityGroupFindings
//
// Authentication: LookupCredential returns the SecretKey (to verify the TC3
// signature) and, through Credential.Caller, the Caller of the request.
// Operator commands (palisade admin …, serve's bootstrap) use CreateAccount,
// CreateCredential, CreatePlatformKey, CreateHost, SetQuotas,
// AddPlatformAddress and EnsureBootstrap, which take no Caller.
//
// # Choices where the cloud is silent
//
//   - Version starts at "0" for a new group with no policies; creating a group
//     with policies (or from a template) makes it "1".
//   - AssociateSecurityGroups with a group the instance already has leaves its
//     position unchanged and is not an error.
//   - ModifySecurityGroupPolicies keeps the order given whatever SortPolicys
//     says; a direction absent or empty is left as it is; Version "0" clears
//     both directions; other Versions are not compared.
//   - PolicyIndex beyond the list's length is an OutOfRange field error
//     (creation may use the length itself, which appends).
//   - A policy with no Protocol, Port or ServiceTemplate has protocol ALL, in
//     writes and in deletes by content (the Terraform provider relies on it).
//   - Two policies of a direction that differ only in their description are
//     not duplicates; a delete by content prefers the one whose description
//     it gives.
//   - Filters given twice under one name are ANDed, like different filters.
//   - The group name "default" is reserved for the projects' default groups:
//     creating, cloning or renaming another group to it is KindDuplicate.
//   - SecretKeys are stored as given (TC3 verification needs the raw key); the
//     store file must be protected like a key file.
package service
