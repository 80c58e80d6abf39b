package api

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// Conversions between the wire types of package wire and the service's
// inputs and results, shared by several actions.

// vpcTimeLayout is how vpc objects carry times ("2006-01-02 15:04:05",
// UTC); cvm uses RFC 3339 UTC.
const vpcTimeLayout = time.DateTime

func vpcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(vpcTimeLayout)
}

func cvmTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ---- requests ----

func filters(in []wire.Filter) []service.Filter {
	if len(in) == 0 {
		return nil
	}
	out := make([]service.Filter, len(in))
	for i, f := range in {
		out[i] = service.Filter{Name: str(f.Name), Values: strs(f.Values)}
	}
	return out
}

func tags(in []wire.TagInput) []service.Tag {
	if len(in) == 0 {
		return nil
	}
	out := make([]service.Tag, len(in))
	for i, t := range in {
		out[i] = service.Tag{Key: str(t.Key), Value: str(t.Value)}
	}
	return out
}

// page reads Offset and Limit (strings in vpc, integers in cvm; both are
// accepted everywhere). A vpc request passes its IntStrings converted to
// *wire.Int.
func page(offset, limit *wire.Int) (service.Page, error) {
	var p service.Page
	if offset != nil {
		v, err := integer("Offset", offset)
		if err != nil {
			return p, err
		}
		if v < 0 {
			return p, outOfRange("Offset", offset.Text(), "must not be negative")
		}
		p.Offset = int(v)
	}
	if limit != nil {
		v, err := integer("Limit", limit)
		if err != nil {
			return p, err
		}
		if v < 0 || v > 100 {
			return p, outOfRange("Limit", limit.Text(), "must be between 0 and 100")
		}
		p.Limit = int(v)
	}
	return p, nil
}

// projectID reads an optional ProjectId (a numeric string in vpc, an
// integer in Palisade's actions; pass either as *wire.Int).
func projectID(field string, v *wire.Int) (int64, error) {
	if v == nil || v.Text() == "" {
		return 0, nil
	}
	n, err := integer(field, v)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, outOfRange(field, v.Text(), "must not be negative")
	}
	return n, nil
}

// optional returns an optional string field's value, nil when absent.
func optional(s *wire.String) *string {
	if s == nil {
		return nil
	}
	v := string(*s)
	return &v
}

// byID runs fn, a service call taking one id, with the required id field.
func byID(c *call, field string, v *wire.String, fn func(context.Context, service.Caller, string) error) (any, error) {
	id, err := requireString(field, v)
	if err != nil {
		return nil, err
	}
	return nil, fn(c.ctx, c.caller, id)
}

// byIDs runs fn, a service call taking a list of ids, with the required,
// non-empty list field.
func byIDs(c *call, field string, v []wire.String, fn func(context.Context, service.Caller, []string) error) (any, error) {
	ids, err := requireList(field, v)
	if err != nil {
		return nil, err
	}
	return nil, fn(c.ctx, c.caller, ids)
}

// requireString returns a required string field, or MissingParameter.
func requireString(field string, v *wire.String) (string, error) {
	if v == nil || strings.TrimSpace(string(*v)) == "" {
		return "", missing(field)
	}
	return string(*v), nil
}

// requireList returns a required, non-empty list, or MissingParameter.
func requireList(field string, v []wire.String) ([]string, error) {
	if len(v) == 0 {
		return nil, missing(field)
	}
	return strs(v), nil
}

// policyInput converts a request policy; field is its path
// ("SecurityGroupPolicySet.Ingress.0"). A template object whose fields are
// empty counts as unset (Terraform sends {}).
func policyInput(field string, p wire.SecurityGroupPolicyInput) (service.PolicyInput, error) {
	in := service.PolicyInput{Raw: policy.Raw{
		Protocol:          str(p.Protocol),
		Port:              str(p.Port),
		CidrBlock:         str(p.CidrBlock),
		Ipv6CidrBlock:     str(p.Ipv6CidrBlock),
		SecurityGroupId:   str(p.SecurityGroupId),
		Action:            str(p.Action),
		PolicyDescription: str(p.PolicyDescription),
	}}
	if t := p.ServiceTemplate; t != nil {
		in.Raw.ServiceId, in.Raw.ServiceGroupId = str(t.ServiceId), str(t.ServiceGroupId)
	}
	if t := p.AddressTemplate; t != nil {
		in.Raw.AddressId, in.Raw.AddressGroupId = str(t.AddressId), str(t.AddressGroupId)
	}
	if p.Disabled != nil {
		b, err := boolean(field+".Disabled", p.Disabled)
		if err != nil {
			return in, err
		}
		in.Disabled = b
	}
	if v := strings.TrimSpace(str(p.ExpiresAt)); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return in, malformed(field+".ExpiresAt", v, "must be an RFC 3339 time such as 2026-03-01T10:00:00Z")
		}
		in.ExpiresAt = t.UTC()
	}
	if p.PolicyIndex != nil {
		n, err := integer(field+".PolicyIndex", p.PolicyIndex)
		if err != nil {
			return in, err
		}
		if n < 0 || n > 1<<31-1 {
			return in, outOfRange(field+".PolicyIndex", p.PolicyIndex.Text(), "must be 0 or more")
		}
		i := int(n)
		in.Index = &i
	}
	return in, nil
}

