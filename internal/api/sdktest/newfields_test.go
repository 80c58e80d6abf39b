package sdktest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// Fields of newer API versions than SDK v1.0.1000, which does not have
// them: sent through the common client, with the JSON the newer SDKs send.

// TestReplacePoliciesUpdateType: ReplaceSecurityGroupPolicies' UpdateType.
// Policy (and no UpdateType) replaces the content at the indexes given;
// Priority moves the policies OriginalSecurityGroupPolicySet names to the
// indexes given and keeps their content; Both moves and rewrites them.
func TestReplacePoliciesUpdateType(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	initial := []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"}
	idx := func(i int) map[string]any { return map[string]any{"PolicyIndex": i} }
	rule := func(i int, spec string) map[string]any {
		p := pol(spec)
		return map[string]any{"PolicyIndex": i, "Action": *p.Action, "Protocol": *p.Protocol, "Port": *p.Port, "CidrBlock": *p.CidrBlock}
	}
	tests := []struct {
		name       string
		updateType string // "" sends none
		set        []map[string]any
		original   []map[string]any // nil sends none
		want       []string         // nil: refused, nothing changed
		code       string
	}{
		{"no UpdateType replaces content", "", []map[string]any{rule(0, "DROP TCP 10 10.0.0.0/8")}, nil,
			[]string{"DROP TCP 10 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"}, ""},
		{"Policy replaces content, Original only informative", "Policy", []map[string]any{rule(2, "DROP TCP 30 10.0.0.0/8")}, []map[string]any{idx(0)},
			[]string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "DROP TCP 30 10.0.0.0/8"}, ""},
		{"Priority moves and keeps content", "Priority", []map[string]any{idx(0)}, []map[string]any{idx(2)},
			[]string{"ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, ""},
		{"Priority swaps two", "Priority", []map[string]any{idx(2), idx(0)}, []map[string]any{rule(0, initial[0]), rule(2, initial[2])},
			[]string{"ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8"}, ""},
		{"Priority with new content is refused", "Priority", []map[string]any{rule(0, "DROP TCP 3 10.0.0.0/8")}, []map[string]any{idx(2)},
			nil, "UnsupportedOperation"},
		{"Priority needs the original policies", "Priority", []map[string]any{idx(0)}, nil, nil, "MissingParameter"},
		{"Priority with an original that is not there", "Priority", []map[string]any{idx(0)}, []map[string]any{rule(2, "ACCEPT TCP 9 10.0.0.0/8")},
			nil, "InvalidParameterValue.Malformed"},
		{"Both moves and rewrites", "Both", []map[string]any{rule(0, "DROP UDP 53 10.0.0.0/8")}, []map[string]any{idx(1)},
			[]string{"DROP UDP 53 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 3 10.0.0.0/8"}, ""},
		{"UpdateType in any case", "priority", []map[string]any{idx(0)}, []map[string]any{idx(2)},
			[]string{"ACCEPT TCP 3 10.0.0.0/8", "ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, ""},
		{"an unknown UpdateType", "Order", []map[string]any{idx(0)}, []map[string]any{idx(2)}, nil, "InvalidParameterValue.Malformed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each row has its own group, so that no two requests of the
			// same second carry the same body (the replay cache would
			// refuse the second).
			g := e.group(fmt.Sprintf("g%d", i), initial, nil)
			params := map[string]any{"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": tt.set}}
			if tt.updateType != "" {
				params["UpdateType"] = tt.updateType
			}
			if tt.original != nil {
				params["OriginalSecurityGroupPolicySet"] = map[string]any{"Ingress": tt.original}
			}
			err := e.call(e.admin, gz, "vpc", "ReplaceSecurityGroupPolicies", params, nil)
			got := compact(e.describe(c, g).Ingress)
			if tt.want == nil {
				wantCode(t, "ReplaceSecurityGroupPolicies", err, tt.code)
				if !slices.Equal(got, initial) {
					t.Errorf("a refused request changed the policies to %q", got)
				}
			} else {
				if err != nil {
					t.Fatalf("ReplaceSecurityGroupPolicies: %v", err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("policies %q, want %q", got, tt.want)
				}
			}
		})
	}

	// The typed SDK call, which cannot send UpdateType, keeps the default.
	g := e.group("typed", initial, nil)
	req := vpc.NewReplaceSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &g
	p := pol("DROP TCP 20 10.0.0.0/8")
	p.PolicyIndex = common.Int64Ptr(1)
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{p}}
	if _, err := c.ReplaceSecurityGroupPolicies(req); err != nil {
		t.Fatalf("typed ReplaceSecurityGroupPolicies: %v", err)
	}
	if got, want := compact(e.describe(c, g).Ingress), []string{initial[0], "DROP TCP 20 10.0.0.0/8", initial[2]}; !slices.Equal(got, want) {
		t.Errorf("typed replace: %q, want %q", got, want)
	}
}

// TestCloneTags: CloneSecurityGroup's Tags and IsCloneTags.
func TestCloneTags(t *testing.T) {
	e := newEnv(t, envOptions{})
	src := e.taggedGroup(e.admin, gz, "src", "env", "prod", "app", "web")
	tests := []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"neither: no tags, as before", map[string]any{}, []string{}},
		{"Tags", map[string]any{"Tags": []map[string]string{{"Key": "team", "Value": "net"}}}, []string{"team=net"}},
		{"IsCloneTags", map[string]any{"IsCloneTags": true}, []string{"env=prod", "app=web"}},
		{"IsCloneTags false", map[string]any{"IsCloneTags": false}, []string{}},
		{"both: merged, Tags' value wins", map[string]any{"IsCloneTags": true,
			"Tags": []map[string]string{{"Key": "env", "Value": "staging"}, {"Key": "team", "Value": "net"}}},
			[]string{"env=staging", "app=web", "team=net"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.params["SecurityGroupId"] = src
			tt.params["GroupName"] = "clone-" + itoa(i)
			var out struct {
				SecurityGroup struct{ SecurityGroupId string }
			}
			if err := e.call(e.admin, sh, "vpc", "CloneSecurityGroup", withRemote(tt.params, gz), &out); err != nil {
				t.Fatalf("CloneSecurityGroup: %v", err)
			}
			p, err := e.describeTags(e.admin, sh, 0, 20, out.SecurityGroup.SecurityGroupId)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range p.Tags {
				got = append(got, r.TagKey+"="+r.TagValue)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("clone's tags %q, want %q", got, tt.want)
			}
		})
	}
	err := e.call(e.admin, gz, "vpc", "CloneSecurityGroup", map[string]any{"SecurityGroupId": src, "GroupName": "bad",
		"Tags": []map[string]string{{"Key": "", "Value": "x"}}}, nil)
	wantCode(t, "clone with an empty tag key", err, "MissingParameter")
	err = e.call(e.admin, gz, "vpc", "CloneSecurityGroup", map[string]any{"SecurityGroupId": src, "GroupName": "bad", "IsCloneTags": "perhaps"}, nil)
	wantCode(t, "IsCloneTags not a boolean", err, "InvalidParameterValue.Malformed")
}

