package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// server is a running Palisade over a SQLite file with an account (its
// admin client), a platform client and a host, recording the body of
// every request by action.
type server struct {
	admin    *client.Client
	platform *client.Client
	account  string
	hostID   string

	mu     sync.Mutex
	bodies map[string][]string // by action
	scopes map[string]string   // by action: the last credential scope
}

func newServer(t *testing.T) *server {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	s := &server{bodies: map[string][]string{}, scopes: map[string]string{}}
	h := api.NewHandler(api.Options{Service: svc})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		action := r.Header.Get(client.HeaderAction)
		_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		scope, _, _ = strings.Cut(scope, ",")
		s.mu.Lock()
		s.bodies[action] = append(s.bodies[action], string(b))
		s.scopes[action] = scope
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	host, err := svc.CreateHost(ctx, "hv-1")
	if err != nil {
		t.Fatal(err)
	}
	s.admin = client.New(srv.URL, a.SecretID, a.SecretKey, "ap-guangzhou")
	s.platform = client.New(srv.URL, p.SecretID, p.SecretKey, "ap-guangzhou")
	s.account, s.hostID = a.AccountID, host.HostID
	return s
}

// body returns the last request body sent for action.
func (s *server) body(action string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bodies[action]
	if len(b) == 0 {
		return ""
	}
	return b[len(b)-1]
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func policyIn(action, proto, port, cidr, desc string) wire.SecurityGroupPolicyInput {
	return wire.SecurityGroupPolicyInput{Action: wire.NewString(action), Protocol: wire.NewString(proto), Port: wire.NewString(port),
		CidrBlock: wire.NewString(cidr), PolicyDescription: wire.NewString(desc)}
}

func TestTypedClientEndToEnd(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()

	// Create a group.
	created := must[*wire.CreateSecurityGroupResponse](t, "CreateSecurityGroup")(s.admin.CreateSecurityGroup(ctx, &wire.CreateSecurityGroupRequest{
		GroupName: wire.NewString("web"), GroupDescription: wire.NewString(""), ProjectId: wire.NewIntString(0),
		Tags: []wire.TagInput{{Key: wire.NewString("env"), Value: wire.NewString("prod")}},
	}))
	g := created.SecurityGroup
	if !strings.HasPrefix(g.SecurityGroupId, "sg-") || g.SecurityGroupName != "web" || g.ProjectId != "0" || g.CreatedTime == "" ||
		len(g.TagSet) != 1 || g.TagSet[0] != (wire.Tag{Key: "env", Value: "prod"}) || created.RequestId == "" {
		t.Fatalf("CreateSecurityGroup = %+v", created)
	}
	if b := s.body(wire.ActionCreateSecurityGroup); b != `{"GroupName":"web","GroupDescription":"","ProjectId":"0","Tags":[{"Key":"env","Value":"prod"}]}` {
		t.Errorf("CreateSecurityGroup sent %s", b)
	}
	id := wire.NewString(g.SecurityGroupId)

	// Create policies.
	written := must[*wire.CreateSecurityGroupPoliciesResponse](t, "CreateSecurityGroupPolicies")(s.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: id,
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{
			policyIn("accept", "tcp", "22", "0.0.0.0/0", "ssh"),
			policyIn("DROP", "UDP", "53", "10.0.0.0/8", ""),
		}},
	}))
	if written.Version != "1" || len(written.Warnings) != 1 || written.Warnings[0].Code == "" || written.Warnings[0].Direction != "INGRESS" {
		t.Errorf("CreateSecurityGroupPolicies = %+v, want Version 1 and a warning for SSH open to the Internet", written)
	}

	// A stale Version surfaces as *client.Error with its code.
	_, err := s.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: id,
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Version: wire.NewString("0"), Ingress: []wire.SecurityGroupPolicyInput{
			policyIn("ACCEPT", "TCP", "80", "0.0.0.0/0", ""),
		}},
	})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "UnsupportedOperation.VersionMismatch" || ce.RequestID == "" || ce.Message == "" {
		t.Errorf("stale Version: %v, want a *client.Error with UnsupportedOperation.VersionMismatch", err)
	}

	// Describe policies: Version a string, every field echoed in canonical case.
	described := must[*wire.DescribeSecurityGroupPoliciesResponse](t, "DescribeSecurityGroupPolicies")(s.admin.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: id}))
	set := described.SecurityGroupPolicySet
	if set.Version != "1" || len(set.Ingress) != 2 || len(set.Egress) != 0 || set.PolicyStatistics.IngressIPv4TotalCount != 2 {
		t.Fatalf("DescribeSecurityGroupPolicies = %+v", set)
	}
	if p := set.Ingress[0]; p.PolicyIndex != 0 || p.Action != "ACCEPT" || p.Protocol != "TCP" || p.Port != "22" || p.CidrBlock != "0.0.0.0/0" || p.PolicyDescription != "ssh" || p.Ipv6CidrBlock != "" {
		t.Errorf("policy 0 = %+v", p)
	}
	if p := set.Ingress[1]; p.PolicyIndex != 1 || p.Action != "DROP" || p.Protocol != "UDP" {
		t.Errorf("policy 1 = %+v", p)
	}

	// An address template, used by a policy.
	tmpl := must[*wire.CreateAddressTemplateResponse](t, "CreateAddressTemplate")(s.admin.CreateAddressTemplate(ctx, &wire.CreateAddressTemplateRequest{
		AddressTemplateName: wire.NewString("office"), Addresses: wire.Strings("203.0.113.0/24"),
		AddressesExtra: []wire.AddressInfoInput{{Address: wire.NewString("198.51.100.7"), Description: wire.NewString("vpn")}},
	})).AddressTemplate
	if !strings.HasPrefix(tmpl.AddressTemplateId, "ipm-") || len(tmpl.AddressSet) != 2 || tmpl.AddressExtraSet[1] != (wire.AddressInfo{Address: "198.51.100.7", Description: "vpn"}) {
		t.Errorf("CreateAddressTemplate = %+v", tmpl)
	}
	listed := must[*wire.DescribeAddressTemplatesResponse](t, "DescribeAddressTemplates")(s.admin.DescribeAddressTemplates(ctx, &wire.DescribeAddressTemplatesRequest{Limit: wire.NewIntString(10)}))
	if listed.TotalCount != 1 || len(listed.AddressTemplateSet) != 1 || listed.AddressTemplateSet[0].AddressTemplateId != tmpl.AddressTemplateId {
		t.Errorf("DescribeAddressTemplates = %+v", listed)
	}
	if b := s.body(wire.ActionDescribeAddressTemplates); b != `{"Limit":"10"}` {
		t.Errorf("DescribeAddressTemplates sent %s, want Limit as a string", b)
	}
	must[*wire.CreateSecurityGroupPoliciesResponse](t, "policy with an address template")(s.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: id,
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Version: wire.NewString("1"), Ingress: []wire.SecurityGroupPolicyInput{{
			PolicyIndex: wire.NewInt(0), Action: wire.NewString("ACCEPT"), Protocol: wire.NewString("TCP"), Port: wire.NewString("443"),
			AddressTemplate: &wire.AddressTemplateSpecificationInput{AddressId: wire.NewString(tmpl.AddressTemplateId)},
		}}},
	}))
	if b := s.body(wire.ActionCreateSecurityGroupPolicies); !strings.Contains(b, `"PolicyIndex":0,`) || !strings.Contains(b, `"Version":"1"`) {
		t.Errorf("CreateSecurityGroupPolicies sent %s, want PolicyIndex a number and Version a string", b)
	}
	set = must[*wire.DescribeSecurityGroupPoliciesResponse](t, "DescribeSecurityGroupPolicies")(s.admin.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: id})).SecurityGroupPolicySet
	if p := set.Ingress[0]; set.Version != "2" || p.AddressTemplate.AddressId != tmpl.AddressTemplateId || p.CidrBlock != "" || p.Port != "443" {
		t.Errorf("after the template policy: Version %s, policy 0 = %+v", set.Version, set.Ingress[0])
	}

	// An instance, registered by the platform and bound to the group.
	reg := must[*wire.RegisterInstancesResponse](t, "RegisterInstances")(s.platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{
		AccountId: wire.NewString(s.account),
		Instances: []wire.InstanceSpec{{
			InstanceName: wire.NewString("web-1"), OsType: wire.NewString("linux"), Zone: wire.NewString("ap-guangzhou-4"), ProjectId: wire.NewInt(3),
			PrivateIpAddresses: wire.Strings("10.0.0.5"), HostId: wire.NewString(s.hostID), Interface: wire.NewString("tap0"),
		}},
	}))
	if len(reg.InstanceIdSet) != 1 || !strings.HasPrefix(reg.InstanceIdSet[0], "ins-") {
		t.Fatalf("RegisterInstances = %+v", reg)
	}
	ins := reg.InstanceIdSet[0]
	must[*wire.AssociateSecurityGroupsResponse](t, "AssociateSecurityGroups")(s.admin.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{
		SecurityGroupIds: wire.Strings(g.SecurityGroupId), InstanceIds: wire.Strings(ins),
	}))

	// DescribeInstances: cvm integers both ways.
	instances := must[*wire.DescribeInstancesResponse](t, "DescribeInstances")(s.admin.DescribeInstances(ctx, &wire.DescribeInstancesRequest{Offset: wire.NewInt(0), Limit: wire.NewInt(10)}))
	if b := s.body(wire.ActionDescribeInstances); b != `{"Offset":0,"Limit":10}` {
		t.Errorf("DescribeInstances sent %s, want integers", b)
	}
	if instances.TotalCount != 1 || len(instances.InstanceSet) != 1 {
		t.Fatalf("DescribeInstances = %+v", instances)
	}
	if in := instances.InstanceSet[0]; in.InstanceId != ins || in.Placement.ProjectId != 3 || in.Placement.HostId != s.hostID ||
		len(in.SecurityGroupIds) != 1 || in.SecurityGroupIds[0] != g.SecurityGroupId || in.InstanceState != "RUNNING" {
		t.Errorf("instance = %+v", in)
	}

	// SimulateTraffic: the group's first policy decides.
	v := must[*wire.SimulateTrafficResponse](t, "SimulateTraffic")(s.admin.SimulateTraffic(ctx, &wire.SimulateTrafficRequest{
		InstanceId: wire.NewString(ins), Direction: wire.NewString("INGRESS"), Protocol: wire.NewString("TCP"),
		Address: wire.NewString("203.0.113.9"), Port: wire.NewInt(443),
	}))
	if v.Verdict != "ACCEPT" || v.Layer != "SECURITY_GROUP" || v.SecurityGroupId != g.SecurityGroupId || v.PolicyIndex == nil || *v.PolicyIndex != 0 || len(v.Trace) == 0 {
		t.Errorf("SimulateTraffic 443 from the office = %+v", v)
	}
	v = must[*wire.SimulateTrafficResponse](t, "SimulateTraffic")(s.admin.SimulateTraffic(ctx, &wire.SimulateTrafficRequest{
		InstanceId: wire.NewString(ins), Direction: wire.NewString("EGRESS"), Protocol: wire.NewString("TCP"),
		Address: wire.NewString("198.51.100.1"), Port: wire.NewInt(25),
	}))
	if v.Verdict != "DROP" || v.Layer != "PLATFORM" || v.PolicyIndex != nil {
		t.Errorf("SimulateTraffic egress 25 = %+v, want a platform DROP without PolicyIndex", v)
	}

	// A malformed value is refused by the server and named.
	_, err = s.admin.DescribeSecurityGroups(ctx, &wire.DescribeSecurityGroupsRequest{Limit: wire.NewIntString(1000)})
	if !errors.As(err, &ce) || ce.Code != "InvalidParameterValue.Range" || !strings.Contains(ce.Message, "Limit") {
		t.Errorf("Limit 1000: %v, want InvalidParameterValue.Range naming Limit", err)
	}
	// A request that cannot be encoded never leaves the client.
	if _, err := s.admin.DescribeInstances(ctx, &wire.DescribeInstancesRequest{Limit: new(wire.Int)}); err == nil || errors.As(err, &ce) {
		t.Errorf("empty Int: %v, want an encoding error", err)
	}
}