// policySetInput converts a request policy set; field is its path
// ("SecurityGroupPolicySet").
func policySetInput(field string, s *wire.SecurityGroupPolicySetInput) (service.PolicySetInput, error) {
	var out service.PolicySetInput
	if s == nil {
		return out, nil
	}
	out.Version = strings.TrimSpace(str(s.Version))
	var errs []error
	conv := func(dir string, in []wire.SecurityGroupPolicyInput) []service.PolicyInput {
		if in == nil {
			return nil
		}
		ps := make([]service.PolicyInput, len(in))
		for i, p := range in {
			v, err := policyInput(field+"."+dir+"."+strconv.Itoa(i), p)
			if err != nil {
				errs = append(errs, err)
			}
			ps[i] = v
		}
		return ps
	}
	out.Ingress = conv("Ingress", s.Ingress)
	out.Egress = conv("Egress", s.Egress)
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// ---- responses ----

// convertAll converts every item; the result is never nil, so an empty
// list is answered as [].
func convertAll[T, W any](items []T, conv func(T) W) []W {
	out := make([]W, len(items))
	for i, x := range items {
		out[i] = conv(x)
	}
	return out
}

func tagsOut(in []service.Tag) []wire.Tag {
	out := make([]wire.Tag, len(in))
	for i, t := range in {
		out[i] = wire.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func groupOut(g service.SecurityGroup) wire.SecurityGroup {
	return wire.SecurityGroup{
		SecurityGroupId:   g.ID,
		SecurityGroupName: g.Name,
		SecurityGroupDesc: g.Description,
		ProjectId:         strconv.FormatInt(g.ProjectID, 10),
		IsDefault:         g.IsDefault,
		CreatedTime:       vpcTime(g.CreatedTime),
		UpdateTime:        vpcTime(g.UpdateTime),
		TagSet:            tagsOut(g.Tags),
		Region:            g.Region,
	}
}

func policyToWire(index int, p policy.Policy) wire.SecurityGroupPolicy {
	r := p.Raw()
	return wire.SecurityGroupPolicy{
		PolicyIndex:       index,
		Protocol:          r.Protocol,
		Port:              r.Port,
		ServiceTemplate:   wire.ServiceTemplateSpecification{ServiceId: r.ServiceId, ServiceGroupId: r.ServiceGroupId},
		CidrBlock:         r.CidrBlock,
		Ipv6CidrBlock:     r.Ipv6CidrBlock,
		SecurityGroupId:   r.SecurityGroupId,
		AddressTemplate:   wire.AddressTemplateSpecification{AddressId: r.AddressId, AddressGroupId: r.AddressGroupId},
		Action:            r.Action,
		PolicyDescription: r.PolicyDescription,
		ModifyTime:        vpcTime(p.ModifyTime),
		Disabled:          p.Disabled,
		ExpiresAt:         rfc3339(p.ExpiresAt),
	}
}

// rfc3339 formats a Palisade time field: RFC 3339 in UTC, "" when unset.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func policySetToWire(gp service.GroupPolicies) wire.SecurityGroupPolicySet {
	out := wire.SecurityGroupPolicySet{Version: strconv.FormatUint(gp.Version, 10), Egress: []wire.SecurityGroupPolicy{}, Ingress: []wire.SecurityGroupPolicy{}}
	for _, p := range gp.Ingress {
		out.Ingress = append(out.Ingress, policyToWire(p.Index, p.Policy))
		if p.Peer.Kind == policy.PeerCIDR6 {
			out.PolicyStatistics.IngressIPv6TotalCount++
		} else {
			out.PolicyStatistics.IngressIPv4TotalCount++
		}
	}
	for _, p := range gp.Egress {
		out.Egress = append(out.Egress, policyToWire(p.Index, p.Policy))
		if p.Peer.Kind == policy.PeerCIDR6 {
			out.PolicyStatistics.EgressIPv6TotalCount++
		} else {
			out.PolicyStatistics.EgressIPv4TotalCount++
		}
	}
	return out
}

func warningsOut(in []service.Warning) []wire.Warning {
	out := make([]wire.Warning, len(in))
	for i, w := range in {
		dir := ""
		if w.Direction.Valid() {
			dir = w.Direction.String()
		}
		out[i] = wire.Warning{Code: w.Code, Direction: dir, PolicyIndex: w.PolicyIndex, Message: w.Message}
	}
	return out
}

// writeResult is the response of a policy write, or err.
func writeResult(r service.WriteResult, err error) (wire.PolicyWriteResponse, error) {
	if err != nil {
		return wire.PolicyWriteResponse{}, err
	}
	out := wire.PolicyWriteResponse{Version: strconv.FormatUint(r.Version, 10), Warnings: warningsOut(r.Warnings)}
	if !r.ConfirmBy.IsZero() {
		out.ConfirmBy = r.ConfirmBy.UTC().Format(time.RFC3339)
	}
	return out, nil
}
