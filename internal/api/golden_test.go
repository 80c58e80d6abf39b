package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite testdata/responses.golden")

// goldenStep is one call of the golden script. Body may name values saved
// by earlier steps as {{name}}; save names the first identifier with the
// given prefix in the response ("sg1=sg-").
type goldenStep struct {
	as      string // "admin" (default) or "platform"
	region  string // default ap-guangzhou
	service string
	action  string
	body    string
	save    []string
}

// goldenScript calls every action at least once, successes and a few
// errors, so that the exact bytes of every response shape are pinned.
func goldenScript() []goldenStep {
	return []goldenStep{
		{service: "vpc", action: "CreateSecurityGroup", body: `{"GroupName":"web","GroupDescription":"web tier","ProjectId":"0","Tags":[{"Key":"env","Value":"prod"}]}`, save: []string{"web=sg-"}},
		{service: "vpc", action: "CreateSecurityGroup", body: `{"GroupName":"login","GroupDescription":"","Template":"linux-login"}`, save: []string{"login=sg-"}},
		{service: "vpc", action: "CreateSecurityGroupWithPolicies", body: `{"GroupName":"db","GroupDescription":"","SecurityGroupPolicySet":{"Ingress":[{"Protocol":"tcp","Port":"3306","CidrBlock":"10.0.0.0/8","Action":"accept"}]}}`, save: []string{"db=sg-"}},
		{service: "vpc", action: "CreateDefaultSecurityGroup", body: `{"ProjectId":"0"}`},
		{service: "vpc", action: "DescribeSecurityGroups", body: `{"Offset":"0","Limit":"10"}`},
		{service: "vpc", action: "DescribeSecurityGroups", body: `{"SecurityGroupIds":["{{web}}"]}`},
		{service: "vpc", action: "ModifySecurityGroupAttribute", body: `{"SecurityGroupId":"{{web}}","GroupDescription":"web servers"}`},
		{service: "vpc", action: "CreateSecurityGroupPolicies", body: `{"SecurityGroupId":"{{web}}","SecurityGroupPolicySet":{"Ingress":[{"Protocol":"TCP","Port":"22","CidrBlock":"0.0.0.0/0","Action":"ACCEPT","PolicyDescription":"ssh"},{"Protocol":"tcp","Port":"80,443","Ipv6CidrBlock":"::/0","Action":"accept"}]}}`},
		{service: "vpc", action: "CreateSecurityGroupPolicies", body: `{"SecurityGroupId":"{{web}}","SecurityGroupPolicySet":{"Version":"99","Ingress":[{"Protocol":"UDP","Port":"53","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}]}}`},
		{service: "vpc", action: "CreateSecurityGroupPolicies", body: `{"SecurityGroupId":"{{web}}","SecurityGroupPolicySet":{"Egress":[{"PolicyIndex":"0","Protocol":"ALL","Port":"ALL","SecurityGroupId":"{{db}}","Action":"DROP"}]}}`},
		{service: "vpc", action: "CreateSecurityGroupPolicies", body: `{"SecurityGroupId":"{{web}}","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":"first","Protocol":"TCP","Port":"1","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}]}}`},
		{service: "vpc", action: "DescribeSecurityGroupPolicies", body: `{"SecurityGroupId":"{{web}}"}`},
		{service: "vpc", action: "ReplaceSecurityGroupPolicy", body: `{"SecurityGroupId":"{{web}}","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":1,"Protocol":"TCP","Port":"8080","CidrBlock":"192.168.0.0/16","Action":"ACCEPT"}]}}`},
		{service: "vpc", action: "ReplaceSecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"5432","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}]}}`},
		{service: "vpc", action: "DeleteSecurityGroupPolicies", body: `{"SecurityGroupId":"{{web}}","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":1}]}}`},
		{service: "vpc", action: "ModifySecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}","SortPolicys":true,"SecurityGroupPolicySet":{"Version":"0"}}`},
		{service: "vpc", action: "ModifySecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}","SecurityGroupPolicySet":{"Egress":[{"Protocol":"ICMP","Port":"ALL","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`},
		{service: "vpc", action: "DescribeSecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}"}`},

		{service: "vpc", action: "CreateAddressTemplate", body: `{"AddressTemplateName":"office","Addresses":["203.0.113.0/24"],"AddressesExtra":[{"Address":"198.51.100.7","Description":"vpn"}]}`, save: []string{"ipm=ipm-"}},
		{service: "vpc", action: "DescribeAddressTemplates", body: `{"Offset":"0","Limit":"20"}`},
		{service: "vpc", action: "ModifyAddressTemplateAttribute", body: `{"AddressTemplateId":"{{ipm}}","AddressTemplateName":"offices"}`},
		{service: "vpc", action: "CreateAddressTemplateGroup", body: `{"AddressTemplateGroupName":"sites","AddressTemplateIds":["{{ipm}}"]}`, save: []string{"ipmg=ipmg-"}},
		{service: "vpc", action: "DescribeAddressTemplateGroups", body: `{}`},
		{service: "vpc", action: "ModifyAddressTemplateGroupAttribute", body: `{"AddressTemplateGroupId":"{{ipmg}}","AddressTemplateGroupName":"all-sites"}`},
		{service: "vpc", action: "CreateServiceTemplate", body: `{"ServiceTemplateName":"web","Services":["tcp:80","tcp:443"],"ServicesExtra":[{"Service":"udp:443","Description":"quic"}]}`, save: []string{"ppm=ppm-"}},
		{service: "vpc", action: "DescribeServiceTemplates", body: `{"Limit":"5"}`},
		{service: "vpc", action: "ModifyServiceTemplateAttribute", body: `{"ServiceTemplateId":"{{ppm}}","ServiceTemplateName":"https"}`},
		{service: "vpc", action: "CreateServiceTemplateGroup", body: `{"ServiceTemplateGroupName":"front","ServiceTemplateIds":["{{ppm}}"]}`, save: []string{"ppmg=ppmg-"}},
		{service: "vpc", action: "DescribeServiceTemplateGroups", body: `{"NeedMemberInfo":true}`},
		{service: "vpc", action: "ModifyServiceTemplateGroupAttribute", body: `{"ServiceTemplateGroupId":"{{ppmg}}","ServiceTemplateGroupName":"frontends"}`},
		{service: "vpc", action: "CreateSecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}","SecurityGroupPolicySet":{"Ingress":[{"ServiceTemplate":{"ServiceId":"{{ppm}}"},"AddressTemplate":{"AddressGroupId":"{{ipmg}}"},"Action":"ACCEPT"}]}}`},
		{service: "vpc", action: "DescribeSecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}"}`},
		{service: "vpc", action: "DeleteAddressTemplate", body: `{"AddressTemplateId":"{{ipm}}"}`},

		{as: "platform", service: "palisade", action: "RegisterInstances", body: `{"AccountId":"{{account}}","Instances":[{"InstanceName":"web-1","OsType":"linux","Zone":"ap-guangzhou-4","ProjectId":0,"PrivateIpAddresses":["10.0.0.5"],"Ipv6Addresses":["2001:db8::5"],"PublicIpAddress":"203.0.113.5","HostId":"{{host}}","Interface":"tapweb1"}]}`, save: []string{"ins=ins-"}},
		{service: "cvm", action: "AssociateSecurityGroups", body: `{"SecurityGroupIds":["{{web}}"],"InstanceIds":["{{ins}}"]}`},
		{service: "cvm", action: "ModifyInstancesAttribute", body: `{"InstanceIds":["{{ins}}"],"InstanceName":"web-one","SecurityGroups":["{{web}}","{{db}}"]}`},
		{service: "cvm", action: "ModifyInstancesAttribute", body: `{"InstanceIds":["{{ins}}"],"SecurityGroups":["{{web}}","{{db}}"]}`},
		{service: "cvm", action: "ModifyInstancesAttribute", body: `{"InstanceIds":["{{ins}}"],"InstanceName":"web-one"}`},
		{service: "cvm", action: "DisassociateSecurityGroups", body: `{"SecurityGroupIds":["{{db}}"],"InstanceIds":["{{ins}}"]}`},
		{service: "cvm", action: "DescribeInstances", body: `{"Offset":0,"Limit":10}`},
		{service: "cvm", action: "StopInstances", body: `{"InstanceIds":["{{ins}}"],"ForceStop":true}`},
		{service: "cvm", action: "StartInstances", body: `{"InstanceIds":["{{ins}}"]}`},
		{service: "palisade", action: "SimulateTraffic", body: `{"InstanceId":"{{ins}}","Direction":"INGRESS","Protocol":"TCP","Address":"198.51.100.1","Port":22}`},
		{service: "palisade", action: "SimulateTraffic", body: `{"InstanceId":"{{ins}}","Direction":"EGRESS","Protocol":"TCP","Address":"198.51.100.1","Port":"25"}`},
		{service: "vpc", action: "DescribeSecurityGroupAssociationStatistics", body: `{"SecurityGroupIds":["{{web}}","{{db}}"]}`},
		{service: "vpc", action: "DescribeSecurityGroupReferences", body: `{"SecurityGroupIds":["{{db}}"]}`},
		{service: "vpc", action: "DescribeSecurityGroupLimits", body: `{}`},
		{service: "vpc", action: "DeleteSecurityGroup", body: `{"SecurityGroupId":"{{web}}"}`},
		{region: "ap-shanghai", service: "vpc", action: "CloneSecurityGroup", body: `{"SecurityGroupId":"{{login}}","RemoteRegion":"ap-guangzhou","GroupName":"login-copy","ProjectId":"0"}`},
		{service: "cvm", action: "TerminateInstances", body: `{"InstanceIds":["{{ins}}"]}`},
		{service: "palisade", action: "PurgeInstances", body: `{"InstanceIds":["{{ins}}"]}`},
		{service: "cvm", action: "DescribeInstances", body: `{"InstanceIds":["{{ins}}"]}`},
		{service: "vpc", action: "DeleteSecurityGroup", body: `{"SecurityGroupId":"{{web}}"}`},
		{service: "vpc", action: "DeleteSecurityGroupPolicies", body: `{"SecurityGroupId":"{{db}}","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0}]}}`},
		{service: "vpc", action: "DeleteAddressTemplateGroup", body: `{"AddressTemplateGroupId":"{{ipmg}}"}`},
		{service: "vpc", action: "DeleteServiceTemplateGroup", body: `{"ServiceTemplateGroupId":"{{ppmg}}"}`},
		{service: "vpc", action: "DeleteServiceTemplate", body: `{"ServiceTemplateId":"{{ppm}}"}`},
		{service: "vpc", action: "DescribeAccount", body: `{}`},
		{service: "vpc", action: "UnblockPort25", body: `{}`},
		{service: "vpc", action: "DescribeAccount", body: `{}`},
		{service: "vpc", action: "DescribeSecurityGroupTemplates", body: `{}`},
		{service: "vpc", action: "DescribeCommonPorts", body: `{}`},
		{service: "palisade", action: "DescribeSecurityGroupFindings", body: `{"SecurityGroupIds":["{{db}}","{{login}}"]}`},
		{service: "palisade", action: "DescribeSecurityGroupFindings", body: `{"InstanceIds":["ins-00000000"]}`},
	}
}

// TestGoldenResponses replays the golden script against a real server over
// a real SQLite file, with a fixed clock, deterministic identifiers and
// request ids, and compares every response byte for byte with
// testdata/responses.golden (go test -run Golden -update rewrites it).
func TestGoldenResponses(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{Clock: clock, Rand: rand.NewChaCha8([32]byte{7})})
	n := 0
	srv := httptest.NewServer(api.NewHandler(api.Options{Service: svc, Clock: clock, NewRequestID: func() string {
		n++
		return fmt.Sprintf("req-%03d", n)
	}}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	acct, err := svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, err := svc.CreateHost(ctx, "hv-1")
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{"account": acct.AccountID, "host": host.HostID}
	idPattern := regexp.MustCompile(`\b(?:sg|ipm|ipmg|ppm|ppmg|ins)-[0-9a-z]{8}\b`)
	var out bytes.Buffer
	for i, s := range goldenScript() {
		id, key := acct.SecretID, acct.SecretKey
		if s.as == "platform" {
			id, key = pk.SecretID, pk.SecretKey
		}
		region := s.region
		if region == "" {
			region = "ap-guangzhou"
		}
		body := s.body
		for k, v := range vals {
			body = strings.ReplaceAll(body, "{{"+k+"}}", v)
		}
		if strings.Contains(body, "{{") {
			t.Fatalf("step %d %s: unresolved value in %s", i, s.action, body)
		}
		// Each request is signed a second after the one before, as a
		// client would (the server's clock stays fixed): the replay cache
		// refuses a write's signature seen before.
		signedAt := now.Add(time.Duration(i) * time.Second)
		cl := client.New(srv.URL, id, key, region).WithClock(func() time.Time { return signedAt })
		raw, err := callRaw(ctx, cl, s.service, s.action, body)
		if err != nil {
			t.Fatalf("step %d %s: %v", i, s.action, err)
		}
		for _, sv := range s.save {
			name, prefix, _ := strings.Cut(sv, "=")
			for _, m := range idPattern.FindAllString(raw, -1) {
				if strings.HasPrefix(m, prefix) {
					vals[name] = m
					break
				}
			}
			if vals[name] == "" {
				t.Fatalf("step %d %s: no %s in %s", i, s.action, prefix, raw)
			}
		}
		fmt.Fprintf(&out, "%s %s\n%s\n\n", s.action, body, raw)
	}
	path := filepath.Join("testdata", "responses.golden")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		got, wantLines := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(got), len(wantLines)) {
			g, w := line(got, i), line(wantLines, i)
			if g != w {
				t.Fatalf("response bytes differ from %s at line %d:\ngot  %s\nwant %s", path, i+1, g, w)
			}
		}
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<end>"
}

// callRaw sends body and returns the Response object as the server wrote
// it, or the error envelope's Response object for an API error.
func callRaw(ctx context.Context, cl *client.Client, svc, action, body string) (string, error) {
	raw, err := cl.Call(ctx, svc, "2017-03-12", action, json.RawMessage(body))
	var ae *client.Error
	if errors.As(err, &ae) {
		return fmt.Sprintf(`{"Error":{"Code":%q,"Message":%q},"RequestId":%q}`, ae.Code, ae.Message, ae.RequestID), nil
	}
	return string(raw), err
}
