package api

import (
	"context"
	"strconv"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// vpc parameter-template actions: address templates (ipm-) and their groups
// (ipmg-), service templates (ppm-) and their groups (ppmg-).

// entries merges a template's plain and described entries, plain first.
func entries(plain []wire.String, extraField string, extra [][2]*wire.String) ([]service.TemplateEntry, error) {
	if plain == nil && extra == nil {
		return nil, nil
	}
	out := make([]service.TemplateEntry, 0, len(plain)+len(extra))
	for _, v := range plain {
		out = append(out, service.TemplateEntry{Value: string(v)})
	}
	for i, e := range extra {
		v, err := requireString(extraField+"."+strconv.Itoa(i)+"."+valueName(extraField), e[0])
		if err != nil {
			return nil, err
		}
		out = append(out, service.TemplateEntry{Value: v, Description: str(e[1])})
	}
	return out, nil
}

func valueName(extraField string) string {
	if extraField == "ServicesExtra" {
		return "Service"
	}
	return "Address"
}

func addressEntries(plain []wire.String, extra []wire.AddressInfoInput) ([]service.TemplateEntry, error) {
	var pairs [][2]*wire.String
	if extra != nil {
		pairs = make([][2]*wire.String, len(extra))
		for i, e := range extra {
			pairs[i] = [2]*wire.String{e.Address, e.Description}
		}
	}
	return entries(plain, "AddressesExtra", pairs)
}

func serviceEntries(plain []wire.String, extra []wire.ServiceInfoInput) ([]service.TemplateEntry, error) {
	var pairs [][2]*wire.String
	if extra != nil {
		pairs = make([][2]*wire.String, len(extra))
		for i, e := range extra {
			pairs[i] = [2]*wire.String{e.Service, e.Description}
		}
	}
	return entries(plain, "ServicesExtra", pairs)
}

func templateQuery(req *wire.TemplateQuery) (service.TemplateQuery, error) {
	p, err := page((*wire.Int)(req.Offset), (*wire.Int)(req.Limit))
	if err != nil {
		return service.TemplateQuery{}, err
	}
	if req.NeedMemberInfo != nil {
		if _, err := boolean("NeedMemberInfo", req.NeedMemberInfo); err != nil {
			return service.TemplateQuery{}, err
		}
	}
	return service.TemplateQuery{Filters: filters(req.Filters), Page: p}, nil
}

// describeTemplates runs list, a service call listing templates or template
// groups, with req's query and returns the page converted by conv and the
// count before paging.
func describeTemplates[T, W any](c *call, req *wire.TemplateQuery, list func(context.Context, service.Caller, service.TemplateQuery) ([]T, int, error), conv func(T) W) ([]W, uint64, error) {
	q, err := templateQuery(req)
	if err != nil {
		return nil, 0, err
	}
	items, total, err := list(c.ctx, c.caller, q)
	if err != nil {
		return nil, 0, err
	}
	return convertAll(items, conv), uint64(total), nil
}

// ---- address templates ----

func addressTemplateToWire(t service.AddressTemplate) wire.AddressTemplate {
	out := wire.AddressTemplate{
		AddressTemplateName: t.Name,
		AddressTemplateId:   t.ID,
		AddressSet:          make([]string, len(t.Entries)),
		CreatedTime:         vpcTime(t.CreatedTime),
		AddressExtraSet:     make([]wire.AddressInfo, len(t.Entries)),
		TagSet:              []wire.Tag{},
	}
	for i, e := range t.Entries {
		out.AddressSet[i] = e.Value
		out.AddressExtraSet[i] = wire.AddressInfo{Address: e.Value, Description: e.Description}
	}
	return out
}

func (h *handler) createAddressTemplate(c *call, req *wire.CreateAddressTemplateRequest) (any, error) {
	name, err := requireString("AddressTemplateName", req.AddressTemplateName)
	if err != nil {
		return nil, err
	}
	es, err := addressEntries(req.Addresses, req.AddressesExtra)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, missing("Addresses")
	}
	t, err := h.svc.CreateAddressTemplate(c.ctx, c.caller, service.TemplateInput{Name: name, Entries: es})
	if err != nil {
		return nil, err
	}
	return wire.CreateAddressTemplateResponse{AddressTemplate: addressTemplateToWire(t)}, nil
}

func (h *handler) describeAddressTemplates(c *call, req *wire.DescribeAddressTemplatesRequest) (any, error) {
	set, total, err := describeTemplates(c, (*wire.TemplateQuery)(req), h.svc.DescribeAddressTemplates, addressTemplateToWire)
	return answer(wire.DescribeAddressTemplatesResponse{AddressTemplateSet: set, TotalCount: total}, err)
}

