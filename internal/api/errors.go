package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// This file is the one place where Palisade's errors become Tencent Cloud
// API error codes. Domain code never names a code.

// Error codes Palisade answers with.
const (
	codeInvalidAuthorization = "AuthFailure.InvalidAuthorization"
	codeSecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	codeSignatureExpire      = "AuthFailure.SignatureExpire"
	codeSignatureFailure     = "AuthFailure.SignatureFailure"
	// A replayed signature is a signature failure: Tencent defines no
	// code of its own for it, and every SDK knows this one.
	codeReplayedSignature = "AuthFailure.SignatureFailure"

	codeInvalidAction      = "InvalidAction"
	codeNoSuchVersion      = "NoSuchVersion"
	codeUnsupportedRegion  = "UnsupportedRegion"
	codeInternalError      = "InternalError"
	codeUnauthorized       = "UnauthorizedOperation"
	codeUnknownParameter   = "UnknownParameter"
	codeMissingParameter   = "MissingParameter"
	codeInvalidParameter   = "InvalidParameter"
	codeCoexist            = "InvalidParameter.Coexist"
	codeFilterInvalidKey   = "InvalidParameter.FilterInvalidKey"
	codeValueMalformed     = "InvalidParameterValue.Malformed"
	codeValueRange         = "InvalidParameterValue.Range"
	codeValueTooLong       = "InvalidParameterValue.TooLong"
	codeValueDuplicate     = "InvalidParameterValue.Duplicate"
	codeValueLimitExceeded = "InvalidParameterValue.LimitExceeded"
	codeRequestTooLarge    = "InvalidParameterValue.LimitExceeded"
	codeResourceNotFound   = "ResourceNotFound"
	codeVpcSGNotFound      = "InvalidSecurityGroupID.NotFound"
	codeCvmSGNotFound      = "InvalidSecurityGroupId.NotFound"
	codeInstanceNotFound   = "InvalidInstanceId.NotFound"
	codeResourceInUse      = "ResourceInUse"
	codeLimitExceeded      = "LimitExceeded"
	codePolicyLimit        = "LimitExceeded.SecurityGroupPolicySet"
	codeAssociateLimit     = "LimitExceeded.AssociateUSGLimitExceeded"
	codeVersionMismatch    = "UnsupportedOperation.VersionMismatch"
	codeDuplicatePolicy    = "UnsupportedOperation.DuplicatePolicy"
	codeUnsupported        = "UnsupportedOperation"

	// The tag service's codes.
	codeTagServiceType      = "InvalidParameterValue.ServiceTypeInvalid"
	codeTagResourcePrefix   = "InvalidParameterValue.ResourcePrefixInvalid"
	codeTagResourceID       = "InvalidParameterValue.ResourceIdInvalid"
	codeTagResourceName     = "InvalidParameterValue.ResourceDescriptionError"
	codeTagKeyEmpty         = "InvalidParameterValue.TagKeyEmpty"
	codeTagKeyTooLong       = "InvalidParameterValue.TagKeyLengthExceeded"
	codeTagValueTooLong     = "InvalidParameterValue.TagValueLengthExceeded"
	codeTagDeleteParam      = "InvalidParameterValue.DeleteTagsParamError"
	codeTagInvalid          = "InvalidParameter.Tag"
	codeTagResourcesPerCall = "LimitExceeded.ResourceNumPerRequest"
	codeTagsPerResource     = "LimitExceeded.ResourceAttachedTags"

	codeFailedOperation = "FailedOperation"
	// codeNotApplied answers a write with WaitApplied that is committed
	// but not yet applied by every host it affects (named in the message).
	codeNotApplied = "FailedOperation.NotApplied"
	// codeLockoutPrevented answers a write that would cut the caller's own
	// SSH or remote desktop path to an instance, unless forced.
	codeLockoutPrevented = "FailedOperation.LockoutPrevented"
	// codeRequestLimit answers a request the store was too busy to run:
	// the SDK retries it when its rate-limit retry is enabled.
	codeRequestLimit = "RequestLimitExceeded"
)

