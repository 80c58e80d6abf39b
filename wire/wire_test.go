package wire_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/wire"
)

// roundTrip encodes v, compares the bytes with want, decodes them into a
// fresh value of v's type and compares that with v.
func roundTrip[T any](t *testing.T, v T, want string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("Unmarshal(Marshal(v)) = %+v, want %+v", back, v)
	}
}

func TestResponsesGolden(t *testing.T) {
	index := 2
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"DescribeSecurityGroups: ProjectId a string, TotalCount a number", func(t *testing.T) {
			roundTrip(t, wire.DescribeSecurityGroupsResponse{
				SecurityGroupSet: []wire.SecurityGroup{{
					SecurityGroupId: "sg-1a2b3c4d", SecurityGroupName: "web", SecurityGroupDesc: "", ProjectId: "0",
					IsDefault: false, CreatedTime: "2026-03-04 05:06:07", UpdateTime: "2026-03-04 05:06:07",
					TagSet: []wire.Tag{{Key: "env", Value: "prod"}}, Region: "ap-guangzhou",
				}},
				TotalCount: 1,
				RequestId:  "req-1",
			}, `{"SecurityGroupSet":[{"SecurityGroupId":"sg-1a2b3c4d","SecurityGroupName":"web","SecurityGroupDesc":"","ProjectId":"0","IsDefault":false,"CreatedTime":"2026-03-04 05:06:07","UpdateTime":"2026-03-04 05:06:07","TagSet":[{"Key":"env","Value":"prod"}],"Region":"ap-guangzhou"}],"TotalCount":1,"RequestId":"req-1"}`)
		}},
		{"DescribeSecurityGroupPolicies: Version a string, PolicyIndex a number, every field echoed", func(t *testing.T) {
			roundTrip(t, wire.DescribeSecurityGroupPoliciesResponse{SecurityGroupPolicySet: wire.SecurityGroupPolicySet{
				Version:          "3",
				Egress:           []wire.SecurityGroupPolicy{},
				Ingress:          []wire.SecurityGroupPolicy{{PolicyIndex: 0, Protocol: "TCP", Port: "22", CidrBlock: "0.0.0.0/0", Action: "ACCEPT", PolicyDescription: "ssh", ModifyTime: "2026-03-04 05:06:07"}},
				PolicyStatistics: wire.PolicyStatistics{IngressIPv4TotalCount: 1},
			}}, `{"SecurityGroupPolicySet":{"Version":"3","Egress":[],"Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"22","ServiceTemplate":{"ServiceId":"","ServiceGroupId":""},"CidrBlock":"0.0.0.0/0","Ipv6CidrBlock":"","SecurityGroupId":"","AddressTemplate":{"AddressId":"","AddressGroupId":""},"Action":"ACCEPT","PolicyDescription":"ssh","ModifyTime":"2026-03-04 05:06:07"}],"PolicyStatistics":{"IngressIPv4TotalCount":1,"IngressIPv6TotalCount":0,"EgressIPv4TotalCount":0,"EgressIPv6TotalCount":0}}}`)
		}},
		{"policy write: RequestId left out when empty, Warnings always a list", func(t *testing.T) {
			roundTrip(t, wire.CreateSecurityGroupPoliciesResponse{Version: "4", Warnings: []wire.Warning{}}, `{"Version":"4","Warnings":[]}`)
		}},
		{"CreateSecurityGroup: Warnings omitted when none", func(t *testing.T) {
			roundTrip(t, wire.CreateSecurityGroupResponse{SecurityGroup: wire.SecurityGroup{SecurityGroupId: "sg-1a2b3c4d", ProjectId: "7", TagSet: []wire.Tag{}}},
				`{"SecurityGroup":{"SecurityGroupId":"sg-1a2b3c4d","SecurityGroupName":"","SecurityGroupDesc":"","ProjectId":"7","IsDefault":false,"CreatedTime":"","UpdateTime":"","TagSet":[],"Region":""}}`)
		}},
		{"DescribeInstances: Placement.ProjectId an integer", func(t *testing.T) {
			roundTrip(t, wire.DescribeInstancesResponse{InstanceSet: []wire.Instance{{
				Placement: wire.Placement{Zone: "ap-guangzhou-4", ProjectId: 7, HostId: "host-1a2b3c4d"}, InstanceId: "ins-1a2b3c4d",
				PrivateIpAddresses: []string{"10.0.0.5"}, PublicIpAddresses: []string{}, IPv6Addresses: []string{},
				SecurityGroupIds: []string{"sg-1a2b3c4d"}, InstanceState: "RUNNING", LatestOperationState: "SUCCESS", Tags: []wire.Tag{},
			}}, TotalCount: 1}, `{"InstanceSet":[{"Placement":{"Zone":"ap-guangzhou-4","ProjectId":7,"HostId":"host-1a2b3c4d"},"InstanceId":"ins-1a2b3c4d","InstanceName":"","PrivateIpAddresses":["10.0.0.5"],"PublicIpAddresses":[],"IPv6Addresses":[],"CreatedTime":"","OsName":"","SecurityGroupIds":["sg-1a2b3c4d"],"InstanceState":"RUNNING","LatestOperationState":"SUCCESS","Tags":[],"OsType":"","Region":"","Interface":""}],"TotalCount":1}`)
		}},
		{"DescribeSecurityGroupAssociationStatistics: all five counts", func(t *testing.T) {
			roundTrip(t, wire.DescribeSecurityGroupAssociationStatisticsResponse{SecurityGroupAssociationStatisticsSet: []wire.SecurityGroupAssociationStatistics{{
				SecurityGroupId: "sg-1a2b3c4d", CVM: 2, InstanceStatistics: []wire.InstanceStatistic{{InstanceType: "CVM", InstanceCount: 2}}, TotalCount: 2,
			}}}, `{"SecurityGroupAssociationStatisticsSet":[{"SecurityGroupId":"sg-1a2b3c4d","CVM":2,"CDB":0,"ENI":0,"SG":0,"CLB":0,"InstanceStatistics":[{"InstanceType":"CVM","InstanceCount":2}],"TotalCount":2}]}`)
		}},
		{"SimulateTraffic: PolicyIndex present when a group decided", func(t *testing.T) {
			roundTrip(t, wire.SimulateTrafficResponse{Verdict: "ACCEPT", Layer: "SECURITY_GROUP", SecurityGroupId: "sg-1a2b3c4d", PolicyIndex: &index, Trace: []string{"a"}, Warnings: []string{}},
				`{"Verdict":"ACCEPT","Layer":"SECURITY_GROUP","SecurityGroupId":"sg-1a2b3c4d","PolicyIndex":2,"Trace":["a"],"Warnings":[]}`)
		}},
		{"SimulateTraffic: PolicyIndex absent otherwise", func(t *testing.T) {
			roundTrip(t, wire.SimulateTrafficResponse{Verdict: "DROP", Layer: "PLATFORM", Trace: []string{}, Warnings: []string{}},
				`{"Verdict":"DROP","Layer":"PLATFORM","SecurityGroupId":"","Trace":[],"Warnings":[]}`)
		}},
		{"empty response", func(t *testing.T) {
			roundTrip(t, wire.DeleteSecurityGroupResponse{RequestId: "req-9"}, `{"RequestId":"req-9"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestRequestsEncodeAsTheSDKSends(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"vpc paging as strings", wire.DescribeSecurityGroupsRequest{Offset: wire.NewIntString(0), Limit: wire.NewIntString(20)}, `{"Offset":"0","Limit":"20"}`},
		{"cvm paging as integers", wire.DescribeInstancesRequest{InstanceIds: wire.Strings("ins-1a2b3c4d"), Offset: wire.NewInt(0), Limit: wire.NewInt(20)}, `{"InstanceIds":["ins-1a2b3c4d"],"Offset":0,"Limit":20}`},
		{"absent fields left out", wire.CreateSecurityGroupRequest{GroupName: wire.NewString("web"), GroupDescription: wire.NewString("")}, `{"GroupName":"web","GroupDescription":""}`},
		{"vpc ProjectId a string", wire.CreateDefaultSecurityGroupRequest{ProjectId: wire.NewIntString(3)}, `{"ProjectId":"3"}`},
		{"PolicyIndex a number, Version a string", wire.CreateSecurityGroupPoliciesRequest{
			SecurityGroupId: wire.NewString("sg-1a2b3c4d"),
			SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Version: wire.NewString("2"), Ingress: []wire.SecurityGroupPolicyInput{{
				PolicyIndex: wire.NewInt(0), Protocol: wire.NewString("TCP"), Port: wire.NewString("22"), CidrBlock: wire.NewString("10.0.0.0/8"), Action: wire.NewString("ACCEPT"),
			}}},
		}, `{"SecurityGroupId":"sg-1a2b3c4d","SecurityGroupPolicySet":{"Version":"2","Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"22","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}]}}`},
		{"an empty list differs from an absent one", wire.ModifyInstancesAttributeRequest{InstanceIds: wire.Strings("ins-1a2b3c4d"), SecurityGroups: []wire.String{}}, `{"InstanceIds":["ins-1a2b3c4d"],"SecurityGroups":[]}`},
		{"boolean", wire.ModifySecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString("sg-1a2b3c4d"), SortPolicys: wire.NewBool(true)}, `{"SecurityGroupId":"sg-1a2b3c4d","SortPolicys":true}`},
		{"Palisade ProjectId an integer", wire.RegisterInstancesRequest{AccountId: wire.NewString("acc-1"), Instances: []wire.InstanceSpec{{InstanceName: wire.NewString("a"), ProjectId: wire.NewInt(0)}}}, `{"AccountId":"acc-1","Instances":[{"InstanceName":"a","ProjectId":0}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil || string(b) != tt.want {
				t.Errorf("Marshal = %s, %v; want %s", b, err, tt.want)
			}
			back := reflect.New(reflect.TypeOf(tt.v))
			if err := json.Unmarshal(b, back.Interface()); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), tt.v) {
				t.Errorf("Unmarshal(Marshal(v)) = %+v, want %+v", back.Elem().Interface(), tt.v)
			}
		})
	}
}

