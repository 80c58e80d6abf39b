package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/postgres"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

const (
	gz      = "ap-guangzhou"
	sh      = "ap-shanghai"
	version = "2017-03-12"
)

// cred is a SecretId/SecretKey pair.
type cred struct{ id, key string }

// env is a running Palisade: service over a SQLite file in a temporary
// directory (or a PostgreSQL database, see envStore), the API on 127.0.0.1, an admin account, a readonly credential
// of the same account, a second account, a platform key and a host.
type env struct {
	t        testing.TB
	svc      *service.Service
	endpoint string // 127.0.0.1:PORT
	dbPath   string // the SQLite file (unused on PostgreSQL)

	account  string
	admin    cred
	reader   cred
	other    cred // another account's admin
	platform cred
	host     cred // the host's agent credential
	hostID   string
}

type envOptions struct {
	clock             func() time.Time // the server's clock (default time.Now)
	platformAddresses []netip.Prefix
	quotas            service.Quotas
	logger            *slog.Logger
	store             sqlite.Options // durability, master key, size cap
	// busyTimeout is how long one transaction attempt waits for another
	// process's lock (default the store's).
	busyTimeout time.Duration
	// wrap, if set, wraps the store the service runs on.
	wrap func(store.Store) store.Store
}

// skipShort skips one of the long suites under -short, which runs a quick
// subset; the full run (and CI) runs every one.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a long suite: run without -short")
	}
}

// envStore names the environment variable that picks the store of the
// servers the suite starts: "sqlite" (the default) or "postgres", a fresh
// database for each server on the PostgreSQL server of
// PALISADE_TEST_POSTGRES. The tests that need SQLite's own options (its
// size cap, its lock timeout) run on SQLite either way.
const envStore = "PALISADE_TEST_SDK_STORE"

