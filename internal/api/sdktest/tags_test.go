package sdktest

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/service"
)

// The tag service's actions on security groups, sent as the Terraform
// provider sends them: the SDK's common client, service "tag", version
// 2018-08-13.

const tagVersion = "2018-08-13"

// tagRow is one element of DescribeResourceTagsByResourceIds' Tags.
type tagRow struct {
	TagKey, TagValue, ResourceId, TagKeyMd5, TagValueMd5, ServiceType string
}

type tagPage struct {
	TotalCount, Offset, Limit uint64
	Tags                      []tagRow
}

// describeTags sends the provider's DescribeResourceTagsByResourceIds
// request for ids in region.
func (e *env) describeTags(c cred, region string, offset, limit int, ids ...string) (tagPage, error) {
	e.t.Helper()
	var out tagPage
	err := e.callAt(c, region, "tag", tagVersion, "DescribeResourceTagsByResourceIds", map[string]any{
		"ServiceType": "cvm", "ResourcePrefix": "sg", "ResourceIds": ids, "ResourceRegion": region, "Offset": offset, "Limit": limit,
	}, &out)
	return out, err
}

// tfTagName is the resource name the provider builds
// (BuildTagResourceName("cvm", "sg", region, id)).
func tfTagName(region, id string) string { return "qcs::cvm:" + region + ":uin/:sg/" + id }