func TestCallSendsAnyActionAsJSON(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	raw, err := s.admin.Call(ctx, wire.ServiceVPC, wire.Version, wire.ActionDescribeSecurityGroupLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), `{"SecurityGroupLimitSet":{"SecurityGroupLimit":50,`) || !strings.Contains(string(raw), `"RequestId":"`) {
		t.Errorf("DescribeSecurityGroupLimits = %s", raw)
	}
	if b := s.body(wire.ActionDescribeSecurityGroupLimits); b != `{}` {
		t.Errorf("nil body sent as %q, want {}", b)
	}
	tests := []struct {
		name, service, action, body, code string
	}{
		{"unknown action", wire.ServiceVPC, "NoSuchAction", `{}`, "InvalidAction"},
		{"missing parameter", wire.ServiceVPC, wire.ActionDeleteSecurityGroup, `{}`, "MissingParameter"},
		{"not JSON", wire.ServiceVPC, wire.ActionDescribeSecurityGroups, `{`, "InvalidParameter"},
		{"object where a string is expected", wire.ServiceVPC, wire.ActionDescribeSecurityGroups, `{"Limit":{}}`, "InvalidParameterValue.Malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.admin.Call(ctx, tt.service, wire.Version, tt.action, []byte(tt.body))
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Errorf("Call(%s, %s) = %v, want code %s", tt.action, tt.body, err, tt.code)
			}
		})
	}
}

