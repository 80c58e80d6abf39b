package api

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
)

// Wire shapes shared by several actions. Request types use the flexible
// scalars of flex.go; response types use exactly the JSON types the
// official SDK decodes (it does not coerce numbers and strings).

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

type filterIn struct {
	Name   *flexString  `json:"Name"`
	Values []flexString `json:"Values"`
}

func filters(in []filterIn) []service.Filter {
	if len(in) == 0 {
		return nil
	}
	out := make([]service.Filter, len(in))
	for i, f := range in {
		out[i] = service.Filter{Name: str(f.Name), Values: strs(f.Values)}
	}
	return out
}

type tagIn struct {
	Key   *flexString `json:"Key"`
	Value *flexString `json:"Value"`
}

func tags(in []tagIn) []service.Tag {
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
// accepted everywhere).
func page(offset, limit *flexInt) (service.Page, error) {
	var p service.Page
	if offset != nil {
		v, err := offset.int64("Offset")
		if err != nil {
			return p, err
		}
		if v < 0 {
			return p, outOfRange("Offset", offset.text, "must not be negative")
		}
		p.Offset = int(v)
	}
	if limit != nil {
		v, err := limit.int64("Limit")
		if err != nil {
			return p, err
		}
		if v < 0 || v > 100 {
			return p, outOfRange("Limit", limit.text, "must be between 0 and 100")
		}
		p.Limit = int(v)
	}
	return p, nil
}

// projectID reads an optional ProjectId (a numeric string in vpc).
func projectID(field string, v *flexInt) (int64, error) {
	if v == nil || v.text == "" {
		return 0, nil
	}
	n, err := v.int64(field)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, outOfRange(field, v.text, "must not be negative")
	}
	return n, nil
}

// optional returns an optional string field's value, nil when absent.
func optional(s *flexString) *string {
	if s == nil {
		return nil
	}
	v := string(*s)
	return &v
}

// byID runs fn, a service call taking one id, with the required id field.
func byID(c *call, field string, v *flexString, fn func(context.Context, service.Caller, string) error) (any, error) {
	id, err := requireString(field, v)
	if err != nil {
		return nil, err
	}
	return nil, fn(c.ctx, c.caller, id)
}

// byIDs runs fn, a service call taking a list of ids, with the required,
// non-empty list field.
func byIDs(c *call, field string, v []flexString, fn func(context.Context, service.Caller, []string) error) (any, error) {
	ids, err := requireList(field, v)
	if err != nil {
		return nil, err
	}
	return nil, fn(c.ctx, c.caller, ids)
}

// requireString returns a required string field, or MissingParameter.
func requireString(field string, v *flexString) (string, error) {
	if v == nil || strings.TrimSpace(string(*v)) == "" {
		return "", missing(field)
	}
	return string(*v), nil
}

// requireList returns a required, non-empty list, or MissingParameter.
func requireList(field string, v []flexString) ([]string, error) {
	if len(v) == 0 {
		return nil, missing(field)
	}
	return strs(v), nil
}

type serviceTemplateIn struct {
	ServiceId      *flexString `json:"ServiceId"`
	ServiceGroupId *flexString `json:"ServiceGroupId"`
}

type addressTemplateIn struct {
	AddressId      *flexString `json:"AddressId"`
	AddressGroupId *flexString `json:"AddressGroupId"`
}

// policyIn is a SecurityGroupPolicy of a request. A template object whose
// fields are empty counts as unset (Terraform sends {}).
type policyIn struct {
	PolicyIndex       *flexInt           `json:"PolicyIndex"`
	Protocol          *flexString        `json:"Protocol"`
	Port              *flexString        `json:"Port"`
	ServiceTemplate   *serviceTemplateIn `json:"ServiceTemplate"`
	CidrBlock         *flexString        `json:"CidrBlock"`
	Ipv6CidrBlock     *flexString        `json:"Ipv6CidrBlock"`
	SecurityGroupId   *flexString        `json:"SecurityGroupId"`
	AddressTemplate   *addressTemplateIn `json:"AddressTemplate"`
	Action            *flexString        `json:"Action"`
	PolicyDescription *flexString        `json:"PolicyDescription"`
}

func (p policyIn) input(field string) (service.PolicyInput, error) {
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
	if p.PolicyIndex != nil {
		n, err := p.PolicyIndex.int64(field + ".PolicyIndex")
		if err != nil {
			return in, err
		}
		if n < 0 || n > 1<<31-1 {
			return in, outOfRange(field+".PolicyIndex", p.PolicyIndex.text, "must be 0 or more")
		}
		i := int(n)
		in.Index = &i
	}
	return in, nil
}

// policySetIn is a SecurityGroupPolicySet of a request.
type policySetIn struct {
	Version *flexString `json:"Version"`
	Egress  []policyIn  `json:"Egress"`
	Ingress []policyIn  `json:"Ingress"`
}

// input converts the set; field is its path ("SecurityGroupPolicySet").
func (s *policySetIn) input(field string) (service.PolicySetInput, error) {
	var out service.PolicySetInput
	if s == nil {
		return out, nil
	}
	out.Version = strings.TrimSpace(str(s.Version))
	var errs []error
	conv := func(dir string, in []policyIn) []service.PolicyInput {
		if in == nil {
			return nil
		}
		ps := make([]service.PolicyInput, len(in))
		for i, p := range in {
			v, err := p.input(field + "." + dir + "." + strconv.Itoa(i))
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

// wireSet answers a list of results as {name: [...]}, each converted by
// conv; err, if any, is answered instead.
func wireSet[T, W any](name string, items []T, err error, conv func(T) W) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]any{name: convertAll(items, conv)}, nil
}

// wirePage is wireSet for a Describe… action: the page under name and the
// count before paging as TotalCount.
func wirePage[T, W any](name string, items []T, total int, err error, conv func(T) W) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]any{name: convertAll(items, conv), "TotalCount": uint64(total)}, nil
}

