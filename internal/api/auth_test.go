package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// credService is a small fake of the service for the transport tests: it
// knows credentials, answers DescribeSecurityGroupLimits and records the
// DescribeSecurityGroups queries it receives. Every other method is the
// embedded nil interface and must not be reached.
type credService struct {
	Service
	creds map[string]service.Credential

	mu      sync.Mutex
	queries []service.GroupQuery
	callers []service.Caller
}

func (f *credService) LookupCredential(_ context.Context, id string) (service.Credential, error) {
	c, ok := f.creds[id]
	if !ok {
		return c, &service.Error{Kind: service.KindNotFound, Resource: service.ResourceCredential, ID: id}
	}
	return c, nil
}

func (f *credService) DescribeSecurityGroupLimits(_ context.Context, c service.Caller) (service.Quotas, error) {
	f.mu.Lock()
	f.callers = append(f.callers, c)
	f.mu.Unlock()
	return service.DefaultQuotas(), nil
}

func (f *credService) DescribeSecurityGroups(_ context.Context, c service.Caller, q service.GroupQuery) ([]service.SecurityGroup, int, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	return []service.SecurityGroup{{ID: "sg-1a2b3c4d", Name: "web", ProjectID: 3, CreatedTime: time.Unix(0, 0)}}, 1, nil
}

// DescribeSecurityGroupPropagation: no host's rules depend on the groups.
func (f *credService) DescribeSecurityGroupPropagation(_ context.Context, c service.Caller, ids []string) ([]service.GroupPropagation, error) {
	out := make([]service.GroupPropagation, len(ids))
	for i, id := range ids {
		out[i] = service.GroupPropagation{SecurityGroupID: id}
	}
	return out, nil
}

func (f *credService) CreateDefaultSecurityGroup(_ context.Context, c service.Caller, project int64) (service.SecurityGroup, error) {
	return service.SecurityGroup{ID: "sg-00000000", Name: "default", ProjectID: project, IsDefault: true}, nil
}

const (
	testID       = "AKIDadmin"
	testKey      = "admin-secret-key"
	testReadOnly = "AKIDreader"
)

func newCredServer(t *testing.T, clock func() time.Time) (*httptest.Server, *credService) {
	t.Helper()
	svc := &credService{creds: map[string]service.Credential{
		testID:       {SecretID: testID, SecretKey: testKey, AccountID: "acc-00000001", Role: service.RoleAdmin},
		testReadOnly: {SecretID: testReadOnly, SecretKey: "reader-key", AccountID: "acc-00000001", Role: service.RoleReadOnly},
	}}
	srv := httptest.NewServer(NewHandler(Options{Service: svc, Clock: clock, MaxBodyBytes: 4096, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv, svc
}

func sdkVPC(t *testing.T, srv *httptest.Server, id, key, method string) *vpc.Client {
	t.Helper()
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	prof.HttpProfile.Scheme = "http"
	prof.HttpProfile.ReqMethod = method
	c, err := vpc.NewClient(common.NewCredential(id, key), "ap-guangzhou", prof)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sdkCode(err error) string {
	var e *sdkerrors.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "non-API error: " + err.Error()
}

// TestRealSDKSignatureAccepted is the compatibility test of the signer: the
// official SDK's requests, POST and GET, pass Palisade's verifier, and the
// SDK decodes the answers.
func TestRealSDKSignatureAccepted(t *testing.T) {
	srv, svc := newCredServer(t, nil)
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			c := sdkVPC(t, srv, testID, testKey, method)
			res, err := c.DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest())
			if err != nil {
				t.Fatalf("DescribeSecurityGroupLimits: %v", err)
			}
			if got := *res.Response.SecurityGroupLimitSet.InstanceSecurityGroupLimit; got != 5 {
				t.Errorf("InstanceSecurityGroupLimit = %d, want 5", got)
			}
			if *res.Response.RequestId == "" {
				t.Error("no RequestId")
			}

			req := vpc.NewDescribeSecurityGroupsRequest()
			req.Filters = []*vpc.Filter{{Name: common.StringPtr("security-group-name"), Values: common.StringPtrs([]string{"web", "db"})}}
			req.Offset, req.Limit = common.StringPtr("5"), common.StringPtr("50")
			got, err := c.DescribeSecurityGroups(req)
			if err != nil {
				t.Fatalf("DescribeSecurityGroups: %v", err)
			}
			if g := got.Response.SecurityGroupSet[0]; *g.ProjectId != "3" || *g.SecurityGroupId != "sg-1a2b3c4d" || *g.CreatedTime != "1970-01-01 00:00:00" {
				t.Errorf("group = %s %s %s", *g.SecurityGroupId, *g.ProjectId, *g.CreatedTime)
			}
			q := svc.queries[len(svc.queries)-1]
			if q.Page != (service.Page{Offset: 5, Limit: 50}) || len(q.Filters) != 1 || q.Filters[0].Name != "security-group-name" ||
				strings.Join(q.Filters[0].Values, ",") != "web,db" {
				t.Errorf("query = %+v", q)
			}
		})
	}
	if c := svc.callers[0]; c.AccountID != "acc-00000001" || c.Region != "ap-guangzhou" || c.SecretID != testID || c.RequestID == "" {
		t.Errorf("caller = %+v", c)
	}
}

