package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
)

func TestToWire(t *testing.T) {
	sgNotFound := &service.Error{Kind: service.KindNotFound, Resource: service.ResourceSecurityGroup, ID: "sg-00000000", Message: "SecurityGroup sg-00000000 not found"}
	tests := []struct {
		name, svc, action string
		err               error
		want              string
	}{
		{"vpc delete: ID", "vpc", "DeleteSecurityGroup", sgNotFound, "InvalidSecurityGroupID.NotFound"},
		{"vpc describe policies: ResourceNotFound", "vpc", "DescribeSecurityGroupPolicies", sgNotFound, "ResourceNotFound"},
		{"cvm: Id", "cvm", "AssociateSecurityGroups", sgNotFound, "InvalidSecurityGroupId.NotFound"},
		{"palisade: ResourceNotFound", "palisade", "SimulateTraffic", sgNotFound, "ResourceNotFound"},
		{"instance", "cvm", "TerminateInstances", &service.Error{Kind: service.KindNotFound, Resource: service.ResourceInstance}, "InvalidInstanceId.NotFound"},
		{"instance in a Palisade action", "palisade", "SimulateTraffic", &service.Error{Kind: service.KindNotFound, Resource: service.ResourceInstance}, "InvalidInstanceId.NotFound"},
		{"template", "vpc", "DeleteAddressTemplate", &service.Error{Kind: service.KindNotFound, Resource: service.ResourceAddressTemplate}, "ResourceNotFound"},
		{"in use", "vpc", "DeleteSecurityGroup", &service.Error{Kind: service.KindInUse}, "ResourceInUse"},
		{"policy quota", "vpc", "CreateSecurityGroupPolicies", &service.Error{Kind: service.KindLimitExceeded, Quota: service.QuotaPoliciesPerDirection}, "LimitExceeded.SecurityGroupPolicySet"},
		{"groups per instance", "cvm", "AssociateSecurityGroups", &service.Error{Kind: service.KindLimitExceeded, Quota: service.QuotaGroupsPerInstance}, "LimitExceeded.AssociateUSGLimitExceeded"},
		{"groups per region", "vpc", "CreateSecurityGroup", &service.Error{Kind: service.KindLimitExceeded, Quota: service.QuotaGroupsPerRegion}, "LimitExceeded"},
		{"version", "vpc", "CreateSecurityGroupPolicies", &service.Error{Kind: service.KindVersionMismatch}, "UnsupportedOperation.VersionMismatch"},
		{"duplicate name", "vpc", "CreateSecurityGroup", &service.Error{Kind: service.KindDuplicate}, "InvalidParameterValue.Duplicate"},
		{"duplicate policy", "vpc", "CreateSecurityGroupPolicies", &service.Error{Kind: service.KindDuplicatePolicy}, "UnsupportedOperation.DuplicatePolicy"},
		{"unsupported", "vpc", "CloneSecurityGroup", &service.Error{Kind: service.KindUnsupported}, "UnsupportedOperation"},
		{"forbidden", "palisade", "RegisterInstances", &service.Error{Kind: service.KindForbidden}, "UnauthorizedOperation"},
		{"region", "vpc", "DescribeSecurityGroups", &service.Error{Kind: service.KindUnsupportedRegion}, "UnsupportedRegion"},
		{"invalid", "cvm", "DisassociateSecurityGroups", &service.Error{Kind: service.KindInvalid}, "InvalidParameter"},
		{"unresolvable", "palisade", "SimulateTraffic", &service.Error{Kind: service.KindUnresolvable, Message: "effective rules of ins-00000001 do not resolve"}, "FailedOperation"},
		{"store busy", "vpc", "CreateSecurityGroupPolicies", &service.Error{Kind: service.KindBusy}, "RequestLimitExceeded"},
		{"not applied in time", "vpc", "CreateSecurityGroupPolicies", &service.Error{Kind: service.KindNotApplied, Blockers: []string{"host-00000001"}}, "FailedOperation.NotApplied"},
		{"wrapped service error", "vpc", "DeleteSecurityGroup", fmt.Errorf("delete: %w", sgNotFound), "InvalidSecurityGroupID.NotFound"},
		{"malformed field", "vpc", "x", &policy.FieldError{Field: "Port", Value: "x", Kind: policy.Malformed}, "InvalidParameterValue.Malformed"},
		{"range field", "vpc", "x", &policy.FieldError{Field: "Port", Value: "0", Kind: policy.OutOfRange}, "InvalidParameterValue.Range"},
		{"missing field", "vpc", "x", &policy.FieldError{Field: "Action", Kind: policy.Missing}, "MissingParameter"},
		{"coexist field", "vpc", "x", &policy.FieldError{Field: "CidrBlock", Kind: policy.Coexist}, "InvalidParameter.Coexist"},
		{"too long field", "vpc", "x", &policy.FieldError{Field: "GroupName", Kind: policy.TooLong}, "InvalidParameterValue.TooLong"},
		{"unknown filter", "vpc", "x", &policy.FieldError{Field: "Filters.Name", Value: "colour", Kind: policy.Malformed}, "InvalidParameter.FilterInvalidKey"},
		{"joined fields: the first decides", "vpc", "x", errors.Join(
			&policy.FieldError{Field: "Ingress.0.Action", Kind: policy.Missing},
			&policy.FieldError{Field: "Ingress.0.Port", Value: "x", Kind: policy.Malformed}), "MissingParameter"},
		{"anything else", "vpc", "x", errors.New("disk on fire"), "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toWire(tt.err, tt.svc, tt.action)
			if got.Code != tt.want {
				t.Errorf("toWire(%v, %s, %s) = %s, want %s", tt.err, tt.svc, tt.action, got.Code, tt.want)
			}
			if (got.Code == "InternalError") != got.Internal {
				t.Errorf("Internal = %v for %s", got.Internal, got.Code)
			}
			if got.Internal && got.Message != "internal error" {
				t.Errorf("internal error leaks its message: %q", got.Message)
			}
		})
	}
	// Several field errors are all named in the message.
	we := toWire(errors.Join(
		&policy.FieldError{Field: "Ingress.0.Port", Value: "0", Kind: policy.OutOfRange, Reason: "port 0 is outside 1-65535"},
		&policy.FieldError{Field: "Ingress.1.Action", Value: "ALLOW", Kind: policy.Malformed, Reason: "must be ACCEPT or DROP"}), "vpc", "x")
	if want := `Ingress.0.Port "0": port 0 is outside 1-65535; Ingress.1.Action "ALLOW": must be ACCEPT or DROP`; we.Message != want {
		t.Errorf("message = %q, want %q", we.Message, want)
	}
}