func withRemote(params map[string]any, region string) map[string]any {
	params["RemoteRegion"] = region
	return params
}

// TestLifecycleFieldsBesideTheSDK: Palisade's Disabled and ExpiresAt on a
// policy, sent through the common client, do not disturb the SDK: its
// typed DescribeSecurityGroupPolicies still decodes the group (the fields
// are ignored), and a replace through the typed SDK, which cannot send
// them, writes the policy enabled and not expiring.
func TestLifecycleFieldsBesideTheSDK(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("life", []string{"ACCEPT TCP 22 10.0.0.0/8"}, nil)
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{
		"Ingress": []any{map[string]any{"PolicyIndex": 0, "Protocol": "TCP", "Port": "22", "CidrBlock": "10.1.0.0/16", "Action": "DROP",
			"Disabled": true, "ExpiresAt": expires}}}}, nil)
	if err != nil {
		t.Fatalf("CreateSecurityGroupPolicies with Disabled and ExpiresAt: %v", err)
	}
	if got := compact(e.describe(e.vpc(), g).Ingress); !slices.Equal(got, []string{"DROP TCP 22 10.1.0.0/16", "ACCEPT TCP 22 10.0.0.0/8"}) {
		t.Fatalf("described through the SDK: %q", got)
	}
	var raw struct {
		SecurityGroupPolicySet struct {
			Ingress []struct {
				Disabled  bool
				ExpiresAt string
			}
		}
	}
	nextSecond()
	if err := e.call(e.admin, gz, "vpc", "DescribeSecurityGroupPolicies", map[string]any{"SecurityGroupId": g}, &raw); err != nil {
		t.Fatal(err)
	}
	if in := raw.SecurityGroupPolicySet.Ingress; len(in) != 2 || !in[0].Disabled || in[0].ExpiresAt != expires || in[1].Disabled || in[1].ExpiresAt != "" {
		t.Errorf("Disabled, ExpiresAt as answered = %+v; want the first policy disabled and expiring at %s", in, expires)
	}
	req := vpc.NewReplaceSecurityGroupPolicyRequest()
	req.SecurityGroupId = common.StringPtr(g)
	p := pol("DROP TCP 22 10.1.0.0/16")
	p.PolicyIndex = common.Int64Ptr(0)
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{p}}
	if _, err := e.vpc().ReplaceSecurityGroupPolicy(req); err != nil {
		t.Fatal(err)
	}
	nextSecond()
	raw.SecurityGroupPolicySet.Ingress = nil // the fields are left out when unset
	if err := e.call(e.admin, gz, "vpc", "DescribeSecurityGroupPolicies", map[string]any{"SecurityGroupId": g}, &raw); err != nil {
		t.Fatal(err)
	}
	if in := raw.SecurityGroupPolicySet.Ingress; len(in) != 2 || in[0].Disabled || in[0].ExpiresAt != "" {
		t.Errorf("after a replace through the typed SDK: %+v, want the policy enabled and not expiring", in)
	}
}