// TestClientAgainstServer: Palisade's own client signs as the verifier
// expects and decodes answers and errors.
func TestClientAgainstServer(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	c := client.New(srv.URL, testID, testKey, "ap-guangzhou")
	out, err := c.CreateDefaultSecurityGroup(context.Background(), &wire.CreateDefaultSecurityGroupRequest{ProjectId: wire.NewIntString(7)})
	if err != nil {
		t.Fatal(err)
	}
	if out.SecurityGroup.ProjectId != "7" || !out.SecurityGroup.IsDefault || out.RequestId == "" {
		t.Errorf("response = %+v", out)
	}
	_, err = c.Call(context.Background(), "vpc", "2017-03-12", "NoSuchAction", nil)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "InvalidAction" || ce.RequestID == "" {
		t.Errorf("NoSuchAction: %v", err)
	}
	bad := client.New(strings.TrimPrefix(srv.URL, "http://"), testID, "wrong", "")
	if _, err := bad.DescribeSecurityGroupLimits(context.Background(), nil); !errors.As(err, &ce) || ce.Code != codeSignatureFailure {
		t.Errorf("wrong key: %v", err)
	}
}

// TestAuthFailuresThroughSDK: wrong credentials and a skewed clock are
// refused with Tencent's codes, through the official SDK.
func TestAuthFailuresThroughSDK(t *testing.T) {
	tests := []struct {
		name     string
		id, key  string
		skew     time.Duration
		wantCode string
	}{
		{name: "unknown SecretId", id: "AKIDnobody", key: testKey, wantCode: "AuthFailure.SecretIdNotFound"},
		{name: "bad signature", id: testID, key: "not-the-key", wantCode: "AuthFailure.SignatureFailure"},
		{name: "timestamp 6 minutes old", id: testID, key: testKey, skew: 6 * time.Minute, wantCode: "AuthFailure.SignatureExpire"},
		{name: "timestamp 6 minutes ahead", id: testID, key: testKey, skew: -6 * time.Minute, wantCode: "AuthFailure.SignatureExpire"},
		{name: "timestamp 4 minutes old is fine", id: testID, key: testKey, skew: 4 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newCredServer(t, func() time.Time { return time.Now().Add(tt.skew) })
			for _, method := range []string{"POST", "GET"} {
				_, err := sdkVPC(t, srv, tt.id, tt.key, method).DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest())
				if got := sdkCode(err); got != tt.wantCode {
					t.Errorf("%s: code %q, want %q", method, got, tt.wantCode)
				}
			}
		})
	}
}

func TestReadOnlyCannotWrite(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	c := sdkVPC(t, srv, testReadOnly, "reader-key", "POST")
	if _, err := c.DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest()); err != nil {
		t.Fatalf("read with a readonly credential: %v", err)
	}
	// {} was signed for DescribeSecurityGroupLimits: sent for another
	// action within the same second it would be a replay.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 5*time.Millisecond)))
	_, err := c.CreateDefaultSecurityGroup(vpc.NewCreateDefaultSecurityGroupRequest())
	if got := sdkCode(err); got != "UnauthorizedOperation" {
		t.Errorf("write with a readonly credential: code %q, want UnauthorizedOperation", got)
	}
}