// apiError is a failure decided by the API layer itself (authentication,
// routing, decoding), already carrying its code.
type apiError struct {
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func authError(code, format string, args ...any) error {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

func newAPIError(code, format string, args ...any) error {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

// malformed reports a request field whose value does not parse.
func malformed(field, value, reason string) error {
	return &policy.FieldError{Field: field, Value: value, Kind: policy.Malformed, Reason: reason}
}

// missing reports a required request field that is absent.
func missing(field string) error {
	return &policy.FieldError{Field: field, Kind: policy.Missing, Reason: "is required"}
}

// outOfRange reports a request field whose value is outside its range.
func outOfRange(field, value, reason string) error {
	return &policy.FieldError{Field: field, Value: value, Kind: policy.OutOfRange, Reason: reason}
}

// maxReportedProblems bounds the problems one error message lists; the rest
// are counted, so that an error stays small whatever the request.
const maxReportedProblems = 20

// wireError is an error as the envelope carries it.
type wireError struct {
	Code     string
	Message  string
	Internal bool // an unexpected failure: log it in full, answer generically
}

// toWire chooses the code and message for err answered to action of
// service ("vpc", "cvm" or "palisade").
func toWire(err error, svc, action string) wireError {
	var ae *apiError
	if errors.As(err, &ae) {
		return wireError{Code: ae.code, Message: ae.message}
	}
	if fes := policy.FieldErrors(err); len(fes) > 0 {
		n := min(len(fes), maxReportedProblems)
		msgs := make([]string, n, n+1)
		for i, fe := range fes[:n] {
			msgs[i] = fe.Error()
		}
		if len(fes) > n {
			msgs = append(msgs, fmt.Sprintf("and %d more problems", len(fes)-n))
		}
		code := fieldCode(fes[0])
		if svc == wire.ServiceTag {
			code = tagFieldCode(fes[0], code)
		}
		return wireError{Code: code, Message: strings.Join(msgs, "; ")}
	}
	var se *service.Error
	if errors.As(err, &se) {
		return wireError{Code: serviceCode(se, svc, action), Message: se.Error()}
	}
	var se1 *json.SyntaxError
	if errors.As(err, &se1) {
		return wireError{Code: codeInvalidParameter, Message: "the request body is not valid JSON: " + err.Error()}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return wireError{Code: codeInvalidParameter, Message: fmt.Sprintf("the request body must be a JSON object, not a JSON %s", te.Value)}
		}
		return wireError{Code: codeValueMalformed, Message: fmt.Sprintf("%s: a JSON %s cannot be %s", te.Field, te.Value, wireKind(te.Type.Kind().String()))}
	}
	return wireError{Code: codeInternalError, Message: "internal error", Internal: true}
}

func wireKind(kind string) string {
	switch kind {
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	}
	return "a " + kind
}

// fieldCode maps a field error's kind to its code.
func fieldCode(fe *policy.FieldError) string {
	switch fe.Kind {
	case policy.Missing:
		return codeMissingParameter
	case policy.Coexist:
		return codeCoexist
	case policy.OutOfRange:
		return codeValueRange
	case policy.TooLong:
		return codeValueTooLong
	case policy.TooMany:
		return codeValueLimitExceeded
	case policy.Malformed:
		if strings.HasPrefix(fe.Field, "Filters") && strings.HasSuffix(fe.Field, "Name") {
			return codeFilterInvalidKey
		}
		return codeValueMalformed
	}
	return codeInvalidParameter
}

// tagFieldCode maps a field error of a tag action to the tag service's
// code for that field, or def.
func tagFieldCode(fe *policy.FieldError, def string) string {
	field := fe.Field
	switch {
	case fe.Kind == policy.Missing && !strings.HasSuffix(field, ".TagKey"):
		return def
	case field == "ServiceType":
		return codeTagServiceType
	case field == "ResourcePrefix":
		return codeTagResourcePrefix
	case field == "ResourceIds" && fe.Kind == policy.TooMany:
		return codeTagResourcesPerCall
	case strings.HasPrefix(field, "ResourceIds."):
		return codeTagResourceID
	case field == "Resource":
		return codeTagResourceName
	case strings.HasSuffix(field, ".TagKey"):
		switch fe.Kind {
		case policy.Missing:
			return codeTagKeyEmpty
		case policy.TooLong:
			return codeTagKeyTooLong
		case policy.Coexist:
			return codeTagDeleteParam
		}
		return codeTagInvalid
	case strings.HasSuffix(field, ".TagValue"):
		return codeTagValueTooLong
	case field == "ReplaceTags" || field == "DeleteTags":
		return codeTagInvalid
	}
	return def
}

// serviceCode maps a domain error of the service.
func serviceCode(e *service.Error, svc, action string) string {
	switch e.Kind {
	case service.KindNotFound:
		return notFoundCode(e.Resource, svc, action)
	case service.KindInUse:
		return codeResourceInUse
	case service.KindLimitExceeded:
		switch e.Quota {
		case service.QuotaPoliciesPerDirection:
			return codePolicyLimit
		case service.QuotaGroupsPerInstance:
			return codeAssociateLimit
		case service.QuotaTagsPerResource:
			if svc == wire.ServiceTag {
				return codeTagsPerResource
			}
		}
		return codeLimitExceeded
	case service.KindVersionMismatch:
		return codeVersionMismatch
	case service.KindDuplicate:
		return codeValueDuplicate
	case service.KindDuplicatePolicy:
		return codeDuplicatePolicy
	case service.KindUnsupported:
		return codeUnsupported
	case service.KindForbidden:
		return codeUnauthorized
	case service.KindUnsupportedRegion:
		return codeUnsupportedRegion
	case service.KindInvalid:
		return codeInvalidParameter
	case service.KindUnresolvable:
		return codeFailedOperation
	case service.KindBusy:
		return codeRequestLimit
	case service.KindNotApplied:
		return codeNotApplied
	case service.KindLockoutPrevented:
		return codeLockoutPrevented
	}
	return codeInternalError
}

// notFoundCode spells "not found" as the cloud does for each action. The
// SDK's error lists name InvalidSecurityGroupID.NotFound only for vpc
// DeleteSecurityGroup; every other vpc action answers ResourceNotFound (and
// Terraform relies on it for DescribeSecurityGroupPolicies). CVM spells the
// group code with "Id" and has its own for instances.
func notFoundCode(resource, svc, action string) string {
	switch resource {
	case service.ResourceSecurityGroup:
		switch {
		case svc == "cvm":
			return codeCvmSGNotFound
		case svc == "vpc" && action == "DeleteSecurityGroup":
			return codeVpcSGNotFound
		}
	case service.ResourceInstance:
		return codeInstanceNotFound
	}
	return codeResourceNotFound
}
