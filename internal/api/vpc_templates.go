package api

import (
	"context"
	"strconv"

	"github.com/palisade-sg/palisade/internal/service"
)

// vpc parameter-template actions: address templates (ipm-) and their groups
// (ipmg-), service templates (ppm-) and their groups (ppmg-).

type addressInfoIn struct {
	Address     *flexString `json:"Address"`
	Description *flexString `json:"Description"`
}

type serviceInfoIn struct {
	Service     *flexString `json:"Service"`
	Description *flexString `json:"Description"`
}

// entries merges a template's plain and described entries, plain first.
func entries(plain []flexString, extraField string, extra [][2]*flexString) ([]service.TemplateEntry, error) {
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

func addressEntries(plain []flexString, extra []addressInfoIn) ([]service.TemplateEntry, error) {
	var pairs [][2]*flexString
	if extra != nil {
		pairs = make([][2]*flexString, len(extra))
		for i, e := range extra {
			pairs[i] = [2]*flexString{e.Address, e.Description}
		}
	}
	return entries(plain, "AddressesExtra", pairs)
}

func serviceEntries(plain []flexString, extra []serviceInfoIn) ([]service.TemplateEntry, error) {
	var pairs [][2]*flexString
	if extra != nil {
		pairs = make([][2]*flexString, len(extra))
		for i, e := range extra {
			pairs[i] = [2]*flexString{e.Service, e.Description}
		}
	}
	return entries(plain, "ServicesExtra", pairs)
}

type templateQueryRequest struct {
	Filters        []filterIn `json:"Filters"`
	Offset         *flexInt   `json:"Offset"`
	Limit          *flexInt   `json:"Limit"`
	NeedMemberInfo *flexBool  `json:"NeedMemberInfo"`
}

func (req *templateQueryRequest) query() (service.TemplateQuery, error) {
	p, err := page(req.Offset, req.Limit)
	if err != nil {
		return service.TemplateQuery{}, err
	}
	if req.NeedMemberInfo != nil {
		if _, err := req.NeedMemberInfo.bool("NeedMemberInfo"); err != nil {
			return service.TemplateQuery{}, err
		}
	}
	return service.TemplateQuery{Filters: filters(req.Filters), Page: p}, nil
}

// describeTemplates runs list, a service call listing templates or template
// groups, with req's query and answers the page under name.
func describeTemplates[T, W any](c *call, req *templateQueryRequest, name string, list func(context.Context, service.Caller, service.TemplateQuery) ([]T, int, error), conv func(T) W) (any, error) {
	q, err := req.query()
	if err != nil {
		return nil, err
	}
	items, total, err := list(c.ctx, c.caller, q)
	return wirePage(name, items, total, err, conv)
}

// ---- address templates ----

type addressInfoOut struct {
	Address     string `json:"Address"`
	Description string `json:"Description"`
}

type addressTemplateObj struct {
	AddressTemplateName string           `json:"AddressTemplateName"`
	AddressTemplateId   string           `json:"AddressTemplateId"`
	AddressSet          []string         `json:"AddressSet"`
	CreatedTime         string           `json:"CreatedTime"`
	AddressExtraSet     []addressInfoOut `json:"AddressExtraSet"`
	TagSet              []tagOut         `json:"TagSet"`
}

func addressTemplateToWire(t service.AddressTemplate) addressTemplateObj {
	out := addressTemplateObj{
		AddressTemplateName: t.Name,
		AddressTemplateId:   t.ID,
		AddressSet:          make([]string, len(t.Entries)),
		CreatedTime:         vpcTime(t.CreatedTime),
		AddressExtraSet:     make([]addressInfoOut, len(t.Entries)),
		TagSet:              []tagOut{},
	}
	for i, e := range t.Entries {
		out.AddressSet[i] = e.Value
		out.AddressExtraSet[i] = addressInfoOut{Address: e.Value, Description: e.Description}
	}
	return out
}

type createAddressTemplateRequest struct {
	AddressTemplateName *flexString     `json:"AddressTemplateName"`
	Addresses           []flexString    `json:"Addresses"`
	AddressesExtra      []addressInfoIn `json:"AddressesExtra"`
}

func (h *handler) createAddressTemplate(c *call, req *createAddressTemplateRequest) (any, error) {
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
	return map[string]any{"AddressTemplate": addressTemplateToWire(t)}, nil
}

func (h *handler) describeAddressTemplates(c *call, req *templateQueryRequest) (any, error) {
	return describeTemplates(c, req, "AddressTemplateSet", h.svc.DescribeAddressTemplates, addressTemplateToWire)
}

type modifyAddressTemplateRequest struct {
	AddressTemplateId   *flexString     `json:"AddressTemplateId"`
	AddressTemplateName *flexString     `json:"AddressTemplateName"`
	Addresses           []flexString    `json:"Addresses"`
	AddressesExtra      []addressInfoIn `json:"AddressesExtra"`
}

func (h *handler) modifyAddressTemplateAttribute(c *call, req *modifyAddressTemplateRequest) (any, error) {
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

type addressTemplateIDRequest struct {
	AddressTemplateId *flexString `json:"AddressTemplateId"`
}

func (h *handler) deleteAddressTemplate(c *call, req *addressTemplateIDRequest) (any, error) {
	return byID(c, "AddressTemplateId", req.AddressTemplateId, h.svc.DeleteAddressTemplate)
}

// ---- address template groups ----

type addressTemplateItemOut struct {
	AddressTemplateId   string `json:"AddressTemplateId"`
	AddressTemplateName string `json:"AddressTemplateName"`
	From                string `json:"From"`
	To                  string `json:"To"`
}

type addressTemplateGroupObj struct {
	AddressTemplateGroupName string                   `json:"AddressTemplateGroupName"`
	AddressTemplateGroupId   string                   `json:"AddressTemplateGroupId"`
	AddressTemplateIdSet     []string                 `json:"AddressTemplateIdSet"`
	CreatedTime              string                   `json:"CreatedTime"`
	AddressTemplateSet       []addressTemplateItemOut `json:"AddressTemplateSet"`
	TagSet                   []tagOut                 `json:"TagSet"`
}

func addressTemplateGroupToWire(g service.AddressTemplateGroup) addressTemplateGroupObj {
	out := addressTemplateGroupObj{
		AddressTemplateGroupName: g.Name,
		AddressTemplateGroupId:   g.ID,
		AddressTemplateIdSet:     nonNil(g.TemplateIDs),
		CreatedTime:              vpcTime(g.CreatedTime),
		AddressTemplateSet:       make([]addressTemplateItemOut, len(g.Templates)),
		TagSet:                   []tagOut{},
	}
	for i, t := range g.Templates {
		out.AddressTemplateSet[i] = addressTemplateItemOut{AddressTemplateId: t.ID, AddressTemplateName: t.Name}
	}
	return out
}

type createAddressTemplateGroupRequest struct {
	AddressTemplateGroupName *flexString  `json:"AddressTemplateGroupName"`
	AddressTemplateIds       []flexString `json:"AddressTemplateIds"`
}

func (h *handler) createAddressTemplateGroup(c *call, req *createAddressTemplateGroupRequest) (any, error) {
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
	return map[string]any{"AddressTemplateGroup": addressTemplateGroupToWire(g)}, nil
}

func (h *handler) describeAddressTemplateGroups(c *call, req *templateQueryRequest) (any, error) {
	return describeTemplates(c, req, "AddressTemplateGroupSet", h.svc.DescribeAddressTemplateGroups, addressTemplateGroupToWire)
}

type modifyAddressTemplateGroupRequest struct {
	AddressTemplateGroupId   *flexString  `json:"AddressTemplateGroupId"`
	AddressTemplateGroupName *flexString  `json:"AddressTemplateGroupName"`
	AddressTemplateIds       []flexString `json:"AddressTemplateIds"`
}

func (h *handler) modifyAddressTemplateGroupAttribute(c *call, req *modifyAddressTemplateGroupRequest) (any, error) {
	id, err := requireString("AddressTemplateGroupId", req.AddressTemplateGroupId)
	if err != nil {
		return nil, err
	}
	in := service.ModifyTemplateGroupInput{ID: id, TemplateIDs: strs(req.AddressTemplateIds), Name: optional(req.AddressTemplateGroupName)}
	return nil, h.svc.ModifyAddressTemplateGroupAttribute(c.ctx, c.caller, in)
}

type addressTemplateGroupIDRequest struct {
	AddressTemplateGroupId *flexString `json:"AddressTemplateGroupId"`
}

func (h *handler) deleteAddressTemplateGroup(c *call, req *addressTemplateGroupIDRequest) (any, error) {
	return byID(c, "AddressTemplateGroupId", req.AddressTemplateGroupId, h.svc.DeleteAddressTemplateGroup)
}

// ---- service templates ----

type serviceInfoOut struct {
	Service     string `json:"Service"`
	Description string `json:"Description"`
}

type serviceTemplateObj struct {
	ServiceTemplateId   string           `json:"ServiceTemplateId"`
	ServiceTemplateName string           `json:"ServiceTemplateName"`
	ServiceSet          []string         `json:"ServiceSet"`
	CreatedTime         string           `json:"CreatedTime"`
	ServiceExtraSet     []serviceInfoOut `json:"ServiceExtraSet"`
	TagSet              []tagOut         `json:"TagSet"`
}

func serviceTemplateToWire(t service.ServiceTemplate) serviceTemplateObj {
	out := serviceTemplateObj{
		ServiceTemplateId:   t.ID,
		ServiceTemplateName: t.Name,
		ServiceSet:          make([]string, len(t.Entries)),
		CreatedTime:         vpcTime(t.CreatedTime),
		ServiceExtraSet:     make([]serviceInfoOut, len(t.Entries)),
		TagSet:              []tagOut{},
	}
	for i, e := range t.Entries {
		out.ServiceSet[i] = e.Value
		out.ServiceExtraSet[i] = serviceInfoOut{Service: e.Value, Description: e.Description}
	}
	return out
}

type createServiceTemplateRequest struct {
	ServiceTemplateName *flexString     `json:"ServiceTemplateName"`
	Services            []flexString    `json:"Services"`
	ServicesExtra       []serviceInfoIn `json:"ServicesExtra"`
}

func (h *handler) createServiceTemplate(c *call, req *createServiceTemplateRequest) (any, error) {
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
	return map[string]any{"ServiceTemplate": serviceTemplateToWire(t)}, nil
}

func (h *handler) describeServiceTemplates(c *call, req *templateQueryRequest) (any, error) {
	return describeTemplates(c, req, "ServiceTemplateSet", h.svc.DescribeServiceTemplates, serviceTemplateToWire)
}

type modifyServiceTemplateRequest struct {
	ServiceTemplateId   *flexString     `json:"ServiceTemplateId"`
	ServiceTemplateName *flexString     `json:"ServiceTemplateName"`
	Services            []flexString    `json:"Services"`
	ServicesExtra       []serviceInfoIn `json:"ServicesExtra"`
}

func (h *handler) modifyServiceTemplateAttribute(c *call, req *modifyServiceTemplateRequest) (any, error) {
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

type serviceTemplateIDRequest struct {
	ServiceTemplateId *flexString `json:"ServiceTemplateId"`
}

func (h *handler) deleteServiceTemplate(c *call, req *serviceTemplateIDRequest) (any, error) {
	return byID(c, "ServiceTemplateId", req.ServiceTemplateId, h.svc.DeleteServiceTemplate)
}

// ---- service template groups ----

type serviceTemplateGroupObj struct {
	ServiceTemplateGroupId   string               `json:"ServiceTemplateGroupId"`
	ServiceTemplateGroupName string               `json:"ServiceTemplateGroupName"`
	ServiceTemplateIdSet     []string             `json:"ServiceTemplateIdSet"`
	CreatedTime              string               `json:"CreatedTime"`
	ServiceTemplateSet       []serviceTemplateObj `json:"ServiceTemplateSet"`
	TagSet                   []tagOut             `json:"TagSet"`
}

func serviceTemplateGroupToWire(g service.ServiceTemplateGroup) serviceTemplateGroupObj {
	out := serviceTemplateGroupObj{
		ServiceTemplateGroupId:   g.ID,
		ServiceTemplateGroupName: g.Name,
		ServiceTemplateIdSet:     nonNil(g.TemplateIDs),
		CreatedTime:              vpcTime(g.CreatedTime),
		ServiceTemplateSet:       make([]serviceTemplateObj, len(g.Templates)),
		TagSet:                   []tagOut{},
	}
	for i, t := range g.Templates {
		out.ServiceTemplateSet[i] = serviceTemplateToWire(t)
	}
	return out
}

type createServiceTemplateGroupRequest struct {
	ServiceTemplateGroupName *flexString  `json:"ServiceTemplateGroupName"`
	ServiceTemplateIds       []flexString `json:"ServiceTemplateIds"`
}

func (h *handler) createServiceTemplateGroup(c *call, req *createServiceTemplateGroupRequest) (any, error) {
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
	return map[string]any{"ServiceTemplateGroup": serviceTemplateGroupToWire(g)}, nil
}

func (h *handler) describeServiceTemplateGroups(c *call, req *templateQueryRequest) (any, error) {
	return describeTemplates(c, req, "ServiceTemplateGroupSet", h.svc.DescribeServiceTemplateGroups, serviceTemplateGroupToWire)
}

type modifyServiceTemplateGroupRequest struct {
	ServiceTemplateGroupId   *flexString  `json:"ServiceTemplateGroupId"`
	ServiceTemplateGroupName *flexString  `json:"ServiceTemplateGroupName"`
	ServiceTemplateIds       []flexString `json:"ServiceTemplateIds"`
}

func (h *handler) modifyServiceTemplateGroupAttribute(c *call, req *modifyServiceTemplateGroupRequest) (any, error) {
	id, err := requireString("ServiceTemplateGroupId", req.ServiceTemplateGroupId)
	if err != nil {
		return nil, err
	}
	in := service.ModifyTemplateGroupInput{ID: id, TemplateIDs: strs(req.ServiceTemplateIds), Name: optional(req.ServiceTemplateGroupName)}
	return nil, h.svc.ModifyServiceTemplateGroupAttribute(c.ctx, c.caller, in)
}

type serviceTemplateGroupIDRequest struct {
	ServiceTemplateGroupId *flexString `json:"ServiceTemplateGroupId"`
}

func (h *handler) deleteServiceTemplateGroup(c *call, req *serviceTemplateGroupIDRequest) (any, error) {
	return byID(c, "ServiceTemplateGroupId", req.ServiceTemplateGroupId, h.svc.DeleteServiceTemplateGroup)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