// modifyTags sends ModifyResourceTags as the provider's ModifyTags does:
// each list only when it has elements.
func (e *env) modifyTags(c cred, region, resource string, replace map[string]string, del []string) error {
	e.t.Helper()
	params := map[string]any{"Resource": resource}
	if len(replace) > 0 {
		var list []map[string]string
		for _, k := range sortedKeys(replace) {
			list = append(list, map[string]string{"TagKey": k, "TagValue": replace[k]})
		}
		params["ReplaceTags"] = list
	}
	if len(del) > 0 {
		var list []map[string]string
		for _, k := range del {
			list = append(list, map[string]string{"TagKey": k})
		}
		params["DeleteTags"] = list
	}
	return e.callAt(c, region, "tag", tagVersion, "ModifyResourceTags", params, nil)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// taggedGroup creates a group with tags (key, value, …) as c in region.
func (e *env) taggedGroup(c cred, region, name string, kv ...string) string {
	e.t.Helper()
	req := vpc.NewCreateSecurityGroupRequest()
	req.GroupName, req.GroupDescription = common.StringPtr(name), common.StringPtr("")
	for i := 0; i+1 < len(kv); i += 2 {
		req.Tags = append(req.Tags, &vpc.Tag{Key: common.StringPtr(kv[i]), Value: common.StringPtr(kv[i+1])})
	}
	res, err := e.vpcAs(c, region).CreateSecurityGroup(req)
	if err != nil {
		e.t.Fatalf("CreateSecurityGroup %s: %v", name, err)
	}
	return *res.Response.SecurityGroup.SecurityGroupId
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// rows renders a page's tags as "id key=value".
func rows(p tagPage) []string {
	out := make([]string, len(p.Tags))
	for i, r := range p.Tags {
		out[i] = r.ResourceId + " " + r.TagKey + "=" + r.TagValue
	}
	return out
}

func TestTagDescribe(t *testing.T) {
	e := newEnv(t, envOptions{})
	own := e.taggedGroup(e.admin, gz, "own", "env", "prod", "app", "web")
	bare := e.taggedGroup(e.admin, gz, "bare")
	theirs := e.taggedGroup(e.other, gz, "theirs", "env", "theirs")
	shanghai := e.taggedGroup(e.admin, sh, "shanghai", "env", "sh")
	missing := "sg-00000000"

	tests := []struct {
		name   string
		region string
		ids    []string
		want   []string
	}{
		{"own, another account's, another region's and a missing one", gz, []string{own, theirs, shanghai, missing, bare},
			[]string{own + " env=prod", own + " app=web"}},
		{"another account's alone", gz, []string{theirs}, []string{}},
		{"the other region named", sh, []string{own, shanghai}, []string{shanghai + " env=sh"}},
		{"a group without tags", gz, []string{bare}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.describeTags(e.admin, tt.region, 0, 20, tt.ids...)
			if err != nil {
				t.Fatalf("DescribeResourceTagsByResourceIds: %v", err)
			}
			if got := rows(p); !slices.Equal(got, tt.want) || p.TotalCount != uint64(len(tt.want)) || p.Limit != 20 || p.Offset != 0 {
				t.Errorf("tags %q total %d offset %d limit %d, want %q", got, p.TotalCount, p.Offset, p.Limit, tt.want)
			}
			for _, r := range p.Tags {
				if r.ServiceType != "cvm" || r.TagKeyMd5 != md5hex(r.TagKey) || r.TagValueMd5 != md5hex(r.TagValue) {
					t.Errorf("row %+v", r)
				}
			}
		})
	}

	// Paging over the rows: TotalCount counts them all.
	p, err := e.describeTags(e.admin, gz, 1, 1, own)
	if err != nil || !slices.Equal(rows(p), []string{own + " app=web"}) || p.TotalCount != 2 {
		t.Errorf("page 2 of 1: %q total %d, %v", rows(p), p.TotalCount, err)
	}
	if p, err = e.describeTags(e.admin, gz, 5, 20, own); err != nil || len(p.Tags) != 0 || p.TotalCount != 2 {
		t.Errorf("a page beyond the end: %+v, %v", p, err)
	}
	// The other account sees its own group, and not ours.
	if p, err = e.describeTags(e.other, gz, 0, 20, own, theirs); err != nil || !slices.Equal(rows(p), []string{theirs + " env=theirs"}) {
		t.Errorf("the other account reads %q, %v", rows(p), err)
	}
	// A readonly credential reads.
	if _, err := e.describeTags(e.reader, gz, 0, 20, own); err != nil {
		t.Errorf("readonly describe: %v", err)
	}
}

func TestTagModify(t *testing.T) {
	e := newEnv(t, envOptions{quotas: service.Quotas{TagsPerResource: 4}})
	own := e.taggedGroup(e.admin, gz, "own", "env", "prod", "app", "web")
	theirs := e.taggedGroup(e.other, gz, "theirs", "env", "theirs")
	read := func(c cred, id string) []string {
		t.Helper()
		p, err := e.describeTags(c, gz, 0, 20, id)
		if err != nil {
			t.Fatalf("describe: %v", err)
		}
		return rows(p)
	}
	steps := []struct {
		name    string
		replace map[string]string
		del     []string
		want    []string
	}{
		{"add a key", map[string]string{"team": "net"}, nil, []string{"env=prod", "app=web", "team=net"}},
		{"replace a value", map[string]string{"env": "staging"}, nil, []string{"env=staging", "app=web", "team=net"}},
		{"delete a key", nil, []string{"app"}, []string{"env=staging", "team=net"}},
		{"replace and delete together", map[string]string{"owner": "ops"}, []string{"team"}, []string{"env=staging", "owner=ops"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := e.modifyTags(e.admin, gz, tfTagName(gz, own), s.replace, s.del); err != nil {
				t.Fatalf("ModifyResourceTags: %v", err)
			}
			want := make([]string, len(s.want))
			for i, w := range s.want {
				want[i] = own + " " + w
			}
			if got := read(e.admin, own); !slices.Equal(got, want) {
				t.Errorf("tags %q, want %q", got, want)
			}
		})
	}
	// DescribeSecurityGroups' TagSet is the same store.
	req := vpc.NewDescribeSecurityGroupsRequest()
	req.SecurityGroupIds = common.StringPtrs([]string{own})
	res, err := e.vpc().DescribeSecurityGroups(req)
	if err != nil || len(res.Response.SecurityGroupSet) != 1 {
		t.Fatalf("DescribeSecurityGroups: %v", err)
	}
	var set []string
	for _, tg := range res.Response.SecurityGroupSet[0].TagSet {
		set = append(set, *tg.Key+"="+*tg.Value)
	}
	if want := []string{"env=staging", "owner=ops"}; !slices.Equal(set, want) {
		t.Errorf("TagSet %q, want %q", set, want)
	}
	before := read(e.admin, own)

	long := strings.Repeat("k", 128)
	refused := []struct {
		name     string
		cred     cred
		resource string
		replace  map[string]string
		del      []string
		code     string
	}{
		{"over the quota", e.admin, tfTagName(gz, own), map[string]string{"a": "1", "b": "2", "c": "3"}, nil, "LimitExceeded.ResourceAttachedTags"},
		{"an empty key", e.admin, tfTagName(gz, own), map[string]string{"": "x"}, nil, "InvalidParameterValue.TagKeyEmpty"},
		{"a key of 128 characters", e.admin, tfTagName(gz, own), map[string]string{long: "x"}, nil, "InvalidParameterValue.TagKeyLengthExceeded"},
		{"a value of 256 characters", e.admin, tfTagName(gz, own), map[string]string{"k": strings.Repeat("v", 256)}, nil, "InvalidParameterValue.TagValueLengthExceeded"},
		{"a key replaced and deleted", e.admin, tfTagName(gz, own), map[string]string{"env": "x"}, []string{"env"}, "InvalidParameterValue.DeleteTagsParamError"},
		{"neither list", e.admin, tfTagName(gz, own), nil, nil, "MissingParameter"},
		{"not a resource name", e.admin, "sg/" + own, map[string]string{"k": "v"}, nil, "InvalidParameterValue.ResourceDescriptionError"},
		{"another service's resource", e.admin, "qcs::cdb:ap-guangzhou:uin/:instanceId/" + own, map[string]string{"k": "v"}, nil, "InvalidParameterValue.ResourceDescriptionError"},
		{"a malformed group id", e.admin, tfTagName(gz, "sg-bad"), map[string]string{"k": "v"}, nil, "InvalidParameterValue.ResourceDescriptionError"},
		{"another account's group", e.admin, tfTagName(gz, theirs), map[string]string{"k": "v"}, nil, "ResourceNotFound"},
		{"the group named in another region", e.admin, tfTagName(sh, own), map[string]string{"k": "v"}, nil, "ResourceNotFound"},
		{"a missing group", e.admin, tfTagName(gz, "sg-00000000"), map[string]string{"k": "v"}, nil, "ResourceNotFound"},
		{"a readonly credential", e.reader, tfTagName(gz, own), map[string]string{"k": "v"}, nil, "UnauthorizedOperation"},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			err := e.modifyTags(r.cred, gz, r.resource, r.replace, r.del)
			wantCode(t, "ModifyResourceTags", err, r.code)
			if got := read(e.admin, own); !slices.Equal(got, before) {
				t.Errorf("a refused change changed the tags: %q, was %q", got, before)
			}
		})
	}
	if got := read(e.other, theirs); !slices.Equal(got, []string{theirs + " env=theirs"}) {
		t.Errorf("the other account's tags: %q", got)
	}

	// Empty lists are refused: the tag API takes a list or nothing.
	err = e.callAt(e.admin, gz, "tag", tagVersion, "ModifyResourceTags", map[string]any{"Resource": tfTagName(gz, own), "ReplaceTags": []any{}}, nil)
	wantCode(t, "ReplaceTags []", err, "InvalidParameter.Tag")
	// The resource's account segment may name the caller's account only.
	err = e.modifyTags(e.admin, gz, "qcs::cvm:ap-guangzhou:uin/acc-someone:sg/"+own, map[string]string{"k": "v"}, nil)
	wantCode(t, "another account in the resource name", err, "ResourceNotFound")
	if err := e.modifyTags(e.admin, gz, "qcs::cvm:ap-guangzhou:uin/"+e.account+":sg/"+own, map[string]string{"k": "v"}, nil); err != nil {
		t.Errorf("the caller's account in the resource name: %v", err)
	}
}