func TestActionsAreUniqueAndServed(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range wire.Actions() {
		if seen[a.Name] {
			t.Errorf("action %s listed twice", a.Name)
		}
		seen[a.Name] = true
		switch a.Service {
		case wire.ServiceVPC, wire.ServiceCVM, wire.ServiceTag, wire.ServicePalisade:
		default:
			t.Errorf("action %s: service %q", a.Name, a.Service)
		}
	}
}

// TestEveryActionHasItsTypes checks, from the source, that each action has
// a request and a response type named after it.
func TestEveryActionHasItsTypes(t *testing.T) {
	types := map[string]bool{}
	for _, f := range parseFiles(t) {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					types[s.(*ast.TypeSpec).Name.Name] = true
				}
			}
		}
	}
	for _, a := range wire.Actions() {
		for _, suffix := range []string{"Request", "Response"} {
			if !types[a.Name+suffix] {
				t.Errorf("no type %s%s", a.Name, suffix)
			}
		}
	}
}

// TestExportedIdentifiersAreDocumented checks that every exported type,
// function, method and constant declaration has a doc comment (a constant
// in a documented group counts as documented).
func TestExportedIdentifiersAreDocumented(t *testing.T) {
	for name, f := range parseFilesNamed(t) {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && d.Doc == nil {
					t.Errorf("%s: %s has no doc comment", name, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
							t.Errorf("%s: type %s has no doc comment", name, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && s.Doc == nil && d.Doc == nil {
								t.Errorf("%s: %s has no doc comment", name, n.Name)
							}
						}
					}
				}
			}
		}
	}
}

func parseFiles(t *testing.T) []*ast.File {
	var out []*ast.File
	for _, f := range parseFilesNamed(t) {
		out = append(out, f)
	}
	return out
}

func parseFilesNamed(t *testing.T) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = f
	}
	return files
}