// openStore opens the store of a server: SQLite at path, or PostgreSQL
// when envStore says so and opts ask for nothing SQLite's own.
func openStore(t testing.TB, path string, opts envOptions) store.Store {
	t.Helper()
	so := opts.store
	if opts.busyTimeout > 0 {
		so.BusyTimeout = opts.busyTimeout
	}
	var st store.Store
	var err error
	switch kind := os.Getenv(envStore); {
	case kind == "postgres" && so == (sqlite.Options{}):
		st, err = postgres.Open(pgtest.DSN(t), postgres.Options{MasterKeyFile: filepath.Join(t.TempDir(), "master.key")})
	case kind == "" || kind == "sqlite" || kind == "postgres":
		st, err = sqlite.OpenWith(path, so)
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", envStore, kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "palisade.db")
	st := openStore(t, path, opts)
	if opts.wrap != nil {
		st = opts.wrap(st)
	}
	svc := service.New(st, service.Options{Quotas: opts.quotas})
	for _, p := range opts.platformAddresses {
		if err := svc.AddPlatformAddress(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	logger := opts.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := httptest.NewUnstartedServer(api.NewHandler(api.Options{Service: svc, Logger: logger, Clock: opts.clock}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	e := &env{t: t, svc: svc, endpoint: strings.TrimPrefix(srv.URL, "http://"), dbPath: path}
	a, err := svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	e.account, e.admin = a.AccountID, cred{a.SecretID, a.SecretKey}
	r, err := svc.CreateCredential(ctx, a.AccountID, service.RoleReadOnly)
	if err != nil {
		t.Fatalf("create readonly credential: %v", err)
	}
	e.reader = cred{r.SecretID, r.SecretKey}
	b, err := svc.CreateAccount(ctx, "bob")
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	e.other = cred{b.SecretID, b.SecretKey}
	p, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatalf("create platform key: %v", err)
	}
	e.platform = cred{p.SecretID, p.SecretKey}
	h, err := svc.CreateHost(ctx, "host-a")
	if err != nil {
		t.Fatalf("create host: %v", err)
	}
	e.hostID, e.host = h.HostID, cred{h.SecretID, h.SecretKey}
	if opts.quotas != (service.Quotas{}) {
		if _, err := svc.SetQuotas(ctx, a.AccountID, opts.quotas); err != nil {
			t.Fatalf("set quotas: %v", err)
		}
	}
	return e
}

func (e *env) profile() *profile.ClientProfile {
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = e.endpoint
	p.HttpProfile.Scheme = "http"
	return p
}

// vpcAs returns an SDK vpc client for c in region.
func (e *env) vpcAs(c cred, region string) *vpc.Client {
	e.t.Helper()
	cl, err := vpc.NewClient(common.NewCredential(c.id, c.key), region, e.profile())
	if err != nil {
		e.t.Fatal(err)
	}
	return cl
}

// cvmAs returns an SDK cvm client for c in region.
func (e *env) cvmAs(c cred, region string) *cvm.Client {
	e.t.Helper()
	cl, err := cvm.NewClient(common.NewCredential(c.id, c.key), region, e.profile())
	if err != nil {
		e.t.Fatal(err)
	}
	return cl
}

// vpc and cvm are the admin's clients in Guangzhou.
func (e *env) vpc() *vpc.Client { return e.vpcAs(e.admin, gz) }
func (e *env) cvm() *cvm.Client { return e.cvmAs(e.admin, gz) }

// call sends any action through the SDK's common client, signed for
// service, and decodes the Response object into out (may be nil).
func (e *env) call(c cred, region, service, action string, params map[string]any, out any) error {
	e.t.Helper()
	return e.callAt(c, region, service, version, action, params, out)
}

// callAt is call at an API version of the caller's choosing.
func (e *env) callAt(c cred, region, service, version, action string, params map[string]any, out any) error {
	e.t.Helper()
	cl := common.NewCommonClient(common.NewCredential(c.id, c.key), region, e.profile())
	req := tchttp.NewCommonRequest(service, version, action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		e.t.Fatal(err)
	}
	res := tchttp.NewCommonResponse()
	if err := cl.Send(req, res); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(res.GetBody(), &env); err != nil {
		e.t.Fatalf("%s: %v", action, err)
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		e.t.Fatalf("%s: decode %s: %v", action, env.Response, err)
	}
	return nil
}

// instance describes one instance to register.
type instance struct {
	name, os, zone string
	ip             string
	ipv6           string // optional
	project        int64
}

// register registers instances of the admin's account in region through
// RegisterInstances with the platform key.
func (e *env) register(region string, ins ...instance) []string {
	e.t.Helper()
	return e.registerFor(e.account, region, ins...)
}

func (e *env) registerFor(account, region string, ins ...instance) []string {
	e.t.Helper()
	list := make([]map[string]any, len(ins))
	for i, in := range ins {
		zone := in.zone
		if zone == "" {
			zone = region + "-4"
		}
		os := in.os
		if os == "" {
			os = "linux"
		}
		list[i] = map[string]any{
			"InstanceName": in.name, "OsType": os, "Zone": zone, "ProjectId": in.project,
			"PrivateIpAddresses": []string{in.ip}, "HostId": e.hostID, "Interface": "tap" + in.name,
		}
		if in.ipv6 != "" {
			list[i]["Ipv6Addresses"] = []string{in.ipv6}
		}
	}
	var out struct{ InstanceIdSet []string }
	if err := e.call(e.platform, region, "palisade", "RegisterInstances", map[string]any{"AccountId": account, "Instances": list}, &out); err != nil {
		e.t.Fatalf("RegisterInstances: %v", err)
	}
	if len(out.InstanceIdSet) != len(ins) {
		e.t.Fatalf("RegisterInstances returned %v", out.InstanceIdSet)
	}
	return out.InstanceIdSet
}

// group creates a group in Guangzhou with the given ingress and egress
// policies ("ACCEPT TCP 22 0.0.0.0/0" compact form) and returns its id.
func (e *env) group(name string, ingress, egress []string) string {
	e.t.Helper()
	return e.groupIn(e.admin, gz, name, ingress, egress)
}

func (e *env) groupIn(c cred, region, name string, ingress, egress []string) string {
	e.t.Helper()
	req := vpc.NewCreateSecurityGroupRequest()
	req.GroupName, req.GroupDescription = common.StringPtr(name), common.StringPtr("")
	res, err := e.vpcAs(c, region).CreateSecurityGroup(req)
	if err != nil {
		e.t.Fatalf("CreateSecurityGroup %s: %v", name, err)
	}
	id := *res.Response.SecurityGroup.SecurityGroupId
	for _, d := range []struct {
		list []string
		set  func(*vpc.SecurityGroupPolicySet, []*vpc.SecurityGroupPolicy)
	}{
		{ingress, func(s *vpc.SecurityGroupPolicySet, p []*vpc.SecurityGroupPolicy) { s.Ingress = p }},
		{egress, func(s *vpc.SecurityGroupPolicySet, p []*vpc.SecurityGroupPolicy) { s.Egress = p }},
	} {
		if len(d.list) == 0 {
			continue
		}
		req := vpc.NewCreateSecurityGroupPoliciesRequest()
		req.SecurityGroupId = &id
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{}
		d.set(req.SecurityGroupPolicySet, policies(d.list...))
		if _, err := e.vpcAs(c, region).CreateSecurityGroupPolicies(req); err != nil {
			e.t.Fatalf("CreateSecurityGroupPolicies %s %v: %v", name, d.list, err)
		}
	}
	return id
}

// policies turns compact "ACTION PROTO PORT PEER [# desc]" strings into SDK
// policies. PEER is a CIDR, an IPv6 CIDR (contains ':'), sg-, ipm-, ipmg-;
// PROTO may be ppm-/ppmg- (then PORT is omitted).
func policies(specs ...string) []*vpc.SecurityGroupPolicy {
	out := make([]*vpc.SecurityGroupPolicy, len(specs))
	for i, s := range specs {
		out[i] = pol(s)
	}
	return out
}

func pol(spec string) *vpc.SecurityGroupPolicy {
	body, desc, _ := strings.Cut(spec, " # ")
	f := strings.Fields(body)
	p := &vpc.SecurityGroupPolicy{Action: common.StringPtr(f[0]), PolicyDescription: common.StringPtr(desc)}
	peer := f[len(f)-1]
	if strings.HasPrefix(f[1], "ppm") {
		if strings.HasPrefix(f[1], "ppmg-") {
			p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceGroupId: common.StringPtr(f[1])}
		} else {
			p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: common.StringPtr(f[1])}
		}
	} else {
		p.Protocol, p.Port = common.StringPtr(f[1]), common.StringPtr(f[2])
	}
	switch {
	case strings.HasPrefix(peer, "sg-"):
		p.SecurityGroupId = common.StringPtr(peer)
	case strings.HasPrefix(peer, "ipmg-"):
		p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressGroupId: common.StringPtr(peer)}
	case strings.HasPrefix(peer, "ipm-"):
		p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressId: common.StringPtr(peer)}
	case strings.Contains(peer, ":"):
		p.Ipv6CidrBlock = common.StringPtr(peer)
	default:
		p.CidrBlock = common.StringPtr(peer)
	}
	return p
}

