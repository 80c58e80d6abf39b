package api

import (
	"context"

	"github.com/palisade-sg/palisade/internal/service"
)

// vpc security-group policy actions.

type describeSecurityGroupPoliciesRequest struct {
	SecurityGroupId *flexString `json:"SecurityGroupId"`
	Filters         []filterIn  `json:"Filters"`
}

type describeSecurityGroupPoliciesResponse struct {
	SecurityGroupPolicySet policySetOut `json:"SecurityGroupPolicySet"`
}

func (h *handler) describeSecurityGroupPolicies(c *call, req *describeSecurityGroupPoliciesRequest) (any, error) {
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
	return describeSecurityGroupPoliciesResponse{SecurityGroupPolicySet: policySetToWire(gp)}, nil
}

// policiesRequest is the request of CreateSecurityGroupPolicies,
// DeleteSecurityGroupPolicies, ReplaceSecurityGroupPolicy and
// ReplaceSecurityGroupPolicies. OriginalSecurityGroupPolicySet is accepted
// and, as in the cloud, only informative.
type policiesRequest struct {
	SecurityGroupId                *flexString  `json:"SecurityGroupId"`
	SecurityGroupPolicySet         *policySetIn `json:"SecurityGroupPolicySet"`
	OriginalSecurityGroupPolicySet *policySetIn `json:"OriginalSecurityGroupPolicySet"`
}

func (req *policiesRequest) input() (service.PoliciesInput, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return service.PoliciesInput{}, err
	}
	if req.SecurityGroupPolicySet == nil {
		return service.PoliciesInput{}, missing("SecurityGroupPolicySet")
	}
	set, err := req.SecurityGroupPolicySet.input("SecurityGroupPolicySet")
	if err != nil {
		return service.PoliciesInput{}, err
	}
	return service.PoliciesInput{SecurityGroupID: id, Set: set}, nil
}

// policyWrite runs fn, one of the service's policy writes, with req.
func policyWrite(c *call, req *policiesRequest, fn func(context.Context, service.Caller, service.PoliciesInput) (service.WriteResult, error)) (any, error) {
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	return writeResult(fn(c.ctx, c.caller, in))
}

func (h *handler) createSecurityGroupPolicies(c *call, req *policiesRequest) (any, error) {
	return policyWrite(c, req, h.svc.CreateSecurityGroupPolicies)
}

func (h *handler) deleteSecurityGroupPolicies(c *call, req *policiesRequest) (any, error) {
	return policyWrite(c, req, h.svc.DeleteSecurityGroupPolicies)
}

func (h *handler) replaceSecurityGroupPolicy(c *call, req *policiesRequest) (any, error) {
	return policyWrite(c, req, h.svc.ReplaceSecurityGroupPolicy)
}

func (h *handler) replaceSecurityGroupPolicies(c *call, req *policiesRequest) (any, error) {
	return policyWrite(c, req, h.svc.ReplaceSecurityGroupPolicies)
}

// modifySecurityGroupPoliciesRequest: the fields of policiesRequest (its
// OriginalSecurityGroupPolicySet is ignored) and SortPolicys.
type modifySecurityGroupPoliciesRequest struct {
	policiesRequest
	SortPolicys *flexBool `json:"SortPolicys"`
}

func (h *handler) modifySecurityGroupPolicies(c *call, req *modifySecurityGroupPoliciesRequest) (any, error) {
	pin, err := req.input()
	if err != nil {
		return nil, err
	}
	in := service.ModifyPoliciesInput{SecurityGroupID: pin.SecurityGroupID, Set: pin.Set}
	if req.SortPolicys != nil {
		if in.SortPolicys, err = req.SortPolicys.bool("SortPolicys"); err != nil {
			return nil, err
		}
	}
	return writeResult(h.svc.ModifySecurityGroupPolicies(c.ctx, c.caller, in))
}