func convertAll[T, W any](items []T, conv func(T) W) []W {
	out := make([]W, len(items))
	for i, x := range items {
		out[i] = conv(x)
	}
	return out
}

type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagsOut(in []service.Tag) []tagOut {
	out := make([]tagOut, len(in))
	for i, t := range in {
		out[i] = tagOut{Key: t.Key, Value: t.Value}
	}
	return out
}

// securityGroupOut is the vpc SecurityGroup object. ProjectId is a string.
type securityGroupOut struct {
	SecurityGroupId   string   `json:"SecurityGroupId"`
	SecurityGroupName string   `json:"SecurityGroupName"`
	SecurityGroupDesc string   `json:"SecurityGroupDesc"`
	ProjectId         string   `json:"ProjectId"`
	IsDefault         bool     `json:"IsDefault"`
	CreatedTime       string   `json:"CreatedTime"`
	UpdateTime        string   `json:"UpdateTime"`
	TagSet            []tagOut `json:"TagSet"`
	Region            string   `json:"Region"`
}

func groupOut(g service.SecurityGroup) securityGroupOut {
	return securityGroupOut{
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

type serviceTemplateOut struct {
	ServiceId      string `json:"ServiceId"`
	ServiceGroupId string `json:"ServiceGroupId"`
}

type addressTemplateOut struct {
	AddressId      string `json:"AddressId"`
	AddressGroupId string `json:"AddressGroupId"`
}

// policyOut is a SecurityGroupPolicy as described: every field present, ""
// when unused, both template objects present, Protocol and Action in
// canonical upper case, PolicyIndex a number.
type policyOut struct {
	PolicyIndex       int                `json:"PolicyIndex"`
	Protocol          string             `json:"Protocol"`
	Port              string             `json:"Port"`
	ServiceTemplate   serviceTemplateOut `json:"ServiceTemplate"`
	CidrBlock         string             `json:"CidrBlock"`
	Ipv6CidrBlock     string             `json:"Ipv6CidrBlock"`
	SecurityGroupId   string             `json:"SecurityGroupId"`
	AddressTemplate   addressTemplateOut `json:"AddressTemplate"`
	Action            string             `json:"Action"`
	PolicyDescription string             `json:"PolicyDescription"`
	ModifyTime        string             `json:"ModifyTime"`
}

func policyToWire(index int, p policy.Policy) policyOut {
	r := p.Raw()
	return policyOut{
		PolicyIndex:       index,
		Protocol:          r.Protocol,
		Port:              r.Port,
		ServiceTemplate:   serviceTemplateOut{ServiceId: r.ServiceId, ServiceGroupId: r.ServiceGroupId},
		CidrBlock:         r.CidrBlock,
		Ipv6CidrBlock:     r.Ipv6CidrBlock,
		SecurityGroupId:   r.SecurityGroupId,
		AddressTemplate:   addressTemplateOut{AddressId: r.AddressId, AddressGroupId: r.AddressGroupId},
		Action:            r.Action,
		PolicyDescription: r.PolicyDescription,
		ModifyTime:        vpcTime(p.ModifyTime),
	}
}

type policyStatisticsOut struct {
	IngressIPv4TotalCount uint64 `json:"IngressIPv4TotalCount"`
	IngressIPv6TotalCount uint64 `json:"IngressIPv6TotalCount"`
	EgressIPv4TotalCount  uint64 `json:"EgressIPv4TotalCount"`
	EgressIPv6TotalCount  uint64 `json:"EgressIPv6TotalCount"`
}

// policySetOut is a SecurityGroupPolicySet as described. Version is a
// string.
type policySetOut struct {
	Version          string              `json:"Version"`
	Egress           []policyOut         `json:"Egress"`
	Ingress          []policyOut         `json:"Ingress"`
	PolicyStatistics policyStatisticsOut `json:"PolicyStatistics"`
}

func policySetToWire(gp service.GroupPolicies) policySetOut {
	out := policySetOut{Version: strconv.FormatUint(gp.Version, 10), Egress: []policyOut{}, Ingress: []policyOut{}}
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

// warningOut is one warning of a policy write (a Palisade extension: the
// SDK ignores fields it does not know).
type warningOut struct {
	Code        string `json:"Code"`
	Direction   string `json:"Direction"`
	PolicyIndex int    `json:"PolicyIndex"`
	Message     string `json:"Message"`
}

func warningsOut(in []service.Warning) []warningOut {
	out := make([]warningOut, len(in))
	for i, w := range in {
		dir := ""
		if w.Direction.Valid() {
			dir = w.Direction.String()
		}
		out[i] = warningOut{Code: w.Code, Direction: dir, PolicyIndex: w.PolicyIndex, Message: w.Message}
	}
	return out
}

// writeOut is the response of a policy write.
// Version (a Palisade extension, like Warnings) is the group's new Version.
type writeOut struct {
	Version  string       `json:"Version"`
	Warnings []warningOut `json:"Warnings"`
}

func writeResult(r service.WriteResult, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return writeOut{Version: strconv.FormatUint(r.Version, 10), Warnings: warningsOut(r.Warnings)}, nil
}
