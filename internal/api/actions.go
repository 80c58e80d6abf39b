package api

import (
	"maps"
	"slices"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// action is one API action: the service it belongs to (wire.ServiceVPC,
// wire.ServiceCVM, wire.ServiceTag, or wire.ServicePalisade for Palisade's own actions,
// served whatever the request's service), whether it writes, whether it is
// one of the host protocol's (which only a host credential may call, and
// a host credential nothing else), and its handler.
type action struct {
	service string
	write   bool
	host    bool
	run     func(h *handler, c *call) (any, error)
}

// act builds an action whose handler takes the decoded request Req.
func act[Req any](svc string, write bool, fn func(h *handler, c *call, req *Req) (any, error)) action {
	return action{service: svc, write: write, run: func(h *handler, c *call) (any, error) {
		release, err := h.admit.admit(c.ctx, c.body)
		if err != nil {
			return nil, err
		}
		defer func() { release() }()
		var req Req
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		var wait *service.WaitAppliedInput
		if write {
			if wait, err = waitApplied(c.body); err != nil {
				return nil, err
			}
			flush, err := flushConnections(c.body)
			if err != nil {
				return nil, err
			}
			if flush {
				c.ctx = service.WithFlushConnections(c.ctx)
			}
			guard, err := writeGuard(c.body)
			if err != nil {
				return nil, err
			}
			if guard.ConfirmWithin > 0 && !confirmable(c.action) {
				return nil, malformed("ConfirmWithin", "", "applies to the policy writes (Create, Delete, Replace and Modify SecurityGroupPolicies, RestoreSecurityGroupVersion), not to "+c.action)
			}
			guard.Source = c.source
			c.ctx = service.WithWriteGuard(c.ctx, guard)
		}
		res, err := fn(h, c, &req)
		if err != nil || wait == nil {
			return res, err
		}
		// The write is done: its decoding budget is not held while the
		// hosts apply it.
		release()
		release = func() {}
		return res, h.svc.WaitApplied(c.ctx, c.caller, *wait)
	}}
}

// confirmable reports whether a ConfirmWithin may go with action: the
// policy writes.
func confirmable(action string) bool {
	switch action {
	case wire.ActionCreateSecurityGroupPolicies, wire.ActionDeleteSecurityGroupPolicies,
		wire.ActionReplaceSecurityGroupPolicy, wire.ActionReplaceSecurityGroupPolicies,
		wire.ActionModifySecurityGroupPolicies, wire.ActionRestoreSecurityGroupVersion:
		return true
	}
	return false
}

// hostAct builds an action of the host protocol.
func hostAct[Req any](write bool, fn func(h *handler, c *call, req *Req) (any, error)) action {
	a := act(wire.ServicePalisade, write, fn)
	a.host = true
	return a
}

const (
	read  = false
	write = true
)

// actions is the table of every action served.
func actions() map[string]action {
	return map[string]action{
		// vpc: security groups
		wire.ActionCreateSecurityGroup:                        act(wire.ServiceVPC, write, (*handler).createSecurityGroup),
		wire.ActionCreateSecurityGroupWithPolicies:            act(wire.ServiceVPC, write, (*handler).createSecurityGroupWithPolicies),
		wire.ActionCreateDefaultSecurityGroup:                 act(wire.ServiceVPC, write, (*handler).createDefaultSecurityGroup),
		wire.ActionDescribeSecurityGroups:                     act(wire.ServiceVPC, read, (*handler).describeSecurityGroups),
		wire.ActionModifySecurityGroupAttribute:               act(wire.ServiceVPC, write, (*handler).modifySecurityGroupAttribute),
		wire.ActionDeleteSecurityGroup:                        act(wire.ServiceVPC, write, (*handler).deleteSecurityGroup),
		wire.ActionCloneSecurityGroup:                         act(wire.ServiceVPC, write, (*handler).cloneSecurityGroup),
		wire.ActionDescribeSecurityGroupAssociationStatistics: act(wire.ServiceVPC, read, (*handler).describeSecurityGroupAssociationStatistics),
		wire.ActionDescribeSecurityGroupReferences:            act(wire.ServiceVPC, read, (*handler).describeSecurityGroupReferences),
		wire.ActionDescribeSecurityGroupLimits:                act(wire.ServiceVPC, read, (*handler).describeSecurityGroupLimits),

		// vpc: policies
		wire.ActionDescribeSecurityGroupPolicies: act(wire.ServiceVPC, read, (*handler).describeSecurityGroupPolicies),
		wire.ActionCreateSecurityGroupPolicies:   act(wire.ServiceVPC, write, (*handler).createSecurityGroupPolicies),
		wire.ActionDeleteSecurityGroupPolicies:   act(wire.ServiceVPC, write, (*handler).deleteSecurityGroupPolicies),
		wire.ActionReplaceSecurityGroupPolicy:    act(wire.ServiceVPC, write, (*handler).replaceSecurityGroupPolicy),
		wire.ActionReplaceSecurityGroupPolicies:  act(wire.ServiceVPC, write, (*handler).replaceSecurityGroupPolicies),
		wire.ActionModifySecurityGroupPolicies:   act(wire.ServiceVPC, write, (*handler).modifySecurityGroupPolicies),

		// vpc: parameter templates
		wire.ActionCreateAddressTemplate:               act(wire.ServiceVPC, write, (*handler).createAddressTemplate),
		wire.ActionDescribeAddressTemplates:            act(wire.ServiceVPC, read, (*handler).describeAddressTemplates),
		wire.ActionModifyAddressTemplateAttribute:      act(wire.ServiceVPC, write, (*handler).modifyAddressTemplateAttribute),
		wire.ActionDeleteAddressTemplate:               act(wire.ServiceVPC, write, (*handler).deleteAddressTemplate),
		wire.ActionCreateAddressTemplateGroup:          act(wire.ServiceVPC, write, (*handler).createAddressTemplateGroup),
		wire.ActionDescribeAddressTemplateGroups:       act(wire.ServiceVPC, read, (*handler).describeAddressTemplateGroups),
		wire.ActionModifyAddressTemplateGroupAttribute: act(wire.ServiceVPC, write, (*handler).modifyAddressTemplateGroupAttribute),
		wire.ActionDeleteAddressTemplateGroup:          act(wire.ServiceVPC, write, (*handler).deleteAddressTemplateGroup),
		wire.ActionCreateServiceTemplate:               act(wire.ServiceVPC, write, (*handler).createServiceTemplate),
		wire.ActionDescribeServiceTemplates:            act(wire.ServiceVPC, read, (*handler).describeServiceTemplates),
		wire.ActionModifyServiceTemplateAttribute:      act(wire.ServiceVPC, write, (*handler).modifyServiceTemplateAttribute),
		wire.ActionDeleteServiceTemplate:               act(wire.ServiceVPC, write, (*handler).deleteServiceTemplate),
		wire.ActionCreateServiceTemplateGroup:          act(wire.ServiceVPC, write, (*handler).createServiceTemplateGroup),
		wire.ActionDescribeServiceTemplateGroups:       act(wire.ServiceVPC, read, (*handler).describeServiceTemplateGroups),
		wire.ActionModifyServiceTemplateGroupAttribute: act(wire.ServiceVPC, write, (*handler).modifyServiceTemplateGroupAttribute),
		wire.ActionDeleteServiceTemplateGroup:          act(wire.ServiceVPC, write, (*handler).deleteServiceTemplateGroup),

		// cvm
		wire.ActionAssociateSecurityGroups:    act(wire.ServiceCVM, write, (*handler).associateSecurityGroups),
		wire.ActionDisassociateSecurityGroups: act(wire.ServiceCVM, write, (*handler).disassociateSecurityGroups),
		wire.ActionModifyInstancesAttribute:   act(wire.ServiceCVM, write, (*handler).modifyInstancesAttribute),
		wire.ActionDescribeInstances:          act(wire.ServiceCVM, read, (*handler).describeInstances),
		wire.ActionTerminateInstances:         act(wire.ServiceCVM, write, (*handler).terminateInstances),
		wire.ActionStopInstances:              act(wire.ServiceCVM, write, (*handler).stopInstances),
		wire.ActionStartInstances:             act(wire.ServiceCVM, write, (*handler).startInstances),

		// tag (2018-08-13): the tags of security groups
		wire.ActionDescribeResourceTagsByResourceIds: act(wire.ServiceTag, read, (*handler).describeResourceTagsByResourceIds),
		wire.ActionModifyResourceTags:                act(wire.ServiceTag, write, (*handler).modifyResourceTags),

		// Palisade
		wire.ActionRegisterInstances: act(wire.ServicePalisade, write, (*handler).registerInstances),
		wire.ActionPurgeInstances:    act(wire.ServicePalisade, write, (*handler).purgeInstances),
		wire.ActionUnblockPort25:     act(wire.ServicePalisade, write, (*handler).unblockPort25),
		wire.ActionDescribeAccount:   act(wire.ServicePalisade, read, (*handler).describeAccount),
		wire.ActionSimulateTraffic:   act(wire.ServicePalisade, read, (*handler).simulateTraffic),

		wire.ActionDescribeSecurityGroupTemplates: act(wire.ServicePalisade, read, (*handler).describeSecurityGroupTemplates),
		wire.ActionDescribeCommonPorts:            act(wire.ServicePalisade, read, (*handler).describeCommonPorts),
		wire.ActionDescribeSecurityGroupHistory:   act(wire.ServicePalisade, read, (*handler).describeSecurityGroupHistory),
		wire.ActionRestoreSecurityGroupVersion:    act(wire.ServicePalisade, write, (*handler).restoreSecurityGroupVersion),
		wire.ActionDescribeSecurityGroupFindings:  act(wire.ServicePalisade, read, (*handler).describeSecurityGroupFindings),

		// Palisade: the host protocol, for host credentials only
		wire.ActionDescribeHostState: hostAct(read, (*handler).describeHostState),
		wire.ActionWatchHostState:    hostAct(read, (*handler).watchHostState),
		wire.ActionReportHostStatus:  hostAct(write, (*handler).reportHostStatus),

		wire.ActionDescribeSecurityGroupPropagation:      act(wire.ServicePalisade, read, (*handler).describeSecurityGroupPropagation),
		wire.ActionDescribeSecurityGroupPolicyStatistics: act(wire.ServicePalisade, read, (*handler).describeSecurityGroupPolicyStatistics),

		wire.ActionCheckReachability:          act(wire.ServicePalisade, read, (*handler).checkReachability),
		wire.ActionPreviewSecurityGroupChange: act(wire.ServicePalisade, read, (*handler).previewSecurityGroupChange),
		wire.ActionConfirmSecurityGroupChange: act(wire.ServicePalisade, write, (*handler).confirmSecurityGroupChange),
	}
}

// ActionNames returns the name of every action served, sorted.
func ActionNames() []string {
	return slices.Sorted(maps.Keys(actions()))
}