func (h *handler) modifyAddressTemplateAttribute(c *call, req *wire.ModifyAddressTemplateAttributeRequest) (any, error) {
	id, err := requireString("AddressTemplateId", req.AddressTemplateId)
	if err != nil {
		return nil, err
	}
	es, err := addressEntries(req.Addresses, req.AddressesExtra)
	if err != nil {
		return nil, err
	}
	in := service.ModifyTemplateInput{ID: id, Entries: es, Name: optional(req.AddressTemplateName)}
	return nil, h.svc.ModifyAddressTemplateAttribute(c.ctx, c.caller, in)
}

func (h *handler) deleteAddressTemplate(c *call, req *wire.DeleteAddressTemplateRequest) (any, error) {
	return byID(c, "AddressTemplateId", req.AddressTemplateId, h.svc.DeleteAddressTemplate)
}

// ---- address template groups ----

func addressTemplateGroupToWire(g service.AddressTemplateGroup) wire.AddressTemplateGroup {
	out := wire.AddressTemplateGroup{
		AddressTemplateGroupName: g.Name,
		AddressTemplateGroupId:   g.ID,
		AddressTemplateIdSet:     nonNil(g.TemplateIDs),
		CreatedTime:              vpcTime(g.CreatedTime),
		AddressTemplateSet:       make([]wire.AddressTemplateItem, len(g.Templates)),
		TagSet:                   []wire.Tag{},
	}
	for i, t := range g.Templates {
		out.AddressTemplateSet[i] = wire.AddressTemplateItem{AddressTemplateId: t.ID, AddressTemplateName: t.Name}
	}
	return out
}

func (h *handler) createAddressTemplateGroup(c *call, req *wire.CreateAddressTemplateGroupRequest) (any, error) {
	name, err := requireString("AddressTemplateGroupName", req.AddressTemplateGroupName)
	if err != nil {
		return nil, err
	}
	ids, err := requireList("AddressTemplateIds", req.AddressTemplateIds)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.CreateAddressTemplateGroup(c.ctx, c.caller, service.TemplateGroupInput{Name: name, TemplateIDs: ids})
	if err != nil {
		return nil, err
	}
	return wire.CreateAddressTemplateGroupResponse{AddressTemplateGroup: addressTemplateGroupToWire(g)}, nil
}

func (h *handler) describeAddressTemplateGroups(c *call, req *wire.DescribeAddressTemplateGroupsRequest) (any, error) {
	set, total, err := describeTemplates(c, (*wire.TemplateQuery)(req), h.svc.DescribeAddressTemplateGroups, addressTemplateGroupToWire)
	return answer(wire.DescribeAddressTemplateGroupsResponse{AddressTemplateGroupSet: set, TotalCount: total}, err)
}

func (h *handler) modifyAddressTemplateGroupAttribute(c *call, req *wire.ModifyAddressTemplateGroupAttributeRequest) (any, error) {
	id, err := requireString("AddressTemplateGroupId", req.AddressTemplateGroupId)
	if err != nil {
		return nil, err
	}
	in := service.ModifyTemplateGroupInput{ID: id, TemplateIDs: strs(req.AddressTemplateIds), Name: optional(req.AddressTemplateGroupName)}
	return nil, h.svc.ModifyAddressTemplateGroupAttribute(c.ctx, c.caller, in)
}

func (h *handler) deleteAddressTemplateGroup(c *call, req *wire.DeleteAddressTemplateGroupRequest) (any, error) {
	return byID(c, "AddressTemplateGroupId", req.AddressTemplateGroupId, h.svc.DeleteAddressTemplateGroup)
}

// ---- service templates ----

func serviceTemplateToWire(t service.ServiceTemplate) wire.ServiceTemplate {
	out := wire.ServiceTemplate{
		ServiceTemplateId:   t.ID,
		ServiceTemplateName: t.Name,
		ServiceSet:          make([]string, len(t.Entries)),
		CreatedTime:         vpcTime(t.CreatedTime),
		ServiceExtraSet:     make([]wire.ServiceInfo, len(t.Entries)),
		TagSet:              []wire.Tag{},
	}
	for i, e := range t.Entries {
		out.ServiceSet[i] = e.Value
		out.ServiceExtraSet[i] = wire.ServiceInfo{Service: e.Value, Description: e.Description}
	}
	return out
}