// rawCall sends a hand-built request and returns the envelope's code ("" on
// success) and the HTTP response.
func rawCall(t *testing.T, srv *httptest.Server, method, action, service, body string, mutate func(*http.Request)) (code, message string, res *http.Response) {
	t.Helper()
	r, _ := http.NewRequest(method, srv.URL+"/", strings.NewReader(body))
	r.Header.Set(client.HeaderAction, action)
	r.Header.Set(client.HeaderVersion, "2017-03-12")
	r.Header.Set(client.HeaderRegion, "ap-guangzhou")
	client.Sign(r, []byte(body), testID, testKey, service, time.Now())
	if mutate != nil {
		mutate(r)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var env struct {
		Response struct {
			Error     struct{ Code, Message string }
			RequestId string
		}
	}
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("response %q is not the envelope: %v", data, err)
	}
	if env.Response.RequestId == "" {
		t.Errorf("response %q has no RequestId", data)
	}
	return env.Response.Error.Code, env.Response.Error.Message, res
}

func TestEnvelopeErrors(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	tests := []struct {
		name, action, service, body string
		mutate                      func(*http.Request)
		want                        string
		msg                         string // in the message, when set
	}{
		{name: "success", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}"},
		{name: "unknown action", action: "DescribeEverything", service: "vpc", body: "{}", want: "InvalidAction"},
		{name: "no action", action: "", service: "vpc", body: "{}", want: "MissingParameter"},
		{name: "vpc action signed for cvm is served", action: "DescribeSecurityGroupLimits", service: "cvm", body: "{}"},
		{name: "other version", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}", want: "NoSuchVersion",
			mutate: func(r *http.Request) { r.Header.Set(client.HeaderVersion, "2099-01-01") }},
		{name: "body over the limit", action: "DescribeSecurityGroupLimits", service: "vpc", body: `{"x":"` + strings.Repeat("a", 5000) + `"}`, want: "InvalidParameterValue.LimitExceeded"},
		{name: "not JSON", action: "DescribeSecurityGroups", service: "vpc", body: "{", want: "InvalidParameter"},
		{name: "an array body", action: "DescribeSecurityGroups", service: "vpc", body: `[{"Limit":"5"}]`, want: "InvalidParameter", msg: "must be a JSON object"},
		{name: "a string body", action: "DescribeSecurityGroups", service: "vpc", body: `"Limit"`, want: "InvalidParameter"},
		{name: "a null body", action: "DescribeSecurityGroups", service: "vpc", body: `null`, want: "InvalidParameter"},
		{name: "trailing garbage", action: "DescribeSecurityGroups", service: "vpc", body: `{} {}`, want: "InvalidParameter", msg: "not valid JSON"},
		{name: "an object where a number belongs", action: "DescribeSecurityGroups", service: "vpc", body: `{"Limit":{"n":5}}`, want: "InvalidParameterValue.Malformed", msg: "Limit"},
		{name: "an object in a list of strings", action: "DescribeSecurityGroups", service: "vpc", body: `{"SecurityGroupIds":[{}]}`, want: "InvalidParameterValue.Malformed"},
		{name: "wrong JSON type names the field", action: "DescribeSecurityGroups", service: "vpc", body: `{"SecurityGroupIds":"sg-1a2b3c4d"}`, want: "InvalidParameterValue.Malformed"},
		{name: "no Authorization", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}", want: "AuthFailure.InvalidAuthorization",
			mutate: func(r *http.Request) { r.Header.Del("Authorization") }},
		{name: "other algorithm", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}", want: "AuthFailure.InvalidAuthorization",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "TC3-HMAC-SHA256", "HMAC-SHA1", 1))
			}},
		{name: "truncated credential", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}", want: "AuthFailure.InvalidAuthorization",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+testID+", SignedHeaders=content-type;host, Signature="+strings.Repeat("0", 64))
			}},
		{name: "scope date not the timestamp's", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}", want: "AuthFailure.SignatureFailure",
			mutate: func(r *http.Request) {
				today := client.ScopeDate(time.Now().Unix())
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), today, "2001-01-01", 1))
			}},
		{name: "body changed after signing", action: "DescribeSecurityGroups", service: "vpc", body: `{"Limit":"5"}`, want: "AuthFailure.SignatureFailure",
			mutate: func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{"Limit":"6"}`))
			}},
		{name: "timestamp not a number", action: "DescribeSecurityGroupLimits", service: "vpc", body: "{}", want: "AuthFailure.InvalidAuthorization",
			mutate: func(r *http.Request) { r.Header.Set(client.HeaderTimestamp, "yesterday") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg, res := rawCall(t, srv, "POST", tt.action, tt.service, tt.body, tt.mutate)
			if code != tt.want || !strings.Contains(msg, tt.msg) {
				t.Errorf("code %q (%s), want %q with %q", code, msg, tt.want, tt.msg)
			}
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("HTTP %d %s, want 200 application/json", res.StatusCode, res.Header.Get("Content-Type"))
			}
		})
	}
}

// TestSignedHeadersFromHeader: the verifier rebuilds canonical headers from
// SignedHeaders, as Tencent's documentation signs x-tc-action too.
func TestSignedHeadersFromHeader(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	body := "{}"
	r, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set(client.HeaderAction, "DescribeSecurityGroupLimits")
	r.Header.Set(client.HeaderVersion, "2017-03-12")
	ts := time.Now().Unix()
	r.Header.Set(client.HeaderTimestamp, strconv.FormatInt(ts, 10))
	host := strings.TrimPrefix(srv.URL, "http://")
	headers := "content-type:application/json; charset=utf-8\nhost:" + host + "\nx-tc-action:describesecuritygrouplimits\n"
	signed := "content-type;host;x-tc-action"
	date := client.ScopeDate(ts)
	scope := client.CredentialScope(date, "vpc")
	sig := client.Signature(client.SigningKey(testKey, date, "vpc"),
		client.StringToSign(ts, scope, client.CanonicalRequest("POST", "", headers, signed, client.HashHex([]byte(body)))))
	r.Header.Set("Authorization", client.Authorization(testID, scope, signed, sig))
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(data), `"Error"`) {
		t.Errorf("lower-cased signed x-tc-action refused: %s", data)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	rawCall(t, srv, "POST", "DescribeSecurityGroupLimits", "vpc", "{}", nil)
	rawCall(t, srv, "POST", "Bogus", "vpc", "{}", nil)
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, res)
	}
	res.Body.Close()
	res, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`palisade_api_requests_total{action="DescribeSecurityGroupLimits",code="OK"} 1`,
		`palisade_api_requests_total{action="unknown",code="InvalidAction"} 1`,
		`palisade_api_request_duration_seconds_bucket{action="DescribeSecurityGroupLimits"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestRequestLog: every request is logged once with its RequestId, action,
// account, code and duration.
func TestRequestLog(t *testing.T) {
	svc := &credService{creds: map[string]service.Credential{
		testID: {SecretID: testID, SecretKey: testKey, AccountID: "acc-00000001", Role: service.RoleAdmin},
	}}
	var buf syncBuffer
	srv := httptest.NewServer(NewHandler(Options{Service: svc, Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		NewRequestID: func() string { return "req-fixed" }}))
	defer srv.Close()
	rawCall(t, srv, "POST", "DescribeSecurityGroupLimits", "vpc", "{}", nil)
	rawCall(t, srv, "POST", "NoSuchThing", "vpc", "{}", nil)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2: %s", len(lines), buf.String())
	}
	for i, want := range []struct{ action, code string }{{"DescribeSecurityGroupLimits", "OK"}, {"NoSuchThing", "InvalidAction"}} {
		l := lines[i]
		if l["msg"] != "api request" || l["request_id"] != "req-fixed" || l["action"] != want.action || l["code"] != want.code ||
			l["account"] != "acc-00000001" || l["duration"] == nil {
			t.Errorf("log line %d = %v", i, l)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
