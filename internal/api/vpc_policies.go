package api

import (
	"context"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// vpc security-group policy actions.

func (h *handler) describeSecurityGroupPolicies(c *call, req *wire.DescribeSecurityGroupPoliciesRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	gp, err := h.svc.DescribeSecurityGroupPolicies(c.ctx, c.caller, service.DescribePoliciesInput{
		SecurityGroupID: id,
		Filters:         filters(req.Filters),
	})
	if err != nil {
		return nil, err
	}
	return wire.DescribeSecurityGroupPoliciesResponse{SecurityGroupPolicySet: policySetToWire(gp)}, nil
}

// policiesInput reads the group and the required policy set of a policy
// write.
func policiesInput(id *wire.String, set *wire.SecurityGroupPolicySetInput) (service.PoliciesInput, error) {
	gid, err := requireString("SecurityGroupId", id)
	if err != nil {
		return service.PoliciesInput{}, err
	}
	if set == nil {
		return service.PoliciesInput{}, missing("SecurityGroupPolicySet")
	}
	in, err := policySetInput("SecurityGroupPolicySet", set)
	if err != nil {
		return service.PoliciesInput{}, err
	}
	return service.PoliciesInput{SecurityGroupID: gid, Set: in}, nil
}

// policyWrite runs fn, one of the service's policy writes, with req.
func policyWrite(c *call, req *wire.PoliciesRequest, fn func(context.Context, service.Caller, service.PoliciesInput) (service.WriteResult, error)) (wire.PolicyWriteResponse, error) {
	in, err := policiesInput(req.SecurityGroupId, req.SecurityGroupPolicySet)
	if err != nil {
		return wire.PolicyWriteResponse{}, err
	}
	return writeResult(fn(c.ctx, c.caller, in))
}

func (h *handler) createSecurityGroupPolicies(c *call, req *wire.CreateSecurityGroupPoliciesRequest) (any, error) {
	r, err := policyWrite(c, (*wire.PoliciesRequest)(req), h.svc.CreateSecurityGroupPolicies)
	return answer(wire.CreateSecurityGroupPoliciesResponse(r), err)
}

func (h *handler) deleteSecurityGroupPolicies(c *call, req *wire.DeleteSecurityGroupPoliciesRequest) (any, error) {
	r, err := policyWrite(c, (*wire.PoliciesRequest)(req), h.svc.DeleteSecurityGroupPolicies)
	return answer(wire.DeleteSecurityGroupPoliciesResponse(r), err)
}

func (h *handler) replaceSecurityGroupPolicy(c *call, req *wire.ReplaceSecurityGroupPolicyRequest) (any, error) {
	r, err := policyWrite(c, (*wire.PoliciesRequest)(req), h.svc.ReplaceSecurityGroupPolicy)
	return answer(wire.ReplaceSecurityGroupPolicyResponse(r), err)
}

func (h *handler) replaceSecurityGroupPolicies(c *call, req *wire.ReplaceSecurityGroupPoliciesRequest) (any, error) {
	pin, err := policiesInput(req.SecurityGroupId, req.SecurityGroupPolicySet)
	if err != nil {
		return nil, err
	}
	ut, err := service.ParseUpdateType(str(req.UpdateType))
	if err != nil {
		return nil, err
	}
	in := service.ReplacePoliciesInput{PoliciesInput: pin, UpdateType: ut}
	if req.OriginalSecurityGroupPolicySet != nil && ut != service.UpdatePolicy {
		orig, err := policySetInput("OriginalSecurityGroupPolicySet", req.OriginalSecurityGroupPolicySet)
		if err != nil {
			return nil, err
		}
		in.Original = &orig
	}
	r, err := writeResult(h.svc.ReplaceSecurityGroupPolicies(c.ctx, c.caller, in))
	return answer(wire.ReplaceSecurityGroupPoliciesResponse(r), err)
}

func (h *handler) modifySecurityGroupPolicies(c *call, req *wire.ModifySecurityGroupPoliciesRequest) (any, error) {
	pin, err := policiesInput(req.SecurityGroupId, req.SecurityGroupPolicySet)
	if err != nil {
		return nil, err
	}
	in := service.ModifyPoliciesInput{SecurityGroupID: pin.SecurityGroupID, Set: pin.Set}
	if req.SortPolicys != nil {
		if in.SortPolicys, err = boolean("SortPolicys", req.SortPolicys); err != nil {
			return nil, err
		}
	}
	r, err := writeResult(h.svc.ModifySecurityGroupPolicies(c.ctx, c.caller, in))
	return answer(wire.ModifySecurityGroupPoliciesResponse(r), err)
}

// answer returns resp, or err when there is one.
func answer[T any](resp T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return resp, nil
}