func (h *handler) createServiceTemplate(c *call, req *wire.CreateServiceTemplateRequest) (any, error) {
	name, err := requireString("ServiceTemplateName", req.ServiceTemplateName)
	if err != nil {
		return nil, err
	}
	es, err := serviceEntries(req.Services, req.ServicesExtra)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, missing("Services")
	}
	t, err := h.svc.CreateServiceTemplate(c.ctx, c.caller, service.TemplateInput{Name: name, Entries: es})
	if err != nil {
		return nil, err
	}
	return wire.CreateServiceTemplateResponse{ServiceTemplate: serviceTemplateToWire(t)}, nil
}

func (h *handler) describeServiceTemplates(c *call, req *wire.DescribeServiceTemplatesRequest) (any, error) {
	set, total, err := describeTemplates(c, (*wire.TemplateQuery)(req), h.svc.DescribeServiceTemplates, serviceTemplateToWire)
	return answer(wire.DescribeServiceTemplatesResponse{ServiceTemplateSet: set, TotalCount: total}, err)
}

func (h *handler) modifyServiceTemplateAttribute(c *call, req *wire.ModifyServiceTemplateAttributeRequest) (any, error) {
	id, err := requireString("ServiceTemplateId", req.ServiceTemplateId)
	if err != nil {
		return nil, err
	}
	es, err := serviceEntries(req.Services, req.ServicesExtra)
	if err != nil {
		return nil, err
	}
	in := service.ModifyTemplateInput{ID: id, Entries: es, Name: optional(req.ServiceTemplateName)}
	return nil, h.svc.ModifyServiceTemplateAttribute(c.ctx, c.caller, in)
}

func (h *handler) deleteServiceTemplate(c *call, req *wire.DeleteServiceTemplateRequest) (any, error) {
	return byID(c, "ServiceTemplateId", req.ServiceTemplateId, h.svc.DeleteServiceTemplate)
}

// ---- service template groups ----

func serviceTemplateGroupToWire(g service.ServiceTemplateGroup) wire.ServiceTemplateGroup {
	out := wire.ServiceTemplateGroup{
		ServiceTemplateGroupId:   g.ID,
		ServiceTemplateGroupName: g.Name,
		ServiceTemplateIdSet:     nonNil(g.TemplateIDs),
		CreatedTime:              vpcTime(g.CreatedTime),
		ServiceTemplateSet:       make([]wire.ServiceTemplate, len(g.Templates)),
		TagSet:                   []wire.Tag{},
	}
	for i, t := range g.Templates {
		out.ServiceTemplateSet[i] = serviceTemplateToWire(t)
	}
	return out
}

func (h *handler) createServiceTemplateGroup(c *call, req *wire.CreateServiceTemplateGroupRequest) (any, error) {
	name, err := requireString("ServiceTemplateGroupName", req.ServiceTemplateGroupName)
	if err != nil {
		return nil, err
	}
	ids, err := requireList("ServiceTemplateIds", req.ServiceTemplateIds)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.CreateServiceTemplateGroup(c.ctx, c.caller, service.TemplateGroupInput{Name: name, TemplateIDs: ids})
	if err != nil {
		return nil, err
	}
	return wire.CreateServiceTemplateGroupResponse{ServiceTemplateGroup: serviceTemplateGroupToWire(g)}, nil
}

func (h *handler) describeServiceTemplateGroups(c *call, req *wire.DescribeServiceTemplateGroupsRequest) (any, error) {
	set, total, err := describeTemplates(c, (*wire.TemplateQuery)(req), h.svc.DescribeServiceTemplateGroups, serviceTemplateGroupToWire)
	return answer(wire.DescribeServiceTemplateGroupsResponse{ServiceTemplateGroupSet: set, TotalCount: total}, err)
}

func (h *handler) modifyServiceTemplateGroupAttribute(c *call, req *wire.ModifyServiceTemplateGroupAttributeRequest) (any, error) {
	id, err := requireString("ServiceTemplateGroupId", req.ServiceTemplateGroupId)
	if err != nil {
		return nil, err
	}
	in := service.ModifyTemplateGroupInput{ID: id, TemplateIDs: strs(req.ServiceTemplateIds), Name: optional(req.ServiceTemplateGroupName)}
	return nil, h.svc.ModifyServiceTemplateGroupAttribute(c.ctx, c.caller, in)
}

func (h *handler) deleteServiceTemplateGroup(c *call, req *wire.DeleteServiceTemplateGroupRequest) (any, error) {
	return byID(c, "ServiceTemplateGroupId", req.ServiceTemplateGroupId, h.svc.DeleteServiceTemplateGroup)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
