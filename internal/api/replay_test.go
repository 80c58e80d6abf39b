package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
)

func sig(n int) string { return fmt.Sprintf("%064x", n) }

func TestReplayCacheDecisions(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix()
	type send struct {
		sig    string
		action string
		write  bool
		want   string // "" accepted, else a part of the message
	}
	tests := []struct {
		name  string
		sends []send
	}{
		{name: "an identical read is answered again", sends: []send{
			{sig(1), "DescribeSecurityGroupPolicies", false, ""},
			{sig(1), "DescribeSecurityGroupPolicies", false, ""},
			{sig(1), "DescribeSecurityGroupPolicies", false, ""},
		}},
		{name: "a read's signature is refused for a write", sends: []send{
			{sig(1), "DescribeSecurityGroupPolicies", false, ""},
			{sig(1), "DeleteSecurityGroup", true, "accepted for DescribeSecurityGroupPolicies and is refused for DeleteSecurityGroup"},
			{sig(1), "DescribeSecurityGroupPolicies", false, ""},
		}},
		{name: "a read's signature is refused for another read", sends: []send{
			{sig(1), "DescribeAddressTemplates", false, ""},
			{sig(1), "DescribeServiceTemplates", false, "refused for DescribeServiceTemplates"},
		}},
		{name: "a write's signature is accepted once", sends: []send{
			{sig(2), "DeleteSecurityGroupPolicies", true, ""},
			{sig(2), "DeleteSecurityGroupPolicies", true, "accepted once already"},
			{sig(2), "DeleteSecurityGroupPolicies", true, "accepted once already"},
			{sig(2), "DescribeSecurityGroups", false, "accepted for DeleteSecurityGroupPolicies"},
		}},
		{name: "distinct signatures are independent", sends: []send{
			{sig(3), "CreateSecurityGroup", true, ""},
			{sig(4), "CreateSecurityGroup", true, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newReplayCache(100)
			for i, s := range tt.sends {
				err := c.check(s.sig, ts, s.action, s.write, now)
				switch {
				case s.want == "" && err != nil:
					t.Errorf("send %d %s: %v, want accepted", i, s.action, err)
				case s.want != "" && (err == nil || !strings.Contains(err.Error(), s.want) ||
					!strings.HasPrefix(err.Error(), codeReplayedSignature+": replayed signature")):
					t.Errorf("send %d %s: %v, want a replay naming %q", i, s.action, err, s.want)
				}
			}
		})
	}
}

// TestReplayCacheBounded: the cache never holds more than its cap; entries
// leave with the timestamp window; when full, the oldest second goes and
// requests stamped with it or earlier are refused, never let through.
func TestReplayCacheBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newReplayCache(10)
	for i := range 10 {
		if err := c.check(sig(i), now.Unix()-5+int64(i/2), "CreateSecurityGroup", true, now); err != nil {
			t.Fatal(err)
		}
	}
	if c.len() != 10 {
		t.Fatalf("len = %d, want 10", c.len())
	}
	// Full: the eleventh evicts the oldest second (two entries, ts-5).
	if err := c.check(sig(100), now.Unix(), "CreateSecurityGroup", true, now); err != nil {
		t.Fatalf("eleventh: %v", err)
	}
	if got := c.len(); got != 9 {
		t.Errorf("len after eviction = %d, want 9", got)
	}
	// A replay of an evicted signature is refused by the floor.
	err := c.check(sig(0), now.Unix()-5, "CreateSecurityGroup", true, now)
	if err == nil || !strings.HasPrefix(err.Error(), codeSignatureExpire) {
		t.Errorf("replay of an evicted signature: %v, want %s", err, codeSignatureExpire)
	}
	// A remembered one is still a replay.
	if err := c.check(sig(9), now.Unix()-1, "CreateSecurityGroup", true, now); err == nil || !strings.Contains(err.Error(), "replayed") {
		t.Errorf("replay of a remembered signature: %v", err)
	}
	for i := range 1000 {
		c.check(sig(1000+i), now.Unix(), "DescribeSecurityGroups", false, now)
		if c.len() > 10 {
			t.Fatalf("len = %d over the cap of 10", c.len())
		}
	}
	// Past the window every entry is gone.
	later := now.Add(maxClockSkew + 2*time.Second)
	if err := c.check(sig(5000), later.Unix(), "CreateSecurityGroup", true, later); err != nil {
		t.Fatal(err)
	}
	if got := c.len(); got != 1 {
		t.Errorf("len after the window = %d, want 1", got)
	}
}