// TestEveryActionHasATypedMethod calls, for every action of wire.Actions,
// the client method of that name with a nil request and checks its types,
// the action it sent, its service in the signature and the {} body.
func TestEveryActionHasATypedMethod(t *testing.T) {
	s := newServer(t)
	ctx := reflect.ValueOf(context.Background())
	cl := reflect.ValueOf(s.admin)
	errType := reflect.TypeFor[error]()
	for _, a := range wire.Actions() {
		t.Run(a.Name, func(t *testing.T) {
			m := cl.MethodByName(a.Name)
			if !m.IsValid() {
				t.Fatalf("no method Client.%s", a.Name)
			}
			mt := m.Type()
			if mt.NumIn() != 2 || mt.NumOut() != 2 || mt.Out(1) != errType ||
				mt.In(1).Elem().Name() != a.Name+"Request" || mt.Out(0).Elem().Name() != a.Name+"Response" ||
				mt.In(1).Elem().PkgPath() != "github.com/palisade-sg/palisade/wire" {
				t.Fatalf("Client.%s has type %v", a.Name, mt)
			}
			out := m.Call([]reflect.Value{ctx, reflect.Zero(mt.In(1))})
			if err, _ := out[1].Interface().(error); err != nil {
				var ce *client.Error
				if !errors.As(err, &ce) {
					t.Fatalf("Client.%s: %v, want success or an API error", a.Name, err)
				}
			}
			s.mu.Lock()
			scope, bodies := s.scopes[a.Name], s.bodies[a.Name]
			s.mu.Unlock()
			if len(bodies) != 1 || bodies[0] != "{}" {
				t.Errorf("Client.%s sent %q as %s, want one {} body", a.Name, bodies, a.Name)
			}
			if !strings.HasSuffix(scope, "/"+a.Service+"/tc3_request") {
				t.Errorf("Client.%s signed for scope %q, want service %s", a.Name, scope, a.Service)
			}
		})
	}
}