func TestTagRequestChecks(t *testing.T) {
	e := newEnv(t, envOptions{})
	own := e.taggedGroup(e.admin, gz, "own", "env", "prod")
	base := func() map[string]any {
		return map[string]any{"ServiceType": "cvm", "ResourcePrefix": "sg", "ResourceIds": []string{own}, "ResourceRegion": gz, "Offset": 0, "Limit": 20}
	}
	tests := []struct {
		name    string
		version string
		edit    func(map[string]any)
		code    string
	}{
		{"another service type", tagVersion, func(p map[string]any) { p["ServiceType"] = "cdb" }, "InvalidParameterValue.ServiceTypeInvalid"},
		{"another resource prefix", tagVersion, func(p map[string]any) { p["ResourcePrefix"] = "instance" }, "InvalidParameterValue.ResourcePrefixInvalid"},
		{"no service type", tagVersion, func(p map[string]any) { delete(p, "ServiceType") }, "MissingParameter"},
		{"no ids", tagVersion, func(p map[string]any) { delete(p, "ResourceIds") }, "MissingParameter"},
		{"a malformed id", tagVersion, func(p map[string]any) { p["ResourceIds"] = []string{"i-abc"} }, "InvalidParameterValue.ResourceIdInvalid"},
		{"too many ids", tagVersion, func(p map[string]any) {
			ids := make([]string, 51)
			for i := range ids {
				ids[i] = own
			}
			p["ResourceIds"] = ids
		}, "LimitExceeded.ResourceNumPerRequest"},
		{"a limit of 0", tagVersion, func(p map[string]any) { p["Limit"] = 0 }, "InvalidParameterValue.Range"},
		{"an unknown region", tagVersion, func(p map[string]any) { p["ResourceRegion"] = "xx-nowhere" }, "UnsupportedRegion"},
		{"the vpc version", version, func(map[string]any) {}, "NoSuchVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.edit(p)
			err := e.callAt(e.admin, gz, "tag", tt.version, "DescribeResourceTagsByResourceIds", p, nil)
			wantCode(t, "DescribeResourceTagsByResourceIds", err, tt.code)
		})
	}
	// Actions are dispatched on their name whatever service the credential
	// scope names (the Node.js SDK names the endpoint's first label).
	err := e.callAt(e.admin, gz, "vpc", tagVersion, "DescribeResourceTagsByResourceIds", base(), nil)
	wantCode(t, "signed for vpc", err, "")
	// The vpc actions still take only their own version.
	err = e.callAt(e.admin, gz, "vpc", tagVersion, "DescribeSecurityGroups", map[string]any{}, nil)
	wantCode(t, "vpc at the tag version", err, "NoSuchVersion")
}

