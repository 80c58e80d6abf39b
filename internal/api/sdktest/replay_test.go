package sdktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// nextSecond waits for the next second of the clock. TC3-HMAC-SHA256 has
// no nonce: a request with the same parameters as another, signed by the
// same credential for the same service in the same second, carries the
// same signature, and the server refuses it as a replay when either is a
// write or their actions differ. A client that means to send such a
// request again waits for the next second, as the tests here do.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond).Sub(now))
}

// captured is one request as the SDK sent it.
type captured struct {
	header http.Header
	body   []byte
}

// recorder is an SDK transport that keeps a copy of every request sent.
type recorder struct {
	mu   sync.Mutex
	reqs []captured
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, captured{header: r.Header.Clone(), body: body})
	rec.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(r)
}

func (rec *recorder) last() captured {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.reqs[len(rec.reqs)-1]
}

// recordedVPC returns an admin vpc client whose requests are recorded.
func (e *env) recordedVPC() (*vpc.Client, *recorder) {
	c := e.vpc()
	rec := &recorder{}
	c.WithHttpTransport(rec)
	return c, rec
}

// resend sends a captured request again, byte for byte, with X-TC-Action
// set to action, and returns the envelope's error code ("" on success).
func (e *env) resend(req captured, action string) string {
	e.t.Helper()
	r, err := http.NewRequest("POST", "http://"+e.endpoint+"/", bytes.NewReader(req.body))
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header = req.header.Clone()
	for k := range r.Header {
		if strings.EqualFold(k, "X-TC-Action") {
			delete(r.Header, k) // the SDK sets it as "X-TC-Action", not canonical
		}
	}
	r.Header.Set("X-TC-Action", action)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Response struct {
			Error struct{ Code, Message string }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		e.t.Fatal(err)
	}
	return env.Response.Error.Code
}

// TestReplayedWriteRefused: a captured DeleteSecurityGroupPolicies
// {PolicyIndex: 0} sent three times deletes one policy.
func TestReplayedWriteRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("web", []string{"ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 80 0.0.0.0/0", "ACCEPT TCP 443 0.0.0.0/0"}, nil)
	c, rec := e.recordedVPC()
	del := vpc.NewDeleteSecurityGroupPoliciesRequest()
	del.SecurityGroupId = &g
	del.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(0)}}}
	if _, err := c.DeleteSecurityGroupPolicies(del); err != nil {
		t.Fatalf("DeleteSecurityGroupPolicies: %v", err)
	}
	captured := rec.last()
	for i := range 2 {
		if got := e.resend(captured, "DeleteSecurityGroupPolicies"); got != "AuthFailure.SignatureFailure" {
			t.Errorf("replay %d: code %q, want AuthFailure.SignatureFailure", i+1, got)
		}
	}
	if got := compact(e.describe(e.vpc(), g).Ingress); !slices.Equal(got, []string{"ACCEPT TCP 80 0.0.0.0/0", "ACCEPT TCP 443 0.0.0.0/0"}) {
		t.Errorf("after one delete and two replays: %q, want one policy deleted", got)
	}
}

// TestReplayedReadAsWriteRefused: a captured DescribeSecurityGroupPolicies
// re-sent with X-TC-Action DeleteSecurityGroup is refused and the group
// stays; re-sent unchanged it is answered again, as SDK polling needs.
func TestReplayedReadAsWriteRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("web", []string{"ACCEPT TCP 22 10.0.0.0/8"}, nil)
	c, rec := e.recordedVPC()
	describe := vpc.NewDescribeSecurityGroupPoliciesRequest()
	describe.SecurityGroupId = &g
	if _, err := c.DescribeSecurityGroupPolicies(describe); err != nil {
		t.Fatal(err)
	}
	captured := rec.last()
	if got := e.resend(captured, "DeleteSecurityGroup"); got != "AuthFailure.SignatureFailure" {
		t.Errorf("the read's signature as DeleteSecurityGroup: code %q, want AuthFailure.SignatureFailure", got)
	}
	if got := e.resend(captured, "DescribeSecurityGroupPolicies"); got != "" {
		t.Errorf("the identical read again: code %q, want an answer", got)
	}
	// The SDK itself sending the identical read again, in the same second
	// or not, is answered.
	for i := range 3 {
		if _, err := c.DescribeSecurityGroupPolicies(describe); err != nil {
			t.Errorf("identical read %d: %v", i+2, err)
		}
	}
	list := vpc.NewDescribeSecurityGroupsRequest()
	list.SecurityGroupIds = []*string{&g}
	res, err := e.vpc().DescribeSecurityGroups(list)
	if err != nil || *res.Response.TotalCount != 1 {
		t.Errorf("the group after the replay: %v, %v", res, err)
	}
}