// describe returns a group's policy set through the SDK.
func (e *env) describe(c *vpc.Client, id string) *vpc.SecurityGroupPolicySet {
	e.t.Helper()
	req := vpc.NewDescribeSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &id
	res, err := c.DescribeSecurityGroupPolicies(req)
	if err != nil {
		e.t.Fatalf("DescribeSecurityGroupPolicies %s: %v", id, err)
	}
	return res.Response.SecurityGroupPolicySet
}

// compact renders a described direction in the compact form of pol.
func compact(ps []*vpc.SecurityGroupPolicy) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		svc := *p.Protocol + " " + *p.Port
		if id := *p.ServiceTemplate.ServiceId + *p.ServiceTemplate.ServiceGroupId; id != "" {
			svc = id
		}
		peer := *p.CidrBlock + *p.Ipv6CidrBlock + *p.SecurityGroupId + *p.AddressTemplate.AddressId + *p.AddressTemplate.AddressGroupId
		s := *p.Action + " " + svc + " " + peer
		if *p.PolicyDescription != "" {
			s += " # " + *p.PolicyDescription
		}
		out[i] = s
	}
	return out
}

// bind sets an instance's ordered groups with ModifyInstancesAttribute.
func (e *env) bind(instanceID string, groups ...string) {
	e.t.Helper()
	req := cvm.NewModifyInstancesAttributeRequest()
	req.InstanceIds = common.StringPtrs([]string{instanceID})
	req.SecurityGroups = common.StringPtrs(groups)
	if _, err := e.cvm().ModifyInstancesAttribute(req); err != nil {
		e.t.Fatalf("ModifyInstancesAttribute %s %v: %v", instanceID, groups, err)
	}
}

// verdict is SimulateTraffic's answer.
type verdict struct {
	Verdict         string
	Layer           string
	SecurityGroupId string
	PolicyIndex     *int
	Trace           []string
	Warnings        []string
}

// simulate asks SimulateTraffic as the admin in Guangzhou.
func (e *env) simulate(instanceID, dir, proto, addr string, port int) verdict {
	e.t.Helper()
	var v verdict
	err := e.call(e.admin, gz, "palisade", "SimulateTraffic", map[string]any{
		"InstanceId": instanceID, "Direction": dir, "Protocol": proto, "Address": addr, "Port": port,
	}, &v)
	if err != nil {
		e.t.Fatalf("SimulateTraffic %s %s %s %s:%d: %v", instanceID, dir, proto, addr, port, err)
	}
	return v
}

// code returns the Tencent error code of err ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	var e *sdkerrors.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return "not an API error: " + err.Error()
}

// message returns the error message of err.
func message(err error) string {
	var e *sdkerrors.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

func wantCode(t testing.TB, what string, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Errorf("%s: code %q (%s), want %q", what, got, message(err), want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// mustCommonRequest builds a Palisade action request for the SDK's common
// path; params is the JSON body.
func mustCommonRequest(action, params string) *tchttp.CommonRequest {
	req := tchttp.NewCommonRequest("vpc", version, action)
	if err := req.SetActionParameters(params); err != nil {
		panic(err)
	}
	return req
}

func newCommonResponse() *tchttp.CommonResponse { return tchttp.NewCommonResponse() }
