package service

import (
	"context"
	"errors"
)

// errNotYet marks an operation whose body is still being written.
var errNotYet = errors.New("not implemented yet")

// ---- authentication and accounts ----

// LookupCredential returns the credential of secretID, with its raw SecretKey
// for signature verification. An unknown id is a KindNotFound *Error with
// Resource ResourceCredential.
// DescribeAccount returns the caller's account.
// UnblockPort25 lifts the caller's account's outbound TCP 25 block and records
// who did it, and when, in the account's history. Lifting it again is a
// no-op.
// CreateSecurityGroup creates a group in the caller's region (with optional
// template or policies; CreateSecurityGroupWithPolicies). Warnings concern
// the policies created.
// CreateDefaultSecurityGroup returns the project's default group, creating it
// (name "default", description "System created security group", all IPv4
// both ways) when missing.
// DescribeSecurityGroups lists the caller's groups in its region, with the
// total count before paging.
// DescribeSecurityGroupPolicies returns a group's policy set.
// ModifySecurityGroupAttribute renames a group or changes its description.
// DeleteSecurityGroup deletes a group. It fails KindInUse while any instance
// (recycle bin included) is bound to it or another group's policy references
// it (Blockers names them all), and KindUnsupported for a default group.
// CloneSecurityGroup copies a group's policies (no bindings, no tags) into a
// new group in the caller's region.
// DescribeSecurityGroupAssociationStatistics counts what uses each group.
// DescribeSecurityGroupReferences lists, for each group, the groups whose
// policies reference it.
// DescribeSecurityGroupLimits returns the caller's effective quotas.
// CreateSecurityGroupPolicies inserts the policies of one direction at their
// shared PolicyIndex (0 = top, absent = append), checking Version if given.
// DeleteSecurityGroupPolicies deletes policies of one direction, all by
// PolicyIndex or all by content, checking Version if given.
// ReplaceSecurityGroupPolicy replaces exactly one policy, chosen by its
// PolicyIndex, checking Version if given.
// ReplaceSecurityGroupPolicies replaces one or more policies of one
// direction, each chosen by its PolicyIndex, checking Version if given.
// ModifySecurityGroupPolicies replaces whole directions: an absent or empty
// direction is left as it is, Version "0" clears both, other Versions are not
// compared.
// RegisterInstances registers instances of an account in the caller's region
// (platform callers only) and returns their ids in order.
// DescribeInstances lists the caller's instances in its region, with the
// total count before paging. Terminated instances are listed too.
// TerminateInstances moves instances to the recycle bin (RECYCLED); they keep
// their bindings.
// PurgeInstances terminates instances for good (TERMINATED) and releases
// their bindings. The owning account or the platform may call it.
// AssociateSecurityGroups appends the groups, in order, at the end of each
// instance's list; a group already bound keeps its position. All or nothing.
// DisassociateSecurityGroups removes the groups from each instance's list.
// A group that is not bound to a listed instance is a KindInvalid error.
// ModifyInstancesAttribute renames instances and/or sets their whole ordered
// group list. All or nothing.
// CreateAddressTemplate creates an ipm- template.
// DescribeAddressTemplates lists address templates and the total count.
// ModifyAddressTemplateAttribute renames a template or replaces its entries.
// DeleteAddressTemplate deletes a template that no policy or template group
// uses (else KindInUse naming them).
// CreateAddressTemplateGroup creates an ipmg- group.
// DescribeAddressTemplateGroups lists address template groups.
// ModifyAddressTemplateGroupAttribute renames a group or sets its members.
// DeleteAddressTemplateGroup deletes a group no policy uses.
// CreateServiceTemplate creates a ppm- template.
// DescribeServiceTemplates lists service templates.
// ModifyServiceTemplateAttribute renames a template or replaces its entries.
// DeleteServiceTemplate deletes a template no policy or group uses.
// CreateServiceTemplateGroup creates a ppmg- group.
// DescribeServiceTemplateGroups lists service template groups.
// ModifyServiceTemplateGroupAttribute renames a group or sets its members.
// DeleteServiceTemplateGroup deletes a group no policy uses.
// SimulateTraffic decides one packet for an instance through its effective
// rule list: platform rules, its groups in binding order, the default DROP.
func (s *Service) SimulateTraffic(ctx context.Context, c Caller, in SimulateInput) (Decision, error) {
	return Decision{}, errNotYet
}

// ---- operator (no Caller: the operator works on the store directly) ----

// CreateAccount creates an account and its first (admin) credential.
// CreateCredential adds a credential (admin or readonly) to an account.
// CreatePlatformKey creates a platform credential.
// CreateHost creates a host and its credential.
// SetQuotas overrides an account's quotas (zero fields unchanged) and
// returns the effective quotas.
// AddPlatformAddress adds a platform service address prefix.
// RemovePlatformAddress removes a stored platform service address prefix.
// PlatformAddresses returns every platform service address (configured and
// stored).
// EnsureBootstrap creates an admin account when the store has none and
// returns its credentials; it returns nil when accounts already exist.
// SeedDemo creates a demo account with a host, instances across zones,
// groups (open-common, web, a db group referencing web), templates and
// bindings.
func (s *Service) SeedDemo(ctx context.Context) (Demo, error) { return Demo{}, errNotYet }

type simCache struct{}

func newSimCache() *simCache { return &simCache{} }