// TestNoTenantExistenceOracle: another account's group or template id and
// a missing id are answered with the same code and the same message, the
// id aside.
func TestNoTenantExistenceOracle(t *testing.T) {
	e := newEnv(t, envOptions{})
	theirs := e.taggedGroup(e.other, gz, "theirs")
	var tpl struct {
		AddressTemplate struct{ AddressTemplateId string }
	}
	if err := e.call(e.other, gz, "vpc", "CreateAddressTemplate", map[string]any{"AddressTemplateName": "t", "Addresses": []string{"10.0.0.1"}}, &tpl); err != nil {
		t.Fatal(err)
	}
	theirTemplate := tpl.AddressTemplate.AddressTemplateId
	var acct struct{ AccountId string }
	if err := e.call(e.other, gz, "palisade", "DescribeAccount", nil, &acct); err != nil {
		t.Fatal(err)
	}
	theirInstance := e.registerFor(acct.AccountId, gz, instance{name: "theirs", ip: "10.9.0.1"})[0]
	c := e.vpc()
	tests := []struct {
		name            string
		existing, other string
		call            func(id string) error
	}{
		{"DescribeSecurityGroupPolicies", theirs, "sg-00000000", func(id string) error {
			req := vpc.NewDescribeSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &id
			_, err := c.DescribeSecurityGroupPolicies(req)
			return err
		}},
		{"DeleteSecurityGroup", theirs, "sg-00000000", func(id string) error {
			req := vpc.NewDeleteSecurityGroupRequest()
			req.SecurityGroupId = &id
			_, err := c.DeleteSecurityGroup(req)
			return err
		}},
		{"ModifyResourceTags", theirs, "sg-00000000", func(id string) error {
			return e.modifyTags(e.admin, gz, tfTagName(gz, id), map[string]string{"k": "v"}, nil)
		}},
		{"SimulateTraffic", theirInstance, "ins-00000000", func(id string) error {
			return e.call(e.admin, gz, "palisade", "SimulateTraffic", map[string]any{
				"InstanceId": id, "Direction": "INGRESS", "Protocol": "TCP", "Address": "10.0.0.1", "Port": 22}, nil)
		}},
		{"AssociateSecurityGroups", theirInstance, "ins-00000000", func(id string) error {
			g := e.group("mine-"+id, nil, nil)
			req := cvm.NewAssociateSecurityGroupsRequest()
			req.InstanceIds, req.SecurityGroupIds = common.StringPtrs([]string{id}), common.StringPtrs([]string{g})
			_, err := e.cvm().AssociateSecurityGroups(req)
			return err
		}},
		{"ModifyAddressTemplateAttribute", theirTemplate, "ipm-00000000", func(id string) error {
			req := vpc.NewModifyAddressTemplateAttributeRequest()
			req.AddressTemplateId, req.AddressTemplateName = &id, common.StringPtr("x")
			_, err := c.ModifyAddressTemplateAttribute(req)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.call(tt.existing), tt.call(tt.other)
			if a == nil || code(a) != code(b) {
				t.Fatalf("another account's id: %q (%s); a missing id: %q (%s)", code(a), message(a), code(b), message(b))
			}
			if ma, mb := strings.ReplaceAll(message(a), tt.existing, "ID"), strings.ReplaceAll(message(b), tt.other, "ID"); ma != mb {
				t.Errorf("messages differ: %q and %q", ma, mb)
			}
		})
	}
}