// nodeRequest builds a request exactly as the Node.js SDK 4.1 does for
// http://HOST/ with TC3-HMAC-SHA256: Host is sent with its port, the
// signature covers the hostname alone, and the credential scope's service
// is the endpoint's first DNS label ("127" for 127.0.0.1:PORT).
func nodeRequest(t *testing.T, srv *httptest.Server, action, body, id, key string, ts int64) *http.Request {
	t.Helper()
	host := strings.TrimPrefix(srv.URL, "http://")
	hostname, _, _ := strings.Cut(host, ":")
	svc, _, _ := strings.Cut(host, ".")
	r, err := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(client.HeaderAction, action)
	r.Header.Set(client.HeaderRegion, "ap-guangzhou")
	r.Header.Set(client.HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(client.HeaderVersion, "2017-03-12")
	r.Header.Set("X-TC-RequestClient", "SDK_NODEJS_4.1.313")
	date := client.ScopeDate(ts)
	scope := client.CredentialScope(date, svc)
	canonical := client.CanonicalRequest("POST", "", "content-type:application/json\nhost:"+hostname+"\n", "content-type;host", client.HashHex([]byte(body)))
	signature := client.Signature(client.SigningKey(key, date, svc), client.StringToSign(ts, scope, canonical))
	r.Header.Set("Authorization", client.Authorization(id, scope, "content-type;host", signature))
	return r
}

func envelopeCode(t *testing.T, r *http.Request) string {
	t.Helper()
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Response struct {
			Error     struct{ Code, Message string }
			RequestId string
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env.Response.Error.Code
}

// TestNodeSDKRequestShape: a request as the Node.js SDK sends it to
// 127.0.0.1:PORT is answered; the fallbacks do not weaken verification.
func TestNodeSDKRequestShape(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	ts := time.Now().Unix()
	tests := []struct {
		name   string
		mutate func(r *http.Request)
		want   string
	}{
		{name: "as the Node SDK sends it"},
		{name: "another hostname in Host", want: codeSignatureFailure, mutate: func(r *http.Request) {
			_, port, _ := strings.Cut(r.Host, ":")
			r.Host = "127.0.0.2:" + port
		}},
		{name: "scope service changed after signing", want: codeSignatureFailure, mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/127/", "/vpc/", 1))
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A distinct body per row keeps the signatures apart.
			r := nodeRequest(t, srv, "DescribeSecurityGroupLimits", fmt.Sprintf(`{"Row":%d}`, i), testID, testKey, ts)
			if tt.mutate != nil {
				tt.mutate(r)
			}
			if got := envelopeCode(t, r); got != tt.want {
				t.Errorf("code %q, want %q", got, tt.want)
			}
		})
	}
	// A write (CreateDefaultSecurityGroup) signed for service "127".
	if got := envelopeCode(t, nodeRequest(t, srv, "CreateDefaultSecurityGroup", "{}", testID, testKey, ts)); got != "" {
		t.Errorf("CreateDefaultSecurityGroup as the Node SDK sends it: code %q", got)
	}
}

func TestHostWithoutPort(t *testing.T) {
	tests := []struct {
		host, want string
		ok         bool
	}{
		{"127.0.0.1:7480", "127.0.0.1", true},
		{"palisade.example:443", "palisade.example", true},
		{"[::1]:7480", "[::1]", true},
		{"127.0.0.1", "127.0.0.1", false},
		{"[::1]", "[::1]", false},
		{"::1", "::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, ok := hostWithoutPort(tt.host)
			if got != tt.want || ok != tt.ok {
				t.Errorf("hostWithoutPort(%q) = %q, %v, want %q, %v", tt.host, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestFailedSignatureLogsSecretID: the request log names the SecretId that
// was tried, and no account, when its signature fails.
func TestFailedSignatureLogsSecretID(t *testing.T) {
	svc := &credService{creds: map[string]service.Credential{
		testID: {SecretID: testID, SecretKey: testKey, AccountID: "acc-00000001", Role: service.RoleAdmin},
	}}
	var buf syncBuffer
	srv := httptest.NewServer(NewHandler(Options{Service: svc, Logger: slog.New(slog.NewJSONHandler(&buf, nil))}))
	defer srv.Close()
	code, _, _ := rawCall(t, srv, "POST", "DescribeSecurityGroupLimits", "vpc", "{}", func(r *http.Request) {
		client.Sign(r, []byte("{}"), testID, "not-the-key", "vpc", time.Now())
	})
	if code != codeSignatureFailure {
		t.Fatalf("code %q, want %s", code, codeSignatureFailure)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["secret_id"] != testID || line["account"] != "" || line["code"] != codeSignatureFailure {
		t.Errorf("log line = %v, want secret_id %s, no account, code %s", line, testID, codeSignatureFailure)
	}
}

// TestActionsReadOrWrite: the read/write flag of the action table, which
// the replay cache and the readonly role rely on, says what the name says:
// Describe…, SimulateTraffic, CheckReachability,
// PreviewSecurityGroupChange and WatchHostState read, everything else
// writes.
func TestActionsReadOrWrite(t *testing.T) {
	reads := map[string]bool{"SimulateTraffic": true, "CheckReachability": true, "PreviewSecurityGroupChange": true, "WatchHostState": true}
	for name, a := range actions() {
		wantWrite := !strings.HasPrefix(name, "Describe") && !reads[name]
		if a.write != wantWrite {
			t.Errorf("%s: write = %v, want %v", name, a.write, wantWrite)
		}
	}
}

// TestSignedActionIsNoReplay: a client that signs x-tc-action sends the
// same body to two actions in the same second without either being taken
// for a replay; the same signature for another action still fails.
func TestSignedActionIsNoReplay(t *testing.T) {
	srv, _ := newCredServer(t, nil)
	ts := time.Now().Unix()
	host := strings.TrimPrefix(srv.URL, "http://")
	signed := func(action, sentAction string) *http.Request {
		r, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("{}"))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(client.HeaderAction, sentAction)
		r.Header.Set(client.HeaderVersion, "2017-03-12")
		r.Header.Set(client.HeaderRegion, "ap-guangzhou")
		r.Header.Set(client.HeaderTimestamp, strconv.FormatInt(ts, 10))
		headers := "content-type:application/json\nhost:" + host + "\nx-tc-action:" + strings.ToLower(action) + "\n"
		names := "content-type;host;x-tc-action"
		date := client.ScopeDate(ts)
		scope := client.CredentialScope(date, "vpc")
		sig := client.Signature(client.SigningKey(testKey, date, "vpc"),
			client.StringToSign(ts, scope, client.CanonicalRequest("POST", "", headers, names, client.HashHex([]byte("{}")))))
		r.Header.Set("Authorization", client.Authorization(testID, scope, names, sig))
		return r
	}
	for _, action := range []string{"DescribeSecurityGroupLimits", "CreateDefaultSecurityGroup"} {
		if got := envelopeCode(t, signed(action, action)); got != "" {
			t.Errorf("%s with x-tc-action signed: code %q, want an answer", action, got)
		}
	}
	if got := envelopeCode(t, signed("DescribeSecurityGroupLimits", "CreateDefaultSecurityGroup")); got != codeSignatureFailure {
		t.Errorf("a signed x-tc-action changed: code %q, want %s", got, codeSignatureFailure)
	}
}
