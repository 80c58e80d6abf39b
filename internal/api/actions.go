package api

import (
	"maps"
	"slices"
)

// action is one API action: the service it belongs to ("vpc", "cvm", or
// "palisade" for Palisade's own actions, served whatever the request's
// service), whether it writes, and its handler.
type action struct {
	service string
	write   bool
	run     func(h *handler, c *call) (any, error)
}

// act builds an action whose handler takes the decoded request Req.
func act[Req any](svc string, write bool, fn func(h *handler, c *call, req *Req) (any, error)) action {
	return action{service: svc, write: write, run: func(h *handler, c *call) (any, error) {
		release, err := h.admit.admit(c.ctx, c.body)
		if err != nil {
			return nil, err
		}
		defer release()
		var req Req
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		return fn(h, c, &req)
	}}
}

const (
	read  = false
	write = true
)

// actions is the table of every action served.
func actions() map[string]action {
	return map[string]action{
		// vpc: security groups
		"CreateSecurityGroup":                        act("vpc", write, (*handler).createSecurityGroup),
		"CreateSecurityGroupWithPolicies":            act("vpc", write, (*handler).createSecurityGroupWithPolicies),
		"CreateDefaultSecurityGroup":                 act("vpc", write, (*handler).createDefaultSecurityGroup),
		"DescribeSecurityGroups":                     act("vpc", read, (*handler).describeSecurityGroups),
		"ModifySecurityGroupAttribute":               act("vpc", write, (*handler).modifySecurityGroupAttribute),
		"DeleteSecurityGroup":                        act("vpc", write, (*handler).deleteSecurityGroup),
		"CloneSecurityGroup":                         act("vpc", write, (*handler).cloneSecurityGroup),
		"DescribeSecurityGroupAssociationStatistics": act("vpc", read, (*handler).describeSecurityGroupAssociationStatistics),
		"DescribeSecurityGroupReferences":            act("vpc", read, (*handler).describeSecurityGroupReferences),
		"DescribeSecurityGroupLimits":                act("vpc", read, (*handler).describeSecurityGroupLimits),

		// vpc: policies
		"DescribeSecurityGroupPolicies": act("vpc", read, (*handler).describeSecurityGroupPolicies),
		"CreateSecurityGroupPolicies":   act("vpc", write, (*handler).createSecurityGroupPolicies),
		"DeleteSecurityGroupPolicies":   act("vpc", write, (*handler).deleteSecurityGroupPolicies),
		"ReplaceSecurityGroupPolicy":    act("vpc", write, (*handler).replaceSecurityGroupPolicy),
		"ReplaceSecurityGroupPolicies":  act("vpc", write, (*handler).replaceSecurityGroupPolicies),
		"ModifySecurityGroupPolicies":   act("vpc", write, (*handler).modifySecurityGroupPolicies),

		// vpc: parameter templates
		"CreateAddressTemplate":               act("vpc", write, (*handler).createAddressTemplate),
		"DescribeAddressTemplates":            act("vpc", read, (*handler).describeAddressTemplates),
		"ModifyAddressTemplateAttribute":      act("vpc", write, (*handler).modifyAddressTemplateAttribute),
		"DeleteAddressTemplate":               act("vpc", write, (*handler).deleteAddressTemplate),
		"CreateAddressTemplateGroup":          act("vpc", write, (*handler).createAddressTemplateGroup),
		"DescribeAddressTemplateGroups":       act("vpc", read, (*handler).describeAddressTemplateGroups),
		"ModifyAddressTemplateGroupAttribute": act("vpc", write, (*handler).modifyAddressTemplateGroupAttribute),
		"DeleteAddressTemplateGroup":          act("vpc", write, (*handler).deleteAddressTemplateGroup),
		"CreateServiceTemplate":               act("vpc", write, (*handler).createServiceTemplate),
		"DescribeServiceTemplates":            act("vpc", read, (*handler).describeServiceTemplates),
		"ModifyServiceTemplateAttribute":      act("vpc", write, (*handler).modifyServiceTemplateAttribute),
		"DeleteServiceTemplate":               act("vpc", write, (*handler).deleteServiceTemplate),
		"CreateServiceTemplateGroup":          act("vpc", write, (*handler).createServiceTemplateGroup),
		"DescribeServiceTemplateGroups":       act("vpc", read, (*handler).describeServiceTemplateGroups),
		"ModifyServiceTemplateGroupAttribute": act("vpc", write, (*handler).modifyServiceTemplateGroupAttribute),
		"DeleteServiceTemplateGroup":          act("vpc", write, (*handler).deleteServiceTemplateGroup),

		// cvm
		"AssociateSecurityGroups":    act("cvm", write, (*handler).associateSecurityGroups),
		"DisassociateSecurityGroups": act("cvm", write, (*handler).disassociateSecurityGroups),
		"ModifyInstancesAttribute":   act("cvm", write, (*handler).modifyInstancesAttribute),
		"DescribeInstances":          act("cvm", read, (*handler).describeInstances),
		"TerminateInstances":         act("cvm", write, (*handler).terminateInstances),
		"StopInstances":              act("cvm", write, (*handler).stopInstances),
		"StartInstances":             act("cvm", write, (*handler).startInstances),

		// Palisade
		"RegisterInstances": act("palisade", write, (*handler).registerInstances),
		"PurgeInstances":    act("palisade", write, (*handler).purgeInstances),
		"UnblockPort25":     act("palisade", write, (*handler).unblockPort25),
		"DescribeAccount":   act("palisade", read, (*handler).describeAccount),
		"SimulateTraffic":   act("palisade", read, (*handler).simulateTraffic),

		"DescribeSecurityGroupTemplates": act("palisade", read, (*handler).describeSecurityGroupTemplates),
		"DescribeCommonPorts":            act("palisade", read, (*handler).describeCommonPorts),
	}
}

// ActionNames returns the name of every action served, sorted.
func ActionNames() []string {
	return slices.Sorted(maps.Keys(actions()))
}