// The client signs X-TC-Action and a nonce, so the same body sent to two
// actions, or the same write sent twice, in one second has new signatures:
// the server's replay cache, which refuses a signature seen for another
// action or a write's seen before, answers every one. A captured request
// re-sent as it was is still refused.
func TestSameBodyToTwoActionsInOneSecond(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	at := time.Now()
	rec := &recorder{next: http.DefaultTransport}
	c := s.admin.WithClock(func() time.Time { return at }).WithHTTPClient(&http.Client{Transport: rec})
	created, err := c.CreateSecurityGroup(ctx, &wire.CreateSecurityGroupRequest{GroupName: wire.NewString("web"), GroupDescription: wire.NewString("")})
	if err != nil {
		t.Fatal(err)
	}
	id := created.SecurityGroup.SecurityGroupId
	body := []byte(`{"SecurityGroupId":"` + id + `"}`)
	if _, err := c.Call(ctx, wire.ServiceVPC, wire.Version, wire.ActionDescribeSecurityGroupPolicies, body); err != nil {
		t.Fatalf("describe: %v", err)
	}
	if _, err := c.Call(ctx, wire.ServiceVPC, wire.Version, wire.ActionDeleteSecurityGroup, body); err != nil {
		t.Errorf("delete with the describe's body in the same second: %v", err)
	}
	captured := rec.last
	// The same delete again is a new request: the group is gone.
	_, err = c.Call(ctx, wire.ServiceVPC, wire.Version, wire.ActionDeleteSecurityGroup, body)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "InvalidSecurityGroupID.NotFound" {
		t.Errorf("the same delete again = %v, want InvalidSecurityGroupID.NotFound", err)
	}
	// The captured delete, re-sent byte for byte, is a replay.
	res, err := http.DefaultTransport.RoundTrip(captured.Clone(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(raw), "AuthFailure.SignatureFailure") || !strings.Contains(string(raw), "replayed") {
		t.Errorf("the captured delete re-sent: %s, want a refused replay", raw)
	}
}

// recorder keeps the last request it sends, with its body.
type recorder struct {
	next http.RoundTripper
	last *http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	keep := req.Clone(req.Context())
	keep.Body = io.NopCloser(bytes.NewReader(body))
	keep.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.last = keep
	req.Body = io.NopCloser(bytes.NewReader(body))
	return r.next.RoundTrip(req)
}
