package api

import (
	"crypto/md5"
	"encoding/hex"
	"strings"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// tag actions (2018-08-13) on security groups, the resources the
// Terraform provider tags: service type "cvm", resource prefix "sg". The
// resource's region is the one the request names (ResourceRegion, or the
// region segment of the six-segment resource name), X-TC-Region when it
// names none.

const (
	tagServiceType    = "cvm"
	tagResourcePrefix = "sg"
	// defaultTagLimit and maxTagLimit bound a page of
	// DescribeResourceTagsByResourceIds.
	defaultTagLimit = 15
	maxTagLimit     = 400
)

func (h *handler) describeResourceTagsByResourceIds(c *call, req *wire.DescribeResourceTagsByResourceIdsRequest) (any, error) {
	st, err := requireString("ServiceType", req.ServiceType)
	if err != nil {
		return nil, err
	}
	if st != tagServiceType {
		return nil, malformed("ServiceType", st, `must be "cvm": Palisade's tagged resources are security groups`)
	}
	prefix, err := requireString("ResourcePrefix", req.ResourcePrefix)
	if err != nil {
		return nil, err
	}
	if prefix != tagResourcePrefix {
		return nil, malformed("ResourcePrefix", prefix, `must be "sg": Palisade's tagged resources are security groups`)
	}
	ids, err := requireList("ResourceIds", req.ResourceIds)
	if err != nil {
		return nil, err
	}
	offset, limit := int64(0), int64(defaultTagLimit)
	if req.Offset != nil {
		if offset, err = integer("Offset", req.Offset); err != nil {
			return nil, err
		}
		if offset < 0 {
			return nil, outOfRange("Offset", req.Offset.Text(), "must not be negative")
		}
	}
	if req.Limit != nil {
		if limit, err = integer("Limit", req.Limit); err != nil {
			return nil, err
		}
		if limit < 1 || limit > maxTagLimit {
			return nil, outOfRange("Limit", req.Limit.Text(), "must be between 1 and 400")
		}
	}
	caller := c.caller
	if r := str(req.ResourceRegion); r != "" {
		caller.Region = r
	}
	groups, err := h.svc.DescribeGroupTags(c.ctx, caller, ids)
	if err != nil {
		return nil, err
	}
	all := []wire.TagResource{}
	for _, g := range groups {
		for _, t := range g.Tags {
			all = append(all, wire.TagResource{TagKey: t.Key, TagValue: t.Value, ResourceId: g.ResourceID,
				TagKeyMd5: md5Hex(t.Key), TagValueMd5: md5Hex(t.Value), ServiceType: tagServiceType})
		}
	}
	resp := wire.DescribeResourceTagsByResourceIdsResponse{TotalCount: uint64(len(all)), Offset: uint64(offset), Limit: uint64(limit), Tags: []wire.TagResource{}}
	if offset < int64(len(all)) {
		resp.Tags = all[offset:min(int64(len(all)), offset+limit)]
	}
	return resp, nil
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (h *handler) modifyResourceTags(c *call, req *wire.ModifyResourceTagsRequest) (any, error) {
	name, err := requireString("Resource", req.Resource)
	if err != nil {
		return nil, err
	}
	res, err := parseResourceName(name)
	if err != nil {
		return nil, err
	}
	caller := c.caller
	if res.region != "" {
		caller.Region = res.region
	}
	in := service.ModifyTagsInput{SecurityGroupID: res.id, AccountID: res.account, ReplaceGiven: req.ReplaceTags != nil, DeleteGiven: req.DeleteTags != nil}
	for _, t := range req.ReplaceTags {
		in.Replace = append(in.Replace, service.Tag{Key: str(t.TagKey), Value: str(t.TagValue)})
	}
	for _, t := range req.DeleteTags {
		in.Delete = append(in.Delete, str(t.TagKey))
	}
	return nil, h.svc.ModifyGroupTags(c.ctx, caller, in)
}

// resourceName is a parsed six-segment resource description.
type resourceName struct {
	region, account, id string
}

// parseResourceName reads qcs::cvm:REGION:uin/ACCOUNT:sg/ID (the project
// segment, the region and the account may be empty).
func parseResourceName(s string) (resourceName, error) {
	bad := func(reason string) (resourceName, error) {
		return resourceName{}, malformed("Resource", s, reason)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "qcs" {
		return bad("must be a six-segment resource description, qcs::cvm:REGION:uin/ACCOUNT:sg/sg-xxxxxxxx")
	}
	if parts[2] != tagServiceType {
		return bad(`its service type must be "cvm": Palisade's tagged resources are security groups`)
	}
	account, ok := strings.CutPrefix(parts[4], "uin/")
	if !ok {
		return bad(`its account segment must be "uin/ACCOUNT" (ACCOUNT may be empty)`)
	}
	id, ok := strings.CutPrefix(parts[5], tagResourcePrefix+"/")
	if !ok || id == "" {
		return bad(`its resource segment must be "sg/sg-xxxxxxxx"`)
	}
	return resourceName{region: parts[3], account: account, id: id}, nil
}
